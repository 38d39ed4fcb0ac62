// panel_report_draft.cpp: the "Draft with AI" block at the top of the Report
// tab. The button says why it is disabled (no model, busy, signed); while the
// model runs, a progress bar and Cancel; afterwards what was filled and what
// was left empty and why. The values themselves appear in the form with their
// AI badge, probability and Accept button (panel_report.cpp). With the
// built-in test model the block says plainly that its values are meaningless.
#include <imgui.h>

#include <cstdio>
#include <string>

#include "app.h"
#include "assistant_ui.h"
#include "report_draft_ui.h"
#include "report_ui.h"

namespace esui {

using nlohmann::json;

namespace {

const ImVec4 kAiColor(1.0f, 0.78f, 0.30f, 1.0f);

// Why drafting cannot start now ("" = it can).
std::string why_not(const App& a, const ReportUi& r, const json& asst, bool running) {
    if (running) return "";
    if (r.report.status == es::ReportStatus::Final) return "The report is signed: start an amendment (Sign-off) to draft with AI.";
    const std::string status = asst.value("status", std::string());
    if (assistant_on_server(asst, "draft")) {
        if (!assistant_ready_for(asst, "draft")) return "Set the server and its model first (Assistant tab, Models, Run on).";
    } else {
        if (status == "loading") return "The model is still loading.";
        if (status != "ready") return "Load a model first (Assistant tab, Models).";
    }
    if (asst.contains("busy") && !asst["busy"].is_null()) return "The assistant is busy: wait or press Stop in the Assistant tab.";
    if (r.report.findings.empty() && a.images.empty()) return "Add findings (from the lesion annotations) first.";
    return "";
}

}  // namespace

void draw_report_draft(App& a) {
    ReportUi& r = report_ui();
    ReportDraftUi& d = report_draft_ui();
    const json& asst = assistant_ui().state;
    const bool running = d.job.value("running", false);
    const std::string reason = why_not(a, r, asst, running);

    ImGui::BeginDisabled(running || !reason.empty());
    if (ImGui::Button("Draft with AI")) {
        json images = json::array();
        if (const ViewerImage* img = a.current_image()) images.push_back(img->name);
        report_draft_action("start", {{"images", images}});
    }
    ImGui::EndDisabled();
    a.record_widget("report_draft_button");
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
        ImGui::SetTooltip("Fills the EMPTY fields with the loaded model's suggestions; never changes a value you entered.\n"
                          "Choices (Paris, NICE, BBPS, ...) are scored option by option; each AI value shows its\n"
                          "probability and stays marked until you Accept it.");
    if (!reason.empty()) {
        ImGui::SameLine();
        ImGui::PushTextWrapPos(0);
        ImGui::TextDisabled("%s", reason.c_str());
        ImGui::PopTextWrapPos();
        a.record_widget("report_draft_reason");
    }
    if (running) {
        const int done = d.job.value("done", 0), total = d.job.value("total", 0);
        char overlay[160];
        std::snprintf(overlay, sizeof overlay, "%d / %d  %s", done, total, d.job.value("path", std::string()).c_str());
        ImGui::ProgressBar(total > 0 ? float(done) / float(total) : 0.0f, ImVec2(-70, 0), overlay);
        a.record_widget("report_draft_progress");
        ImGui::SameLine();
        if (ImGui::Button("Cancel")) report_draft_action("cancel");
        a.record_widget("report_draft_cancel");
    }
    const bool test_model = (!assistant_on_server(asst, "draft") && asst.value("status", std::string()) == "ready" &&
                             assistant_test_model(asst)) ||
                            (d.outcome.is_object() && d.outcome_test_model);
    if (test_model && (reason.empty() || d.outcome.is_object())) {
        draw_test_model_warning(a, "report_draft_test_model_warning");
    }
    if (d.outcome.is_object()) {
        const auto& applied = d.outcome["applied"];
        const auto& rejected = d.outcome["rejected"];
        ImGui::PushStyleColor(ImGuiCol_Text, kAiColor);
        ImGui::PushTextWrapPos(0);
        if (applied.empty())
            ImGui::TextUnformatted(d.outcome_cancelled ? "Drafting was cancelled before any value was filled."
                                                       : "The model filled no field (see why below).");
        else
            ImGui::Text("%s%d empty field(s) filled by %s%s. Check each AI value, then Accept it or change it.",
                        d.outcome_cancelled ? "Cancelled: " : "", int(applied.size()), d.outcome_model.c_str(),
                        d.outcome_test_model ? " (a TEST MODEL: the values are meaningless)" : "");
        ImGui::PopTextWrapPos();
        ImGui::PopStyleColor();
        a.record_widget("report_draft_outcome");
        if (!rejected.empty()) {
            char title[64];
            std::snprintf(title, sizeof title, "%d left empty###report_draft_rejected", int(rejected.size()));
            if (ImGui::TreeNode(title)) {
                for (const auto& x : rejected) {
                    ImGui::PushTextWrapPos(0);
                    ImGui::TextDisabled("%s: %s", x.value("path", std::string()).c_str(), x.value("reason", std::string()).c_str());
                    ImGui::PopTextWrapPos();
                }
                ImGui::TreePop();
            }
            a.record_widget("report_draft_rejected");
        }
    }
    ImGui::Separator();
}

}  // namespace esui
