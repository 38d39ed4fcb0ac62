// stop_strings.h: OpenAI's `stop` - end the answer where any of the stop
// strings first appears, leaving it out. Text arrives a token at a time, so
// text that could be the start of a stop string is held back until the next
// tokens show whether it is one.
#pragma once
#include <string>
#include <vector>

namespace es::server {

class StopStringFilter {
public:
    explicit StopStringFilter(std::vector<std::string> stops = {});
    // Feeds the next piece of answer text; returns the text that can be sent
    // now. After a stop string completes, stopped() is true and everything
    // from the stop string on is dropped.
    std::string feed(const std::string& text);
    // At the end of the answer: the held-back text (it was no stop string).
    std::string flush();
    bool stopped() const { return stopped_; }
    bool holding() const { return !held_.empty(); }

private:
    std::vector<std::string> stops_;
    std::string held_;
    bool stopped_ = false;
};

}  // namespace es::server
