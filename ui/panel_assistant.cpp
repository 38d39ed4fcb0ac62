// panel_assistant.cpp: the side panel's Assistant tab with its own tabs (Chat,
// Classify, Models); every frame, the notice when the image in view changes
// (the JS side then switches to that image's saved conversation) and the
// answers' boxes on the viewer.
#include <imgui.h>

#include "app.h"
#include "assistant_ui.h"

namespace esui {

static void notify_image_change(App& a, AssistantUi& ui) {
    if (!ui.connected) return;  // the JS side reads the image in view when it starts
    const ViewerImage* img = a.current_image();
    const std::string key = img ? a.case_name + "|" + img->name + "|" + std::to_string(img->pixels.width) + "x" +
                                      std::to_string(img->pixels.height)
                                : std::string();
    if (key == ui.last_image_key) return;
    ui.last_image_key = key;
    ui.region_ready = false;
    ui.region_mode = false;
    ui.editing_turn = -1;
    assistant_action("image_changed");
}

void draw_assistant(App& a) {
    AssistantUi& ui = assistant_ui();
    notify_image_change(a, ui);
    draw_assistant_overlay(a);
}

void draw_assistant_tab(App& a) {
    AssistantUi& ui = assistant_ui();
    if (!ui.connected) {
        ImGui::TextDisabled("The assistant is starting...");
        return;
    }
    if (ImGui::BeginTabBar("##asst_tabs")) {
        const bool chat = ImGui::BeginTabItem("Chat");
        a.record_widget("asst_tab_chat");
        if (chat) {
            draw_chat_tab(a);
            ImGui::EndTabItem();
        }
        const bool cls = ImGui::BeginTabItem("Classify");
        a.record_widget("asst_tab_classify");
        if (cls) {
            draw_classify_tab(a);
            ImGui::EndTabItem();
        }
        const bool models = ImGui::BeginTabItem("Models");
        a.record_widget("asst_tab_models");
        if (models) {
            draw_models_tab(a);
            ImGui::EndTabItem();
        }
        ImGui::EndTabBar();
    }
}

}  // namespace esui
