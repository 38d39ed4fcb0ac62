// panel_toolbar.cpp: the case area, open, fit, 1:1, zoom, and the side panel toggle.
#include <imgui.h>
#include <algorithm>
#include <cstdio>
#include <string>

#include "app.h"
#include "panel_flags.h"
#include "text_fit.h"

namespace esui {

void draw_toolbar(App& a) {
    const Rect& r = a.layout.toolbar;
    pin_window(r.x, r.y, r.w, r.h);
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(8, 8));
    ImGui::Begin("##toolbar", nullptr, kPanelFlags | ImGuiWindowFlags_NoScrollbar);

    // Case area: the left kCaseAreaWidth px of the toolbar belong to the case
    // menu (new / switch / rename / delete / export).
    const float case_x = ImGui::GetCursorPosX();
    draw_case_menu(a);
    ImGui::SameLine(case_x + kCaseAreaWidth);

    if (ImGui::Button("Open images...")) js_open_file_picker();
    a.record_widget("open");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("JPEG, PNG or BMP; or drop files onto the window (O)");
    ImGui::SameLine(0, 16);
    const bool has_image = a.current_image() != nullptr;
    if (!has_image) ImGui::BeginDisabled();
    if (ImGui::Button("Fit")) a.fit();
    a.record_widget("fit");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Fit the whole image in the viewer (F)");
    ImGui::SameLine();
    if (ImGui::Button("1:1")) a.one_to_one();
    a.record_widget("one_to_one");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("One image pixel per screen pixel (1)");
    ImGui::SameLine();
    if (ImGui::Button("-")) a.zoom_by(0.8);
    a.record_widget("zoom_out");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Zoom out (-)");
    ImGui::SameLine();
    if (ImGui::Button("+")) a.zoom_by(1.25);
    a.record_widget("zoom_in");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Zoom in (+)");
    ImGui::SameLine();
    ImGui::AlignTextToFramePadding();
    ImGui::Text("%6.1f%%", a.view.scale * 100.0);
    if (!has_image) ImGui::EndDisabled();

    // Right end: show or hide the side panel (more room for the image).
    const bool open = a.layout_sizes.side_open;
    const char* toggle = open ? "Hide panel" : "Show panel";
    const float toggle_w = ImGui::CalcTextSize(toggle).x + ImGui::GetStyle().FramePadding.x * 2;
    ImGui::SameLine(std::max(ImGui::GetCursorPosX() + 8, r.w - toggle_w - 8));
    if (ImGui::Button(toggle)) {
        LayoutSizes s = a.layout_sizes;
        s.side_open = !open;
        a.set_layout_sizes(s);
        a.save_layout_sizes();
    }
    a.record_widget("side_toggle");
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip(open ? "Hide the side panel (Image, Assistant) to give the image more room"
                               : "Show the side panel (Image, Assistant)");
    ImGui::End();
    ImGui::PopStyleVar();
}

}  // namespace esui
