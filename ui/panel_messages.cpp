// panel_messages.cpp: errors and notices over the top of the viewer until
// dismissed, and the hint shown when nothing is open.
#include <imgui.h>
#include <algorithm>
#include <string>

#include "app.h"

namespace esui {

void draw_message_banner(App& a) {
    float y = a.viewer_rect.y + 8;
    int shown = 0;
    for (int i = int(a.messages.all.size()) - 1; i >= 0 && shown < 4; i--) {
        Message& m = a.messages.all[i];
        if (m.dismissed) continue;
        const double now = ImGui::GetTime();
        if (m.shown_at < 0) m.shown_at = now;
        if (m.kind == Message::Notice && now - m.shown_at > Messages::kNoticeSeconds) {
            m.dismissed = true;  // still listed in the side panel
            continue;
        }
        if (m.kind == Message::Notice) a.wake();  // keep frames coming so the notice can time out
        shown++;
        const bool err = m.kind == Message::Error;
        const float w = std::max(200.0f, a.viewer_rect.w - 32);
        ImGui::SetNextWindowPos(ImVec2(a.viewer_rect.x + 16, y));
        ImGui::SetNextWindowSize(ImVec2(w, 0));
        ImGui::PushStyleColor(ImGuiCol_WindowBg, err ? ImVec4(0.45f, 0.08f, 0.08f, 0.95f) : ImVec4(0.40f, 0.30f, 0.05f, 0.95f));
        ImGui::Begin(("##message" + std::to_string(i)).c_str(), nullptr,
                     ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                     ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoFocusOnAppearing);
        ImGui::PushTextWrapPos(w - 70);
        ImGui::TextUnformatted(err ? "Error" : "Notice");
        ImGui::TextUnformatted(m.text.c_str());
        ImGui::PopTextWrapPos();
        ImGui::SameLine(w - 60);
        if (ImGui::Button("Dismiss")) m.dismissed = true;
        a.record_widget(("dismiss_" + std::to_string(i)).c_str());
        y += ImGui::GetWindowHeight() + 6;
        ImGui::End();
        ImGui::PopStyleColor();
    }
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
