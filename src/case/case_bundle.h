// case_bundle.h: a whole case in one JSON file (".endoscribe.json"), as the app
// exports it (web/annotation/case_bundle.js):
//   { "format": "endoscribe-case-bundle", "version": 1,
//     "document": { the annotation document: "format": "endoscribe-annotations",
//                   "case": case.json or null, "coco": COCO annotations, ... },
//     "images": [ { "name": "image-1.png", "bytes_base64": "..." } ],
//     "report": { the report (report_json.h) } }        // optional
// The reader gives the image bytes, the annotations, the case and the report's
// JSON text (read with report_from_json, which needs the vocabulary). The
// writer makes the same shape, for tools and tests.
//
// Bad bundles (not JSON, wrong format, hostile sizes or nesting, bad base64,
// duplicate or unsafe image names, annotations that do not read) give ok =
// false, a message in plain words and a detail naming the place; never a crash.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "annotation/annotation.h"
#include "annotation/coco.h"
#include "case/case.h"

namespace es {

struct BundleImage {
    std::string name;            // the image's key in the case (its file name)
    std::vector<uint8_t> bytes;  // the file as opened (PNG, JPEG, BMP)
};

struct CaseBundle {
    std::vector<BundleImage> images;            // case order
    std::vector<ImageAnnotations> annotations;  // from the document's COCO (images without annotations may be absent)
    std::vector<CocoCategory> categories;
    bool has_case = false;
    Case case_info;           // the document's case.json, when has_case
    std::string report_json;  // the "report" value as JSON text; "" when the bundle has none

    const BundleImage* find_image(const std::string& name) const;
    const ImageAnnotations* find_annotations(const std::string& image) const;
};

struct CaseBundleLimits {
    size_t max_bytes = size_t(1) << 30;  // the whole bundle text
    int max_depth = 64;                  // nesting of arrays/objects
    size_t max_images = 10000;
    size_t max_name = 255;               // image name length
};

struct CaseBundleRead {
    bool ok = false;
    CaseBundle bundle;
    std::string message;  // for the user: what happened and what to do
    std::string detail;   // technical: the place and the problem, e.g. "images[2].bytes_base64: character 17 is not base64"
};

CaseBundleRead read_case_bundle(const std::string& text, const CaseBundleLimits& limits = {});

// The bundle text case_bundle.js writes: document_json is the annotation
// document as text, report_json the report as text ("" = no "report" key).
// Returns "" when document_json or report_json is not JSON.
std::string write_case_bundle(const std::string& document_json, const std::vector<BundleImage>& images,
                              const std::string& report_json = "");

// The annotation document the app keeps (ui/annotation_state.cpp,
// AnnotationUi::document_json) for a case and its annotations.
std::string make_annotation_document(const Case* case_info, const std::vector<ImageAnnotations>& annotations,
                                     const std::vector<CocoCategory>& categories = {});

}  // namespace es
