// report_draft_exports.cpp: the functions web/report/app_report_draft.js calls
// to draft the open report with the loaded model (es_report_draft_*), and the
// way back to JS (report_draft_action). The questions and the application of
// the answers are the core's (src/report/report_draft.h); applying is one undo
// step of the report and is saved like any edit.
#include <emscripten/emscripten.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "app.h"
#include "report_draft_ui.h"
#include "report_ui.h"

namespace esui {

ReportDraftUi& report_draft_ui() {
    static ReportDraftUi ui;
    return ui;
}

void report_draft_action(const char* name, const nlohmann::json& args) {
    const std::string s = args.dump();
    EM_ASM({
        if (Module.reportDraft && Module.reportDraft.action) Module.reportDraft.action(UTF8ToString($0), UTF8ToString($1));
    }, name, s.c_str());
}

}  // namespace esui

namespace {

using nlohmann::json;
using esui::report_draft_ui;
using esui::report_ui;

const char* out(const std::string& s) {
    static std::string keep;
    keep = s;
    return keep.c_str();
}

}  // namespace

extern "C" {

// The questions for the open report's empty fields. scope_json: {findings: [ids]
// (none = all), images: [names] (bowel preparation is asked about the first)}.
// Returns {"questions": [...]} or {"error": "plain words"}; the questions are
// kept for es_report_draft_apply.
EMSCRIPTEN_KEEPALIVE const char* es_report_draft_questions(const char* scope_json) {
    esui::ReportUi& r = report_ui();
    esui::ReportDraftUi& d = report_draft_ui();
    if (!r.vocab_ready) return out(json{{"error", "The report vocabularies are not loaded yet; try again in a moment."}}.dump());
    if (r.report.status == es::ReportStatus::Final)
        return out(json{{"error", "The report is signed. Start an amendment (Sign-off) before drafting with AI."}}.dump());
    const json s = json::parse(scope_json ? scope_json : "{}", nullptr, false);
    es::DraftScope scope;
    if (s.is_object()) {
        for (const auto& f : s.value("findings", json::array()))
            if (f.is_string()) scope.findings.push_back(f.get<std::string>());
        for (const auto& i : s.value("images", json::array()))
            if (i.is_string()) scope.images.push_back(i.get<std::string>());
    }
    d.questions = es::draft_questions(r.report, r.vocab, scope);
    return out(json{{"questions", es::draft_questions_to_json(d.questions)}}.dump());
}

// Applies the model's answers to the questions es_report_draft_questions gave
// (one undo step, saved). round 0 starts a new outcome, later rounds (questions
// that appeared once a finding's term was drafted) add to it. Returns the
// outcome of this round {applied, rejected}, or {"error"}.
EMSCRIPTEN_KEEPALIVE const char* es_report_draft_apply(const char* answers_json, const char* model_id, int round, int test_model) {
    esui::App& a = esui::app();
    esui::ReportUi& r = report_ui();
    esui::ReportDraftUi& d = report_draft_ui();
    std::vector<es::DraftAnswer> answers;
    std::string error;
    if (!es::draft_answers_from_json(json::parse(answers_json ? answers_json : "", nullptr, false), &answers, &error))
        return out(json{{"error", "The model's answers could not be read."}, {"details", error}}.dump());
    if (r.report.status == es::ReportStatus::Final)
        return out(json{{"error", "The report was signed while the model was running: nothing was changed."}}.dump());
    // Applied on a copy: a draft that changes nothing leaves no undo step.
    es::Report drafted = r.report;
    const es::DraftOutcome o = es::apply_draft_answers(drafted, r.vocab, d.questions, answers, model_id ? model_id : "",
                                                       esui::ReportUi::now());
    if (!o.applied.empty()) {
        r.edit(a, "Draft with AI (" + std::to_string(o.applied.size()) + " values)");
        r.report = std::move(drafted);
        r.changed(a);
    }
    const json oj = es::draft_outcome_to_json(o);
    if (round == 0 || !d.outcome.is_object()) {
        d.outcome = oj;
    } else {
        for (const auto& x : oj["applied"]) d.outcome["applied"].push_back(x);
        for (const auto& x : oj["rejected"]) d.outcome["rejected"].push_back(x);
    }
    d.outcome_model = model_id ? model_id : "";
    d.outcome_test_model = test_model != 0;
    d.outcome_cancelled = false;
    a.wake();
    return out(oj.dump());
}

// The job's state for the panel: {running, done, total, path, cancelled, error}.
EMSCRIPTEN_KEEPALIVE void es_report_draft_set_state(const char* state_json) {
    json j = json::parse(state_json ? state_json : "", nullptr, false);
    if (!j.is_object()) return;
    esui::ReportDraftUi& d = report_draft_ui();
    if (j.value("cancelled", false)) d.outcome_cancelled = true;
    d.job = std::move(j);
    esui::app().wake();
}

// An image of the case for the model: {key, name, width, height, rgba (heap
// address, valid while the image is open)} or null. The key is the one the
// assistant uses, so the runtime's encoded image is shared with the chat.
EMSCRIPTEN_KEEPALIVE const char* es_report_draft_image(const char* name) {
    const esui::App& a = esui::app();
    for (const auto& img : a.images) {
        if (!img || img->name != (name ? name : "")) continue;
        json j;
        j["key"] = a.case_name + "|" + img->name + "|" + std::to_string(img->pixels.width) + "x" + std::to_string(img->pixels.height);
        j["name"] = img->name;
        j["width"] = img->pixels.width;
        j["height"] = img->pixels.height;
        j["rgba"] = reinterpret_cast<uintptr_t>(img->pixels.rgba.data());
        return out(j.dump());
    }
    return out("null");
}

// For tests: the job state, the last outcome, the number of questions asked last.
EMSCRIPTEN_KEEPALIVE const char* es_report_draft_state() {
    const esui::ReportDraftUi& d = report_draft_ui();
    return out(json{{"job", d.job}, {"outcome", d.outcome}, {"model", d.outcome_model}, {"test_model", d.outcome_test_model},
                    {"cancelled", d.outcome_cancelled}, {"questions", d.questions.size()}}.dump());
}

}  // extern "C"
