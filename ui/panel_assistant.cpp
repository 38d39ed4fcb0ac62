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
    // The assistant's own errors and notices (also kept for the test hook).
    const nlohmann::json msgs = ui.state.value("messages", nlohmann::json::array());
    if (!msgs.empty()) {
        const size_t first = msgs.size() > 3 ? msgs.size() - 3 : 0;
        for (size_t i = first; i < msgs.size(); i++) {
            const bool err = msgs[i].value("kind", std::string()) == "error";
            ImGui::PushStyleColor(ImGuiCol_Text, err ? ImVec4(1.0f, 0.45f, 0.4f, 1.0f) : ImVec4(1.0f, 0.8f, 0.3f, 1.0f));
            ImGui::TextWrapped("%s", msgs[i].value("text", std::string()).c_str());
            ImGui::PopStyleColor();
        }
        if (ImGui::SmallButton("Dismiss")) assistant_action("dismiss_messages");
        a.record_widget("asst_dismiss");
        ImGui::Separator();
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
