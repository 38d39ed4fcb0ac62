// libFuzzer target for the report reader, es::report_from_json(): a report
// arrives inside a case bundle from anywhere, so malformed or hostile ones
// must fail with a message, never crash. Invariants: a refusal carries a
// message; what parses writes back to JSON that parses to the same report and
// the same text; every signed version reads back as it was signed; everything
// downstream (quality warnings, surveillance rules, narrative, text, HTML) runs
// on it; the HTML never contains a script tag.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>

#include "report/report_html.h"
#include "report/report_json.h"
#include "report/report_narrative.h"
#include "report/report_quality.h"
#include "report/report_text.h"
#include "report/surveillance_rules.h"

namespace {

std::string read_model(const std::string& name) {
    std::ifstream f(std::string(ES_SOURCE_DIR) + "/models/report/" + name, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

struct Models {
    es::ReportVocabulary vocab;
    es::SurveillanceTable esge, usmstf;
    Models() {
        std::vector<std::string> texts;
        for (const std::string& f : es::report_vocabulary_file_names()) texts.push_back(read_model(f));
        std::string error;
        if (!es::report_vocabulary_load(vocab, texts, es::report_vocabulary_file_names(), &error) ||
            !es::surveillance_table_parse(read_model("surveillance_esge2020.json"), &esge, &error) ||
            !es::surveillance_table_parse(read_model("surveillance_usmstf2020.json"), &usmstf, &error))
            __builtin_trap();  // the shipped models must load
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const Models models;
    const std::string text(reinterpret_cast<const char*>(data), size);
    es::Report report;
    std::string error;
    if (!es::report_from_json(text, models.vocab, &report, &error)) {
        if (error.empty()) __builtin_trap();
        return 0;
    }
    const std::string json = es::report_to_json(report);
    es::Report again;
    if (!es::report_from_json(json, models.vocab, &again, &error) || !(again == report) ||
        es::report_to_json(again) != json)
        __builtin_trap();
    // Every signed version reads back as it was signed; a final report is its last one.
    for (size_t n = 1; n <= report.versions.size(); ++n) {
        es::Report signed_version;
        if (!es::report_signed_version(report, static_cast<int>(n), models.vocab, &signed_version, &error) ||
            es::report_content_to_json(signed_version) != report.versions[n - 1].snapshot)
            __builtin_trap();
    }
    if (report.status == es::ReportStatus::Final &&
        es::report_content_to_json(report) != report.versions.back().snapshot)
        __builtin_trap();
    (void)es::report_quality_warnings(report, models.vocab);
    (void)es::suggest_surveillance(report, models.vocab, models.esge).interval_words();
    (void)es::suggest_surveillance(report, models.vocab, models.usmstf).interval_words();
    (void)es::report_text(report, models.vocab);
    const std::string html = es::report_html(report, models.vocab, {});
    if (html.find("<script") != std::string::npos || html.find("<SCRIPT") != std::string::npos) __builtin_trap();
    return 0;
}
