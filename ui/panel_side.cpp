// panel_side.cpp: the current image's facts, display levels, and the message log.
#include <imgui.h>

#include "app.h"
#include "panel_flags.h"

namespace esui {

void draw_side_panel(App& a) {
    const float top = kToolbarHeight;
    const float h = a.css_height - top - kThumbStripHeight - kStatusBarHeight;
    pin_window(a.css_width - kSidePanelWidth, top, kSidePanelWidth, h > 0 ? h : 0);
    ImGui::Begin("##side", nullptr, kPanelFlags);

    ImGui::TextDisabled("IMAGE");
    if (ViewerImage* img = a.current_image()) {
        ImGui::TextWrapped("%s", img->name.c_str());
        ImGui::Text("%d x %d  %s", img->pixels.width, img->pixels.height, img->format.c_str());
        ImGui::Text("%d of %d in case", a.current + 1, int(a.images.size()));
        if (img->downscaled) {
            ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.8f, 0.3f, 1.0f));
            ImGui::TextWrapped("Shown downscaled to %d x %d: larger than the GPU texture limit.",
                               img->texture->width, img->texture->height);
            ImGui::PopStyleColor();
        }
    } else {
        ImGui::TextWrapped("No image open.");
    }

    ImGui::Separator();
    ImGui::TextDisabled("DISPLAY");
    ImGui::PushItemWidth(-80);
    ImGui::SliderFloat("Brightness", &a.levels.brightness, es::Levels::kMinBrightness, es::Levels::kMaxBrightness, "%.2f");
    a.record_widget("brightness");
    ImGui::SliderFloat("Contrast", &a.levels.contrast, es::Levels::kMinContrast, es::Levels::kMaxContrast, "%.2f");
    a.record_widget("contrast");
    ImGui::SliderFloat("Gamma", &a.levels.gamma, es::Levels::kMinGamma, es::Levels::kMaxGamma, "%.2f",
                       ImGuiSliderFlags_Logarithmic);
    a.record_widget("gamma");
    ImGui::PopItemWidth();
    a.levels = a.levels.sanitized();  // typed values (Ctrl+click) can leave the range
    if (ImGui::Button("Reset levels")) a.levels = es::Levels{};
    a.record_widget("reset_levels");
    ImGui::TextDisabled("Ctrl+click a slider to type a value.");

    ImGui::Separator();
    ImGui::TextDisabled("MESSAGES");
    ImGui::BeginChild("##log", ImVec2(0, 0), false);
    if (a.messages.all.empty()) ImGui::TextDisabled("None.");
    for (auto it = a.messages.all.rbegin(); it != a.messages.all.rend(); ++it) {
        const bool err = it->kind == Message::Error;
        ImGui::PushStyleColor(ImGuiCol_Text, err ? ImVec4(1.0f, 0.45f, 0.4f, 1.0f) : ImVec4(1.0f, 0.8f, 0.3f, 1.0f));
        ImGui::TextWrapped("%s", it->text.c_str());
        ImGui::PopStyleColor();
    }
    ImGui::EndChild();
    ImGui::End();
}

}  // namespace esui
