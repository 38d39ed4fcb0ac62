// report_draft_bindings.cpp: "Draft with AI" (src/report/report_draft.h) over
// report documents, for JS without the app (the Node tests, batch tools): the
// report and its vocabulary go in as JSON texts, questions and the updated
// report come out. The app itself drafts its open report through
// ui/report_draft_exports.cpp (es_report_draft_*), with undo and saving.
// Errors: null returns, the message in es_report_draft_last_error().
#include <emscripten/emscripten.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/report_draft.h"
#include "report/report_json.h"

namespace {

using json = nlohmann::json;

std::string g_error;
std::string g_out;

// vocabulary_json: a JSON list of the vocabulary files' texts (models/report/*.json).
bool load_vocabulary(const char* vocabulary_json, es::ReportVocabulary* vocab) {
    const json texts = json::parse(vocabulary_json ? vocabulary_json : "", nullptr, false);
    if (!texts.is_array()) {
        g_error = "vocabulary: expected a JSON list of vocabulary file texts";
        return false;
    }
    std::vector<std::string> list;
    for (const auto& t : texts) {
        if (!t.is_string()) {
            g_error = "vocabulary: every entry must be a file's text";
            return false;
        }
        list.push_back(t.get<std::string>());
    }
    return es::report_vocabulary_load(*vocab, list, {}, &g_error);
}

bool load_report(const char* report_json, const es::ReportVocabulary& vocab, es::Report* report) {
    if (!es::report_from_json(report_json ? report_json : "", vocab, report, &g_error)) {
        g_error = "report: " + g_error;
        return false;
    }
    return true;
}

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE const char* es_report_draft_last_error() { return g_error.c_str(); }

// scope_json: {findings: [ids], images: [names], report_fields: bool, impression: bool}.
// Returns {"questions": [...]} (report_draft.h's JSON form) or null.
EMSCRIPTEN_KEEPALIVE const char* es_report_draft_questions_for_document(const char* report_json, const char* vocabulary_json,
                                                                         const char* scope_json) {
    es::ReportVocabulary vocab;
    es::Report report;
    if (!load_vocabulary(vocabulary_json, &vocab) || !load_report(report_json, vocab, &report)) return nullptr;
    const json s = json::parse(scope_json ? scope_json : "{}", nullptr, false);
    es::DraftScope scope;
    try {
        if (s.is_object()) {
            scope.findings = s.value("findings", std::vector<std::string>());
            scope.images = s.value("images", std::vector<std::string>());
            scope.report_fields = s.value("report_fields", true);
            scope.impression = s.value("impression", true);
        }
    } catch (const std::exception& e) {
        g_error = std::string("draft scope: ") + e.what();
        return nullptr;
    }
    g_out = json{{"questions", es::draft_questions_to_json(es::draft_questions(report, vocab, scope))}}.dump();
    return g_out.c_str();
}

// Applies answers (report_draft.h's JSON form) to the report. Returns
// {"report": <the report's JSON>, "outcome": {applied, rejected}} or null.
EMSCRIPTEN_KEEPALIVE const char* es_report_draft_apply_to_document(const char* report_json, const char* vocabulary_json,
                                                                    const char* questions_json, const char* answers_json,
                                                                    const char* model_id, const char* now) {
    es::ReportVocabulary vocab;
    es::Report report;
    if (!load_vocabulary(vocabulary_json, &vocab) || !load_report(report_json, vocab, &report)) return nullptr;
    std::vector<es::DraftQuestion> questions;
    std::vector<es::DraftAnswer> answers;
    const json q = json::parse(questions_json ? questions_json : "", nullptr, false);
    const json a = json::parse(answers_json ? answers_json : "", nullptr, false);
    if (!es::draft_questions_from_json(q, &questions, &g_error) || !es::draft_answers_from_json(a, &answers, &g_error))
        return nullptr;
    const es::DraftOutcome outcome =
        es::apply_draft_answers(report, vocab, questions, answers, model_id ? model_id : "", now ? now : "");
    g_out = json{{"report", json::parse(es::report_to_json(report))}, {"outcome", es::draft_outcome_to_json(outcome)}}.dump();
    return g_out.c_str();
}

}  // extern "C"
