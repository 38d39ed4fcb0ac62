// compare_work.h: the Compare tab's work kept with a case (the app saves it
// as it changes and restores it with the case, web/annotation/case_store.js
// "compare"): the model's outputs seen per image (the top classification,
// the boxes of the latest answer that gave boxes) and annotator B's version
// of the case with its file name and kind. Without it a reload loses every
// classification and answer the tab compared, and B.
//
// JSON: {"format": "endoscribe-compare-work", "version": 1,
//        "model_outputs": [{"image", "classified", "predicted_id",
//                           "predicted_name", "probability",
//                           "boxes": [[x, y, w, h], ...]}],
//        "annotator_b": null | {"name", "kind", "coco": <COCO, coco.h>}}
// Reading is all or nothing; the error names the field.
#pragma once
#include <string>
#include <vector>

#include "annotation/annotation.h"
#include "metrics/model_comparison.h"

namespace es {

struct CompareWork {
    std::vector<ImageModelOutputs> outputs;  // one per image, in image-name order
    bool has_second = false;
    std::string second_name, second_kind;  // B's file name and kind ("COCO file", "case bundle", ...)
    std::vector<ImageAnnotations> second;
};

std::string compare_work_to_json(const CompareWork& work);

struct CompareWorkRead {
    bool ok = false;
    CompareWork work;
    std::string error;  // "<field>: <what is wrong>"
};

CompareWorkRead compare_work_from_json(const std::string& text);

}  // namespace es
