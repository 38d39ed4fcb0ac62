// panel_messages.cpp: errors and notices as banners stacked at the top of the
// viewer (never over the toolbar, side panel or status bar), and the hint
// shown when nothing is open. Each banner: the plain words first, a "Details"
// toggle for the technical text (with Copy), a close button. The newest few
// are shown; the rest are summed up as "+K more" (all are in the side panel's
// log).
#include <imgui.h>
#include <imgui_internal.h>

#include <algorithm>
#include <cfloat>
#include <cstring>
#include <string>
#include <vector>

#include "app.h"

namespace esui {

static const ImVec4 kErrorBg(0.40f, 0.07f, 0.07f, 1.0f);
static const ImVec4 kNoticeBg(0.30f, 0.24f, 0.05f, 1.0f);
static const ImVec4 kMoreBg(0.16f, 0.16f, 0.18f, 1.0f);
constexpr ImGuiWindowFlags kBannerFlags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
    ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoFocusOnAppearing;

// The widest stretch across the top of the viewer that no other window
// (a floating tool palette, the Assistant) lies over, so banners never cover
// their buttons. The whole width when nothing floats there or the stretch
// would be too narrow to read.
static void free_stretch(const Rect& v, float band_h, float& x0, float& x1) {
    x0 = v.x;
    x1 = v.x + v.w;
    ImGuiContext* g = ImGui::GetCurrentContext();
    if (!g) return;
    std::vector<std::pair<float, float>> blocked;
    for (ImGuiWindow* w : g->Windows) {
        if (!w->Active || w->Hidden || w->IsFallbackWindow) continue;
        if (w->Flags & (ImGuiWindowFlags_ChildWindow | ImGuiWindowFlags_Tooltip | ImGuiWindowFlags_Popup)) continue;
        if (std::strncmp(w->Name, "##message", 9) == 0 || std::strcmp(w->Name, "##region_catcher") == 0) continue;
        if (w->Pos.y >= v.y + band_h || w->Pos.y + w->Size.y <= v.y) continue;
        if (w->Pos.x >= v.x + v.w || w->Pos.x + w->Size.x <= v.x) continue;
        blocked.push_back({w->Pos.x, w->Pos.x + w->Size.x});
    }
    if (blocked.empty()) return;
    std::sort(blocked.begin(), blocked.end());
    float best0 = 0, best1 = 0, at = v.x;
    for (const auto& [b0, b1] : blocked) {
        if (b0 - at > best1 - best0) best0 = at, best1 = b0;
        at = std::max(at, b1);
    }
    if (v.x + v.w - at > best1 - best0) best0 = at, best1 = v.x + v.w;
    if (best1 - best0 >= 260.0f) {
        x0 = best0;
        x1 = best1;
    }
}

// One banner; returns its height. Its controls are recorded under the
// message's index in Messages::all (message_close_<index>, ...), which stays
// the same while banners above it come and go.
static float draw_banner(App& a, Message& m, int slot, int index, float x, float y, float w) {
    const bool err = m.kind == Message::Error;
    const std::string id = std::to_string(index);
    ImGui::SetNextWindowPos(ImVec2(x, y));
    ImGui::SetNextWindowSizeConstraints(ImVec2(w, 0), ImVec2(w, FLT_MAX));
    ImGui::PushStyleColor(ImGuiCol_WindowBg, err ? kErrorBg : kNoticeBg);
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(10, 6));
    ImGui::Begin(("##message" + std::to_string(slot)).c_str(), nullptr, kBannerFlags);
    // Buttons on the right of the first line, the words to their left.
    const ImGuiStyle& st = ImGui::GetStyle();
    const float close_w = ImGui::GetFrameHeight();
    const bool has_details = !m.details.empty();
    const char* toggle = m.show_details ? "Hide details" : "Details";
    const float toggle_w = has_details ? ImGui::CalcTextSize(toggle).x + st.FramePadding.x * 2 : 0.0f;
    const float right = w - st.WindowPadding.x;
    const ImVec2 start = ImGui::GetCursorPos();
    ImGui::SetCursorPos(ImVec2(right - close_w, start.y));
    ImGui::PushID(slot);
    if (ImGui::Button("##close", ImVec2(close_w, close_w))) m.dismissed = true;
    a.record_widget(("message_close_" + id).c_str());
    {
        const ImVec2 c0 = ImGui::GetItemRectMin(), c1 = ImGui::GetItemRectMax();
        const float in = close_w * 0.3f;
        ImDrawList* dl = ImGui::GetWindowDrawList();
        dl->AddLine(ImVec2(c0.x + in, c0.y + in), ImVec2(c1.x - in, c1.y - in), IM_COL32(240, 240, 240, 255), 1.5f);
        dl->AddLine(ImVec2(c1.x - in, c0.y + in), ImVec2(c0.x + in, c1.y - in), IM_COL32(240, 240, 240, 255), 1.5f);
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Close this message (it stays in the side panel's log)");
    if (has_details) {
        ImGui::SetCursorPos(ImVec2(right - close_w - st.ItemSpacing.x - toggle_w, start.y));
        if (ImGui::Button(toggle)) m.show_details = !m.show_details;
        a.record_widget(("message_details_" + id).c_str());
    }
    ImGui::SetCursorPos(ImVec2(start.x, start.y + st.FramePadding.y));
    ImGui::PushTextWrapPos(right - close_w - toggle_w - st.ItemSpacing.x * 3);
    ImGui::TextUnformatted(m.text.c_str());
    if (m.count > 1) ImGui::TextDisabled("(%d times)", m.count);
    ImGui::PopTextWrapPos();
    if (has_details && m.show_details) {
        ImGui::Separator();
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.85f, 0.85f, 0.88f, 1.0f));
        ImGui::PushTextWrapPos(right);
        ImGui::TextUnformatted(m.details.c_str());
        ImGui::PopTextWrapPos();
        ImGui::PopStyleColor();
        a.record_widget(("message_details_text_" + id).c_str());
        if (ImGui::SmallButton("Copy details")) ImGui::SetClipboardText(m.details.c_str());
        a.record_widget(("message_copy_" + id).c_str());
    }
    ImGui::PopID();
    const float h = ImGui::GetWindowHeight();
    a.widgets["message_" + id] = {x, y, w, h};
    ImGui::End();
    ImGui::PopStyleVar();
    ImGui::PopStyleColor();
    return h;
}

