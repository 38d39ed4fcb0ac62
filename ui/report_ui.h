// report_ui.h: the case's structured report in the app (issue 11): the core
// es::Report (src/report/), the vocabularies it is checked against, the
// report's edit history, and the Report tab's own state.
//
// Every change goes through ReportUi::edit(): it keeps the report as it was
// (undo), turns a change to a signed report into an amendment, stamps who set
// the value and when, and tells JS (web/report/app_report.js -> the case
// session) to save the report in IndexedDB. Typing in one text field is one
// undo step; each keystroke is still saved.
//
// Files: report_state.cpp (this state, findings from annotations, undo, the
// saved form), panel_report.cpp (the Report tab), report_exports.cpp
// (es_report_* for JS).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "report/report.h"
#include "report/report_quality.h"
#include "report/report_vocabulary.h"
#include "report/surveillance_rules.h"

namespace esui {

class App;

struct ReportUi {
    es::Report report;
    es::ReportVocabulary vocab;
    std::vector<es::SurveillanceTable> rule_tables;  // models/report/surveillance_*.json
    int rule_table = 0;                               // the guideline shown
    bool vocab_ready = false;
    std::string user_name;  // "Your name" (kept in the browser); else the header's endoscopist

    // Undo/redo: the report's JSON before each edit (a report is a few kB, so a
    // snapshot is exact and simple), with what the edit was.
    struct Step {
        std::string what;
        std::string before;
    };
    std::vector<Step> undo_steps, redo_steps;
    static constexpr size_t kMaxUndo = 100;
    unsigned typing_item = 0;  // ImGui id of the text field whose typing is one undo step

    // Tab state.
    std::string selected_finding;  // id of the finding open in the form ("" = none)
    std::string focus_path;        // a field to scroll to (a clicked warning), cleared once shown
    std::string sign_name, amend_reason;
    bool sign_name_typed = false;  // else the signer is the header's endoscopist
    int preview_version = 0;       // a signed version shown in the preview (0: the report as it is)
    bool restoring = false;   // loading a saved report: no save callbacks
    int saves_requested = 0;
    std::string last_error;   // for es_report_last_error and the test hook
    std::string last_good;    // the report's JSON after the last accepted change

    // Who sets a value now: the "Your name" setting, else the endoscopist in the
    // header, else "user".
    std::string who() const;
    static std::string now();  // ISO-8601 UTC, seconds

    // Before a change: records the undo step (none while `typing` is the item
    // still being typed in), starts an amendment of a signed report.
    void edit(App& a, const std::string& what, unsigned typing = 0);
    void changed(App& a);  // after a change: tells JS to save
    bool can_undo() const { return !undo_steps.empty(); }
    bool can_redo() const { return !redo_steps.empty(); }
    bool undo(App& a);
    bool redo(App& a);

    // Saved form (IndexedDB, the case bundle's "report"): es::report_to_json.
    std::string document_json() const;
    bool load_document(App& a, const std::string& json, std::string* error);
    std::string history_json() const;
    bool load_history(const std::string& json, std::string* error);
    void clear();
    bool empty() const;  // nothing entered: no need to save it in a bundle

    // Findings from annotations (the label's term from the vocabulary's
    // label map, the image's segment from the case, the evidence link, the
    // lesion count). A landmark label (caecum, appendiceal orifice, ...)
    // documents caecal intubation instead. Returns the new finding's id, or ""
    // (then *note says why, or that it was a landmark).
    std::string add_from_annotation(App& a, const std::string& image, uint64_t annotation_id, std::string* note);
    // Adds the annotation as evidence of an existing finding (number = its lesion evidence).
    bool add_evidence(App& a, const std::string& finding_id, const std::string& image, uint64_t annotation_id,
                      std::string* note);
    // Lesion annotations of the case no finding links yet, [image, id].
    std::vector<std::pair<std::string, uint64_t>> unreported_lesions(App& a) const;
    // Shows a finding: its first evidence image, its annotation selected.
    void show_finding(App& a, const std::string& id);
};

ReportUi& report_ui();

// The quality warnings of the report, evidence checked against the open images.
std::vector<es::QualityWarning> report_warnings(const App& a, const ReportUi& r);

// The side panel's Report tab (panel_report.cpp).
void draw_report_tab(App& a);

// JS side (web/report/app_report.js): exports and the user name.
void report_js_action(const char* name, const std::string& arg = "");

}  // namespace esui
