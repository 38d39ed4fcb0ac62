// text_fit.cpp: see text_fit.h.
#include "text_fit.h"

#include <imgui.h>

#include <cstring>
#include <vector>

namespace esui {

static float text_width(const std::string& s) { return ImGui::CalcTextSize(s.c_str()).x; }

std::string ellipsize(const char* text, float max_width) {
    const std::string full = text ? text : "";
    if (text_width(full) <= max_width) return full;
    static const char* kDots = "...";
    // Byte offsets where a UTF-8 character starts (continuation bytes are 10xxxxxx).
    std::vector<size_t> starts;
    for (size_t i = 0; i < full.size(); ++i)
        if ((static_cast<unsigned char>(full[i]) & 0xC0) != 0x80) starts.push_back(i);
    const size_t n = starts.size();
    auto shortened = [&](size_t keep) {  // `keep` characters: the first half and the last
        const size_t head = (keep + 1) / 2, tail = keep / 2;
        const size_t head_end = head < n ? starts[head] : full.size();
        const size_t tail_begin = tail > 0 ? starts[n - tail] : full.size();
        return full.substr(0, head_end) + kDots + full.substr(tail_begin);
    };
    size_t lo = 0, hi = n > 0 ? n - 1 : 0;  // the most characters that fit lies in [lo, hi]
    while (lo < hi) {
        const size_t mid = (lo + hi + 1) / 2;
        if (text_width(shortened(mid)) <= max_width) lo = mid;
        else hi = mid - 1;
    }
    return shortened(lo);
}

void tooltip_if_shortened(const char* full, const std::string& shown) {
    if (shown != (full ? full : "") && ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
        ImGui::SetTooltip("%s", full);
}

bool text_ellipsized(const char* text, float max_width, bool disabled) {
    if (max_width <= 0) max_width = ImGui::GetContentRegionAvail().x;
    const std::string shown = ellipsize(text, max_width);
    if (disabled) ImGui::TextDisabled("%s", shown.c_str());
    else ImGui::TextUnformatted(shown.c_str());
    tooltip_if_shortened(text, shown);
    return shown != (text ? text : "");
}

}  // namespace esui
