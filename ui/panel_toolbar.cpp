// panel_toolbar.cpp: open, fit, 1:1, zoom, and the case name.
#include <imgui.h>
#include <cstdio>

#include "app.h"
#include "panel_flags.h"

namespace esui {

void draw_toolbar(App& a) {
    pin_window(0, 0, a.css_width, kToolbarHeight);
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(8, 8));
    ImGui::Begin("##toolbar", nullptr, kPanelFlags | ImGuiWindowFlags_NoScrollbar);
    ImGui::TextColored(ImVec4(0.55f, 0.8f, 1.0f, 1.0f), "EndoScribe");
    ImGui::SameLine(0, 16);
    draw_case_menu(a);
    if (ImGui::Button("Open images...")) js_open_file_picker();
    a.record_widget("open");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("JPEG, PNG or BMP; or drop files onto the window (O)");
    ImGui::SameLine(0, 16);
    const bool has_image = a.current_image() != nullptr;
    if (!has_image) ImGui::BeginDisabled();
    if (ImGui::Button("Fit")) a.fit();
    a.record_widget("fit");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Fit the image to the window (F)");
    ImGui::SameLine();
    if (ImGui::Button("1:1")) a.one_to_one();
    a.record_widget("one_to_one");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("One image pixel per screen pixel (1)");
    ImGui::SameLine();
    if (ImGui::Button("-")) a.zoom_by(0.8);
    a.record_widget("zoom_out");
    ImGui::SameLine();
    if (ImGui::Button("+")) a.zoom_by(1.25);
    a.record_widget("zoom_in");
    ImGui::SameLine();
    ImGui::Text("%6.1f%%", a.view.scale * 100.0);
    if (!has_image) ImGui::EndDisabled();
    ImGui::End();
    ImGui::PopStyleVar();
}

}  // namespace esui