void draw_message_banner(App& a) {
    Messages& ms = a.messages;
    const Rect& v = a.viewer_rect;
    if (v.w < 40 || v.h < 40) return;  // no room: the side panel's log still lists everything
    const double now = ImGui::GetTime();
    // Newest first.
    std::vector<int> live;
    for (int i = int(ms.all.size()) - 1; i >= 0; i--) {
        Message& m = ms.all[i];
        if (m.dismissed) continue;
        if (m.kind == Message::Notice && m.shown_at >= 0 && !m.show_details && now - m.shown_at > Messages::kNoticeSeconds) {
            m.dismissed = true;  // still listed in the side panel
            continue;
        }
        live.push_back(i);
    }
    for (Message& m : ms.all) m.banner = -1;
    if (live.empty()) return;
    const float bottom = v.y + v.h * 0.6f;  // leave most of the image in sight
    float left = v.x, right = v.x + v.w;
    free_stretch(v, bottom - v.y, left, right);
    const float x = left + 8, w = right - left - 16;
    float y = v.y + 6;
    int shown = 0;
    for (int i : live) {
        if (shown == Messages::kMaxBanners || (shown > 0 && y > bottom)) break;
        Message& m = ms.all[i];
        if (m.shown_at < 0) m.shown_at = now;
        if (m.kind == Message::Notice) a.wake();  // keep frames coming so the notice can time out
        m.banner = shown;
        y += draw_banner(a, m, shown, i, x, y, w) + 4;
        shown++;
    }
    const int more = int(live.size()) - shown;
    if (more <= 0) return;
    ImGui::SetNextWindowPos(ImVec2(x, y));
    ImGui::PushStyleColor(ImGuiCol_WindowBg, kMoreBg);
    ImGui::Begin("##message_more", nullptr, kBannerFlags);
    ImGui::AlignTextToFramePadding();
    ImGui::Text("+%d more (listed in the side panel)", more);
    a.record_widget("message_more");
    ImGui::SameLine();
    if (ImGui::SmallButton("Close all")) {
        for (Message& m : ms.all) m.dismissed = true;
    }
    a.record_widget("message_close_all");
    ImGui::End();
    ImGui::PopStyleColor();
}

void draw_empty_hint(App& a) {
    if (!a.images.empty()) return;
    const char* text = "Drop JPEG, PNG or BMP images here, or use \"Open images...\".";
    const ImVec2 size = ImGui::CalcTextSize(text);
    ImDrawList* dl = ImGui::GetBackgroundDrawList();
    dl->AddText(ImVec2(a.viewer_rect.x + (a.viewer_rect.w - size.x) / 2, a.viewer_rect.y + (a.viewer_rect.h - size.y) / 2),
                IM_COL32(170, 170, 180, 255), text);
}

}  // namespace esui
