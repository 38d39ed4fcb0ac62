// panel_classify.cpp: classification of the image in view (Assistant window,
// Classify tab): the probability of every label of a label set, ranked, as a
// bar chart (the full vector, not just the top answer), under a header that
// says it is an AI suggestion (and, for the built-in test model, meaningless).
#include <imgui.h>

#include <cstdio>

#include "app.h"
#include "assistant_ui.h"
#include "text_fit.h"

namespace esui {

using nlohmann::json;

void draw_classify_tab(App& a) {
    AssistantUi& ui = assistant_ui();
    const json& s = ui.state;
    static const char* kSets[] = {"HyperKvasir (23 classes)", "Upper GI anatomy"};
    static const char* kIds[] = {"hyperkvasir", "upper-gi"};
    const bool ready = assistant_ready_for(s, "classify");
    const bool server = assistant_on_server(s, "classify");
    const bool busy = s.contains("busy") && !s["busy"].is_null();

    ImGui::SetNextItemWidth(200);
    ImGui::Combo("Label set", &ui.label_set, kSets, 2);
    a.record_widget("asst_label_set");
    ImGui::BeginDisabled(busy || !ready || !a.current_image());
    if (ImGui::Button("Classify this image")) assistant_action("classify", {{"set", kIds[ui.label_set]}});
    a.record_widget("asst_classify");
    ImGui::EndDisabled();
    if (busy && s["busy"] == "classify") {
        ImGui::SameLine();
        ImGui::TextDisabled("scoring labels...");
        ImGui::SameLine();
        if (ImGui::SmallButton("Stop")) assistant_action("stop");
    }
    if (server) ImGui::TextDisabled("Server: %s", assistant_server_label(s).c_str());
    if (!ready) ImGui::TextDisabled(server ? "Set the server and its model first (Models tab, Run on)." : "Load a model first (Models tab).");
    if (ready && !server && assistant_test_model(s)) draw_test_model_warning(a, "asst_classify_test_model_warning");

    if (!s.contains("classification") || !s["classification"].is_object()) return;
    const json& c = s["classification"];
    ImGui::Separator();
    draw_ai_label(a, "asst_classify_ai_label", c.contains("server"));
    ImGui::TextDisabled("%s - %.0f ms", c.value("name", std::string()).c_str(), c.value("ms", 0.0));
    const std::string note = c.value("note", std::string());
    if (!note.empty()) {
        ImGui::PushTextWrapPos(0);
        ImGui::TextDisabled("%s", note.c_str());
        ImGui::PopTextWrapPos();
        a.record_widget("asst_classify_note");
    }
    ImGui::BeginChild("##bars", ImVec2(0, 0), false);
    const float name_w = 170.0f;
    int i = 0;
    for (const auto& l : c.value("labels", json::array())) {
        const float p = l.value("probability", 0.0f);
        const std::string name = l.value("name", std::string());
        ImGui::PushID(i++);
        text_ellipsized(name.c_str(), name_w - 8);  // a long class name never runs into its bar
        ImGui::SameLine(name_w);
        char overlay[32];
        std::snprintf(overlay, sizeof overlay, "%.1f%%", p * 100.0f);
        ImGui::ProgressBar(p, ImVec2(-1, 0), overlay);
        ImGui::PopID();
    }
    ImGui::EndChild();
}

}  // namespace esui
