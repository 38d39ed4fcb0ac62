// model_comparison.h: a case's annotations against the model's outputs on the
// same images (the app's Compare tab): the first check of whether the model
// sees what the annotator drew.
//
// Who drew what: an annotation whose source is "sam" (a Segment mask) or
// "assistant" (a box accepted from an assistant answer) is the model's; every
// other one ("manual", "import") is the annotator's reference.
//
// - Classification: per image the model classified, its top label against the
//   labels the annotator marked on that image (label ids; a classifier's label
//   matches by id, or by name when it has no id, ignoring case and any
//   character that is not a letter or digit). Right when the top label is one
//   of them. Images with no reference label cannot be scored and are counted
//   apart. Per class (the classification.h definitions): truth = the marked
//   label the model named when it named one, else the first marked label.
// - Boxes: the model's boxes (assistant answers' boxes and accepted assistant
//   boxes; the same box given twice counts once) against the annotator's box
//   annotations, per image, paired greedily by highest IoU (at least
//   match_iou, 0.5 by default; labels are not compared: an answer's box label
//   is free text). Precision = matched / model boxes, recall = matched /
//   annotated boxes, and the mean IoU of the matched pairs.
// - Masks: per image, the union of the Segment masks against the union of the
//   annotator's masks and polygons (rasterised as in annotation_agreement.h):
//   IoU and Dice, means over the images where both sides have a region (an
//   image nobody ran Segment on says nothing about the model; such rows are
//   listed with in_model false).
#pragma once
#include <string>
#include <vector>

#include "annotation/annotation.h"

namespace es {

// What the app kept of the model's work on one image besides annotations.
struct ImageModelOutputs {
    std::string image;
    bool classified = false;
    std::string predicted_id, predicted_name;  // top label (id may be empty)
    double probability = 0;                    // of the top label
    std::vector<Box> boxes;                    // boxes read from assistant answers
};

bool model_annotation(const Annotation& a);  // source "sam" or "assistant"
// The label key used to match a classifier's label with an annotation label.
std::string label_match_key(const std::string& label);

struct ClassifiedImage {
    std::string image, predicted;   // predicted: the matched annotation label, else the classifier's id or name
    std::vector<std::string> truth;  // labels the annotator marked on the image (drawing order, once each)
    double probability = 0;
    bool right = false;
};

struct ClassRow {
    std::string label;
    double support = 0, predicted = 0, precision = 0, recall = 0, f1 = 0;
};

struct BoxImageRow {
    std::string image;
    int model = 0, annotated = 0, matched = 0;
    double mean_iou = 0;  // of the matched pairs (NaN without any)
};

struct MaskImageRow {
    std::string image;
    bool in_model = false, in_annotation = false;
    double iou = 0, dice = 0;
};

struct ModelComparison {
    std::vector<ClassifiedImage> classified;  // images the model classified that have reference labels
    int classified_unlabelled = 0;            // classified images without any reference label
    double accuracy = 0;                      // NaN when nothing could be scored
    double macro_f1 = 0;
    std::vector<ClassRow> per_class;

    std::vector<BoxImageRow> boxes;  // images with a model or an annotated box
    int model_boxes = 0, annotated_boxes = 0, matched_boxes = 0;
    double box_precision = 0, box_recall = 0, box_matched_mean_iou = 0;  // NaN when undefined

    std::vector<MaskImageRow> masks;  // images with a Segment mask or an annotated region
    double mean_mask_iou = 0, mean_mask_dice = 0;  // over rows with both sides; NaN when none
    int mask_pairs = 0;                           // rows with both sides
};

ModelComparison compare_with_model(const std::vector<ImageAnnotations>& annotations,
                                   const std::vector<ImageModelOutputs>& outputs, double match_iou = 0.5);

}  // namespace es
