// annotation_version.h: one version of a case's annotations read from any file
// the app writes: a COCO export, a case bundle (".endoscribe.json", its
// document's COCO), or the annotation document itself. The Compare tab reads
// annotator B's version with it; nothing in the open case changes.
//
// Bad input gives ok = false, a message in plain words (what happened, what to
// do) and a technical detail; never a partial version.
#pragma once
#include <string>
#include <vector>

#include "annotation/annotation.h"
#include "annotation/coco.h"

namespace es {

struct AnnotationVersionRead {
    bool ok = false;
    std::string kind;  // "COCO file", "case bundle", "annotation document"
    std::vector<ImageAnnotations> images;
    std::vector<CocoCategory> categories;
    std::string message, detail;
};

AnnotationVersionRead read_annotation_version(const std::string& text);

}  // namespace es
