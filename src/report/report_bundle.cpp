// report_bundle.cpp: see report_bundle.h.
#include "report/report_bundle.h"

#include "report/report_json.h"

namespace es {

std::vector<ReportImage> report_images(const CaseBundle& bundle) {
    std::vector<ReportImage> out;
    for (const BundleImage& img : bundle.images) {
        ReportImage r;
        r.name = img.name;
        r.bytes = img.bytes;
        r.annotations = bundle.find_annotations(img.name);
        if (r.annotations) {
            r.width = r.annotations->width;
            r.height = r.annotations->height;
        }
        out.push_back(std::move(r));
    }
    return out;
}

BundleReport read_bundle_report(const CaseBundle& bundle, const ReportVocabulary& vocab) {
    BundleReport r;
    if (bundle.report_json.empty()) {
        r.message = "This case has no report yet. Open it in the app, write the report in the Report tab and export the case again.";
        r.detail = "report: absent";
        return r;
    }
    std::string error;
    if (!report_from_json(bundle.report_json, vocab, &r.report, &error)) {
        r.message = "The report in this case bundle cannot be read; the case's images and annotations are unaffected. "
                    "Open the case in the app to see and fix the report, then export it again.";
        r.detail = "report." + error;
        return r;
    }
    r.ok = true;
    return r;
}

}  // namespace es
