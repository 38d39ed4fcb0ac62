// panel_status.cpp: image coordinate and RGB value under the cursor, zoom.
#include <imgui.h>

#include "app.h"
#include "panel_flags.h"

namespace esui {

void draw_status_bar(App& a) {
    pin_window(0, a.css_height - kStatusBarHeight, a.css_width, kStatusBarHeight);
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(8, 5));
    ImGui::Begin("##status", nullptr, kPanelFlags | ImGuiWindowFlags_NoScrollbar);
    if (a.cursor.valid) {
        ImGui::Text("x %5d  y %5d   R %3d  G %3d  B %3d", a.cursor.x, a.cursor.y, a.cursor.r, a.cursor.g, a.cursor.b);
    } else {
        ImGui::TextDisabled("Move the cursor over the image for its pixel values.");
    }
    ImGui::SameLine(a.css_width - 330);
    if (ViewerImage* img = a.current_image())
        ImGui::Text("%d x %d   zoom %.1f%%", img->pixels.width, img->pixels.height, a.view.scale * 100.0);
    ImGui::SameLine(a.css_width - 120);
    ImGui::TextDisabled("on-device only");
    ImGui::End();
    ImGui::PopStyleVar();
}

}  // namespace esui
