// report_exports.cpp: what web/report/ and web/annotation/case_session.js
// call: the vocabularies, the report's saved form and undo history, bundle
// checks, exports (plain text, HTML, PDF, FHIR), and a read-only state for tests.
#include <emscripten/emscripten.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "annotation_ui.h"
#include "case_ui.h"
#include "app.h"
#include "report/report_json.h"
#include "report_ui.h"
#include "report/report_fhir.h"
#include "report/report_html.h"
#include "report/report_pdf.h"
#include "report/report_text.h"

using esui::app;
using esui::report_ui;

namespace {
std::string g_out;
std::vector<uint8_t> g_bytes;
std::map<std::string, std::vector<uint8_t>> g_images;  // image name -> file bytes, for an export
es::PdfFonts g_fonts;
const char* out(std::string s) {
    g_out = std::move(s);
    return g_out.c_str();
}
const char* fail(std::string error) {
    report_ui().last_error = std::move(error);
    return nullptr;
}

// The case's images (case order) with their annotations, for the renderers.
std::vector<es::ReportImage> report_images() {
    std::vector<es::ReportImage> out;
    for (const auto& v : app().images) {
        auto it = g_images.find(v->name);
        if (it == g_images.end()) continue;
        es::ReportImage img;
        img.name = v->name;
        img.bytes = it->second;
        img.width = v->pixels.width;
        img.height = v->pixels.height;
        img.annotations = esui::annotation_ui().image(v->name);
        out.push_back(std::move(img));
    }
    return out;
}

bool make_pdf(std::vector<uint8_t>* bytes) {
    es::ReportPdfOptions options;
    options.fonts = g_fonts;
    es::ReportPdf pdf = es::report_to_pdf(report_ui().report, report_ui().vocab, report_images(), options);
    if (!pdf.ok) {
        report_ui().last_error = pdf.error;
        return false;
    }
    *bytes = std::move(pdf.bytes);
    return true;
}
}  // namespace

