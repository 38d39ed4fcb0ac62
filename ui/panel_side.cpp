// panel_side.cpp: the side panel right of the viewer, one tab per task. A tab
// is one line in kSideTabs; its body scrolls inside the panel so everything in
// it can be reached on a small window.
#include <imgui.h>

#include "agent_ui.h"
#include "annotation_ui.h"
#include "app.h"
#include "compare_ui.h"
#include "panel_flags.h"
#include "report_ui.h"
#include "text_fit.h"

namespace esui {

namespace {

struct SideTab {
    const char* label;   // shown on the tab
    const char* widget;  // name in the automation hook (state().widgets)
    void (*draw)(App&);
};

const SideTab kSideTabs[] = {
    {"Image", "tab_image", draw_image_tab},
    {"Assistant", "tab_assistant", draw_assistant_tab},
    {"Report", "tab_report", draw_report_tab},
    {"Compare", "tab_compare", draw_compare_tab},
    {"Agent", "tab_agent", draw_agent_tab},
};

void draw_image_facts(App& a) {
    ImGui::TextDisabled("IMAGE");
    if (ViewerImage* img = a.current_image()) {
        text_ellipsized(img->name.c_str());
        a.record_widget("image_name");
        ImGui::Text("%d x %d  %s   %d of %d in case", img->pixels.width, img->pixels.height, img->format.c_str(),
                    a.current + 1, int(a.images.size()));
        if (img->downscaled) {
            ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.8f, 0.3f, 1.0f));
            ImGui::TextWrapped("Shown downscaled to %d x %d: larger than the GPU texture limit.",
                               img->texture->width, img->texture->height);
            ImGui::PopStyleColor();
        }
    } else {
        ImGui::TextWrapped("No image open.");
    }
}

void draw_levels(App& a) {
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
    ImGui::SameLine();
    ImGui::TextDisabled("Ctrl+click a slider to type.");
}

void draw_message_log(App& a) {
    ImGui::Separator();
    ImGui::TextDisabled("MESSAGES");
    if (a.messages.all.empty()) ImGui::TextDisabled("None.");
    for (auto it = a.messages.all.rbegin(); it != a.messages.all.rend(); ++it) {
        const bool err = it->kind == Message::Error;
        ImGui::PushStyleColor(ImGuiCol_Text, err ? ImVec4(1.0f, 0.45f, 0.4f, 1.0f) : ImVec4(1.0f, 0.8f, 0.3f, 1.0f));
        ImGui::TextWrapped("%s", it->text.c_str());
        ImGui::PopStyleColor();
    }
}

}  // namespace

// The image in view: its facts, display levels, its annotations (labels,
// segmentation, list, import/export: panel_annotations.cpp), the message log.
void draw_image_tab(App& a) {
    draw_image_facts(a);
    draw_levels(a);
    draw_annotation_panel(a, annotation_ui());
    draw_message_log(a);
}

void draw_side_panel(App& a) {
    const Rect& r = a.layout.side;
    if (r.w <= 0 || r.h <= 0) return;
    pin_window(r.x, r.y, r.w, r.h);
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(8, 6));
    ImGui::Begin("##side", nullptr, kPanelFlags | ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
    ImGui::PopStyleVar();
    if (ImGui::BeginTabBar("##side_tabs", ImGuiTabBarFlags_FittingPolicyScroll)) {
        for (const SideTab& tab : kSideTabs) {
            const bool open = ImGui::BeginTabItem(tab.label);
            a.record_widget(tab.widget);
            if (!open) continue;
            ImGui::BeginChild(tab.widget, ImVec2(0, 0), false);
            tab.draw(a);
            ImGui::EndChild();
            ImGui::EndTabItem();
        }
        ImGui::EndTabBar();
    }
    ImGui::End();
}

}  // namespace esui
