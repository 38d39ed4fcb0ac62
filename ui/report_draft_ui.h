// report_draft_ui.h: "Draft with AI" in the Report tab (issue 11). The model
// runs in JS (web/report/app_report_draft.js over web/report/report_draft.js);
// the core decides what to ask and applies the answers
// (src/report/report_draft.h). JS pushes the job's state here
// (es_report_draft_set_state); the panel only reads it, so the frame loop
// never waits on the model.
//
// Files: panel_report_draft.cpp (the button, progress, Cancel, the outcome),
// report_draft_exports.cpp (es_report_draft_* for JS).
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "report/report_draft.h"

namespace esui {

class App;

struct ReportDraftUi {
    // The questions of the job in progress (the answers are applied against these).
    std::vector<es::DraftQuestion> questions;
    // Last state from JS: {running, done, total, path, model, test_model, cancelled, error}.
    nlohmann::json job = nlohmann::json::object();
    // The last job's outcome (report_draft.h JSON form) and its model.
    nlohmann::json outcome;  // null until a draft has run
    std::string outcome_model;
    bool outcome_test_model = false;
    bool outcome_cancelled = false;
};

ReportDraftUi& report_draft_ui();

// The Draft with AI block of the Report tab (called by panel_report.cpp).
void draw_report_draft(App& a);

// Sends an action to JS: Module.reportDraft.action(name, args_json).
void report_draft_action(const char* name, const nlohmann::json& args = nlohmann::json::object());

}  // namespace esui