extern "C" {

// The vocabulary files (report/index.json's list, in order) as
// [{"name": file, "text": its JSON}]; 1, or 0 with es_report_last_error().
EMSCRIPTEN_KEEPALIVE int es_report_load_vocabulary(const char* json) {
    esui::ReportUi& r = report_ui();
    nlohmann::json j = nlohmann::json::parse(json ? json : "", nullptr, false);
    if (j.is_discarded() || !j.is_array()) {
        r.last_error = "the vocabulary list is not a JSON array";
        return 0;
    }
    // Vocabulary files by their "format"; the guideline rule tables apart.
    std::vector<std::string> texts, names, rule_texts, rule_names;
    for (const auto& f : j) {
        if (!f.is_object() || !f.contains("text") || !f["text"].is_string()) continue;
        const std::string text = f["text"].get<std::string>();
        const std::string name = f.value("name", "");
        nlohmann::json head = nlohmann::json::parse(text, nullptr, false);
        const std::string format = head.is_object() ? head.value("format", "") : "";
        if (format == "endoscribe-report-vocabulary") {
            texts.push_back(text);
            names.push_back(name);
        } else if (format.find("surveillance") != std::string::npos) {
            rule_texts.push_back(text);
            rule_names.push_back(name);
        } else {
            r.last_error = name + ": not a report vocabulary or rule table (format \"" + format + "\")";
            return 0;
        }
    }
    es::ReportVocabulary vocab;
    std::string error;
    if (!es::report_vocabulary_load(vocab, texts, names, &error)) {
        r.last_error = error;
        return 0;
    }
    std::vector<es::SurveillanceTable> tables;
    for (size_t i = 0; i < rule_texts.size(); ++i) {
        es::SurveillanceTable t;
        if (!es::surveillance_table_parse(rule_texts[i], &t, &error)) {
            r.last_error = rule_names[i] + ": " + error;
            return 0;
        }
        tables.push_back(std::move(t));
    }
    r.rule_tables = std::move(tables);
    r.vocab = std::move(vocab);
    r.vocab_ready = true;
    app().wake();
    return 1;
}

// The report (es::report_to_json): what IndexedDB and the case bundle keep.
EMSCRIPTEN_KEEPALIVE const char* es_report_document() { return out(report_ui().document_json()); }

// 1 when nothing has been entered (a bundle then carries no report).
EMSCRIPTEN_KEEPALIVE int es_report_is_empty() { return report_ui().empty() ? 1 : 0; }

// Restores a saved report; 1, or 0 with es_report_last_error() naming the field (nothing changes).
EMSCRIPTEN_KEEPALIVE int es_report_load_document(const char* json) {
    esui::ReportUi& r = report_ui();
    std::string error;
    if (!r.load_document(app(), json ? json : "", &error)) {
        r.last_error = error;
        return 0;
    }
    return 1;
}

// Checks a report (a bundle's "report") without loading it: 1, or 0 with es_report_last_error().
EMSCRIPTEN_KEEPALIVE int es_report_check_document(const char* json) {
    es::Report scratch;
    std::string error;
    if (!es::report_from_json(json ? json : "", report_ui().vocab, &scratch, &error)) {
        report_ui().last_error = error;
        return 0;
    }
    return 1;
}

EMSCRIPTEN_KEEPALIVE const char* es_report_history() { return out(report_ui().history_json()); }

EMSCRIPTEN_KEEPALIVE int es_report_load_history(const char* json) {
    std::string error;
    if (!report_ui().load_history(json ? json : "", &error)) {
        report_ui().last_error = error;
        return 0;
    }
    app().wake();
    return 1;
}

// A new case: an empty report.
EMSCRIPTEN_KEEPALIVE void es_report_clear() {
    report_ui().clear();
    app().wake();
}

EMSCRIPTEN_KEEPALIVE const char* es_report_last_error() { return out(report_ui().last_error); }

// "Your name" (who sets values), from the browser's storage.
EMSCRIPTEN_KEEPALIVE void es_report_set_user_name(const char* name) {
    report_ui().user_name = name ? name : "";
    app().wake();
}

EMSCRIPTEN_KEEPALIVE const char* es_report_export_text() {
    return out(es::report_text(report_ui().report, report_ui().vocab));
}

// The file bytes of an open image for the exports (JS keeps the files as
// opened: JPEG stays JPEG). Set before an export, cleared after it.
EMSCRIPTEN_KEEPALIVE void es_report_set_export_image(const char* name, const uint8_t* data, int size) {
    if (!name || !data || size <= 0) return;
    g_images[name].assign(data, data + size);
}

EMSCRIPTEN_KEEPALIVE void es_report_clear_export_images() { g_images.clear(); }

// The PDF's fonts (TrueType bytes: DejaVu Sans regular and bold, app/report/fonts/).
EMSCRIPTEN_KEEPALIVE void es_report_set_fonts(const uint8_t* regular, int regular_size, const uint8_t* bold, int bold_size) {
    g_fonts.regular.assign(regular, regular + std::max(0, regular_size));
    g_fonts.bold.assign(bold, bold + std::max(0, bold_size));
}

EMSCRIPTEN_KEEPALIVE const char* es_report_export_html() {
    return out(es::report_html(report_ui().report, report_ui().vocab, report_images()));
}

// The PDF's bytes (length: es_report_bytes_size()), or null with es_report_last_error().
EMSCRIPTEN_KEEPALIVE const uint8_t* es_report_export_pdf() {
    g_bytes.clear();
    if (!make_pdf(&g_bytes)) return nullptr;
    return g_bytes.data();
}

// The FHIR R4 Bundle, the PDF inside it as presentedForm.
EMSCRIPTEN_KEEPALIVE const char* es_report_export_fhir() {
    es::ReportFhirOptions options;
    options.generated_at = esui::ReportUi::now();
    options.report_key = esui::case_ui().current_id;
    if (!make_pdf(&options.pdf)) return nullptr;
    es::ReportFhir fhir = es::report_to_fhir(report_ui().report, report_ui().vocab, report_images(), options);
    if (!fhir.ok) return fail(fhir.error);
    return out(std::move(fhir.json));
}

EMSCRIPTEN_KEEPALIVE int es_report_bytes_size() { return int(g_bytes.size()); }

// Read-only state for tests: the report, undo/redo, warnings, the preview text.
EMSCRIPTEN_KEEPALIVE const char* es_report_state() {
    esui::ReportUi& r = report_ui();
    nlohmann::json j;
    j["vocabulary_ready"] = r.vocab_ready;
    j["report"] = nlohmann::json::parse(r.document_json());
    j["selected_finding"] = r.selected_finding;
    j["can_undo"] = r.can_undo();
    j["can_redo"] = r.can_redo();
    j["undo"] = r.can_undo() ? r.undo_steps.back().what : "";
    j["saves_requested"] = r.saves_requested;
    j["user_name"] = r.user_name;
    j["who"] = r.who();
    const std::optional<int> total = es::bbps_total(r.report.bowel_preparation);
    const std::optional<bool> adequate = es::bbps_adequate(r.report.bowel_preparation);
    j["bbps_total"] = total ? nlohmann::json(*total) : nlohmann::json(nullptr);
    j["bbps_adequate"] = adequate ? nlohmann::json(*adequate) : nlohmann::json(nullptr);
    auto warnings = nlohmann::json::array();
    for (const auto& w : esui::report_warnings(app(), r))
        warnings.push_back({{"path", w.path}, {"code", w.code}, {"message", w.message}, {"blocks_signing", w.blocks_signing}});
    j["warnings"] = warnings;
    j["preview"] = es::report_text(r.report, r.vocab);
    j["last_error"] = r.last_error;
    return out(j.dump());
}

}  // extern "C"
