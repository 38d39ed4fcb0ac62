// annotation_version.cpp: see annotation_version.h.
#include "case/annotation_version.h"

#include <nlohmann/json.hpp>

#include "case/case_bundle.h"

namespace es {

namespace {

AnnotationVersionRead failed(const std::string& message, const std::string& detail) {
    AnnotationVersionRead r;
    r.message = message;
    r.detail = detail;
    return r;
}

AnnotationVersionRead from_coco(const std::string& coco_text, const std::string& kind) {
    CocoImport c = import_coco(coco_text);
    if (!c.ok)
        return failed("The annotations in this " + kind + " could not be read. Check that it is the file the app exported.",
                      c.error);
    AnnotationVersionRead r;
    r.ok = true;
    r.kind = kind;
    r.images = std::move(c.images);
    r.categories = std::move(c.categories);
    return r;
}

}  // namespace

AnnotationVersionRead read_annotation_version(const std::string& text) {
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return failed("This file is not a COCO export or a case bundle (it is not a JSON object). Choose the .json file "
                      "the other annotator exported.",
                      j.is_discarded() ? "not JSON" : "top level is not an object");
    const std::string format = j.contains("format") && j["format"].is_string() ? j["format"].get<std::string>() : "";
    if (format == "endoscribe-case-bundle") {
        CaseBundleRead b = read_case_bundle(text);
        if (!b.ok) return failed(b.message, b.detail);
        AnnotationVersionRead r;
        r.ok = true;
        r.kind = "case bundle";
        r.images = std::move(b.bundle.annotations);
        r.categories = std::move(b.bundle.categories);
        return r;
    }
    if (format == "endoscribe-annotations") {
        if (!j.contains("coco") || !j["coco"].is_object())
            return failed("This annotation document has no annotations to compare.", "no \"coco\" object");
        return from_coco(j["coco"].dump(), "annotation document");
    }
    if (j.contains("images") && j.contains("annotations")) return from_coco(text, "COCO file");
    return failed("This file is not a COCO export or a case bundle. Choose the .json file the other annotator exported "
                  "(Image tab > Export COCO, or Case > Export bundle).",
                  format.empty() ? "no \"images\"/\"annotations\" and no \"format\"" : "format \"" + format + "\"");
}

}  // namespace es
