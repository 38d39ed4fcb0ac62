// report_bundle.h: the report of a case bundle (case/case_bundle.h): its JSON
// read with the vocabulary, and the bundle's images as the renderers take them
// (report_html.h ReportImage, with each image's annotations). What the native
// command (tools/render_report) and the app's bindings share.
#pragma once
#include <string>
#include <vector>

#include "case/case_bundle.h"
#include "report/report.h"
#include "report/report_html.h"
#include "report/report_vocabulary.h"

namespace es {

// The bundle's images, in case order, pointing into `bundle` (keep it alive).
std::vector<ReportImage> report_images(const CaseBundle& bundle);

struct BundleReport {
    bool ok = false;
    Report report;
    std::string message;  // for the user, when !ok
    std::string detail;   // the field path and problem (report_from_json's message)
};

// The bundle's "report"; a bundle without one gives ok = false and says so.
BundleReport read_bundle_report(const CaseBundle& bundle, const ReportVocabulary& vocab);

}  // namespace es
