// stop_strings.cpp: see stop_strings.h.
#include "api/stop_strings.h"

#include <algorithm>

namespace es::server {

StopStringFilter::StopStringFilter(std::vector<std::string> stops) {
    for (auto& s : stops)
        if (!s.empty()) stops_.push_back(std::move(s));
}

std::string StopStringFilter::feed(const std::string& text) {
    if (stopped_) return "";
    if (stops_.empty()) return text;
    held_ += text;
    // The earliest complete stop string ends the answer.
    size_t first = std::string::npos;
    for (const auto& s : stops_) first = std::min(first, held_.find(s));
    if (first != std::string::npos) {
        std::string out = held_.substr(0, first);
        held_.clear();
        stopped_ = true;
        return out;
    }
    // Hold back the longest tail that is the beginning of some stop string.
    size_t keep = 0;
    for (const auto& s : stops_)
        for (size_t n = std::min(s.size() - 1, held_.size()); n > keep; --n)
            if (held_.compare(held_.size() - n, n, s, 0, n) == 0) {
                keep = n;
                break;
            }
    std::string out = held_.substr(0, held_.size() - keep);
    held_.erase(0, held_.size() - keep);
    return out;
}

std::string StopStringFilter::flush() {
    std::string out;
    out.swap(held_);
    return stopped_ ? "" : out;
}

}  // namespace es::server
