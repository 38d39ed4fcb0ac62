// stop_strings.cpp: see stop_strings.h.
#include "inference/stop_strings.h"

#include <algorithm>

namespace es::server {

EngineStopFilter::EngineStopFilter(std::vector<std::string> stops) {
    for (auto& s : stops)
        if (!s.empty()) stops_.push_back(std::move(s));
}

std::string EngineStopFilter::push(const std::string& delta) {
    if (stopped_) return {};
    held_ += delta;
    size_t first = std::string::npos;
    for (const auto& s : stops_) first = std::min(first, held_.find(s));
    std::string out;
    if (first != std::string::npos) {
        out = held_.substr(0, first);
        held_.clear();
        stopped_ = true;
    } else {
        // Hold back the longest tail that begins some stop string.
        size_t keep = 0;
        for (const auto& s : stops_)
            for (size_t k = std::min(s.size() - 1, held_.size()); k > keep; --k)
                if (held_.compare(held_.size() - k, k, s, 0, k) == 0) {
                    keep = k;
                    break;
                }
        out = held_.substr(0, held_.size() - keep);
        held_.erase(0, held_.size() - keep);
    }
    shown_ += out;
    return out;
}

std::string EngineStopFilter::flush() {
    std::string out;
    if (!stopped_) out.swap(held_);
    shown_ += out;
    return out;
}

}  // namespace es::server
