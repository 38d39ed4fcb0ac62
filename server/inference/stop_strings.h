// stop_strings.h: OpenAI's `stop` for a stream of text. Text that might be
// the start of a stop string is held back until it is clear it is not; when a
// stop string appears, the text before it is the last shown and the stop
// string itself never is. Input deltas must be whole UTF-8 characters
// (es::TextStream's); what comes out is then whole characters too.
#pragma once
#include <string>
#include <vector>

namespace es::server {

class EngineStopFilter {
public:
    explicit EngineStopFilter(std::vector<std::string> stops = {});
    // Adds generated text; returns the part that can be shown now.
    std::string push(const std::string& delta);
    // The end of the answer (not by a stop string): the held-back text.
    std::string flush();
    bool stopped() const { return stopped_; }
    // Everything shown so far.
    const std::string& shown() const { return shown_; }

private:
    std::vector<std::string> stops_;
    std::string held_, shown_;
    bool stopped_ = false;
};

}  // namespace es::server
