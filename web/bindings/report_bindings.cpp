// report_bindings.cpp: renders the report inside a case bundle with the core
// (the same code as the native tools/render_report), for JS: the Node module
// (tests compare it with the native command) and the app (a bundle opened or
// about to be exported). The app's own report exports (the Report tab) are in
// ui/report_exports.cpp. The page passes the PDF fonts as bytes (the app
// serves Debian's DejaVuSans.ttf and DejaVuSans-Bold.ttf in fonts/).
// Fails soft: null, and es_report_render_error() says why in plain words.
#include <emscripten/emscripten.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "case/case_bundle.h"
#include "report/report_bundle.h"
#include "report/report_fhir.h"
#include "report/report_html.h"
#include "report/report_pdf.h"
#include "report/report_text.h"
#include "report/report_vocabulary.h"

namespace {

std::vector<uint8_t> g_result;  // last rendering, valid until the next call
std::string g_error;
std::string g_warnings;         // JSON array of the last rendering's warnings
es::PdfFonts g_fonts;

const uint8_t* fail(const std::string& message) {
    g_error = message;
    g_result.clear();
    return nullptr;
}

}  // namespace

extern "C" {

// The TrueType font for report PDFs (bold = 1: the bold face). Copied; 1 when
// stored, 0 when the bytes are missing.
EMSCRIPTEN_KEEPALIVE int es_report_set_pdf_font(const uint8_t* bytes, int size, int bold) {
    if (!bytes || size <= 0) return 0;
    (bold ? g_fonts.bold : g_fonts.regular).assign(bytes, bytes + size);
    return 1;
}

// Renders the report of `bundle_json` (a case bundle) as `format`: "pdf",
// "fhir" (the Bundle with the PDF as presentedForm), "html" or "text".
// `vocabulary_json`: a JSON array of the vocabulary files' texts in load order
// (models/report, see src/report/README.md). `time`: the export instant for
// FHIR ("YYYY-MM-DDTHH:MM:SSZ"). Returns the bytes (length
// es_report_render_size()), or null with es_report_render_error().
EMSCRIPTEN_KEEPALIVE const uint8_t* es_report_render_bundle(const char* bundle_json, const char* vocabulary_json,
                                                            const char* format, const char* time) {
    g_warnings = "[]";
    const std::string fmt = format ? format : "";
    if (fmt != "pdf" && fmt != "fhir" && fmt != "html" && fmt != "text")
        return fail("unknown report format \"" + fmt + "\" (pdf, fhir, html or text)");
    es::CaseBundleRead read = es::read_case_bundle(bundle_json ? bundle_json : "");
    if (!read.ok) return fail(read.message + " (" + read.detail + ")");
    nlohmann::json files = nlohmann::json::parse(vocabulary_json ? vocabulary_json : "", nullptr, false);
    if (!files.is_array()) return fail("the report vocabulary must be a JSON array of the files' texts");
    std::vector<std::string> texts, names;
    for (const auto& f : files) {
        if (!f.is_string()) return fail("the report vocabulary must be a JSON array of the files' texts");
        texts.push_back(f.get<std::string>());
        names.push_back("file " + std::to_string(names.size() + 1));
    }
    es::ReportVocabulary vocab;
    std::string error;
    if (!es::report_vocabulary_load(vocab, texts, names, &error)) return fail("the report vocabulary does not load: " + error);
    es::BundleReport report = es::read_bundle_report(read.bundle, vocab);
    if (!report.ok) return fail(report.message + " (" + report.detail + ")");
    const std::vector<es::ReportImage> images = es::report_images(read.bundle);
    nlohmann::json warnings = nlohmann::json::array();
    if (fmt == "html") {
        const std::string page = es::report_html(report.report, vocab, images);
        g_result.assign(page.begin(), page.end());
    } else if (fmt == "text") {
        const std::string t = es::report_text(report.report, vocab);
        g_result.assign(t.begin(), t.end());
    } else {
        es::ReportPdfOptions options;
        options.fonts = g_fonts;
        es::ReportPdf pdf = es::report_to_pdf(report.report, vocab, images, options);
        for (const std::string& w : pdf.warnings) warnings.push_back(w);
        if (!pdf.ok) return fail(pdf.error);
        if (fmt == "pdf") {
            g_result = std::move(pdf.bytes);
        } else {
            es::ReportFhirOptions fo;
            fo.generated_at = time ? time : "";
            fo.pdf = std::move(pdf.bytes);
            fo.report_key = read.bundle.has_case ? read.bundle.case_info.id : "";
            es::ReportFhir fhir = es::report_to_fhir(report.report, vocab, images, fo);
            for (const std::string& w : fhir.warnings) warnings.push_back(w);
            if (!fhir.ok) return fail(fhir.error);
            g_result.assign(fhir.json.begin(), fhir.json.end());
        }
    }
    g_warnings = warnings.dump();
    g_error.clear();
    return g_result.data();
}

EMSCRIPTEN_KEEPALIVE int es_report_render_size() { return int(g_result.size()); }
EMSCRIPTEN_KEEPALIVE const char* es_report_render_error() { return g_error.c_str(); }
// JSON array of the last rendering's warnings (e.g. a linked image missing from the case).
EMSCRIPTEN_KEEPALIVE const char* es_report_render_warnings() { return g_warnings.c_str(); }

}  // extern "C"
