// annotation_agreement.h: two versions of a case's annotations compared image by
// image: two annotators (agreement, the start of teaching sessions), or an
// annotator's reference against the model's outputs accepted as annotations.
// Images are matched by their key; an image missing from one version counts as
// annotated with nothing there.
//
// - Labels: for every image in either version and every label used in either,
//   does each version mark that label on that image (any annotation kind)?
//   Cohen's kappa and observed agreement over these (image, label) pairs.
// - Regions: per (image, label) that either version outlines (box, polygon or
//   mask; points have no area), the union of that version's shapes as a mask
//   (boxes and polygons rasterised at pixel centres), then IoU and Dice of the
//   two unions (0 when only one version drew the label there); means over pairs.
// - Objects: shapes of the same label paired greedily by highest IoU (at least
//   match_iou, 0.5 by default), each used once; precision = matched / second's
//   shapes, recall = matched / first's shapes (first = the reference), F1, and
//   the mean IoU of the matched pairs.
#pragma once
#include <string>
#include <vector>

#include "annotation/annotation.h"
#include "metrics/metric_value.h"

namespace es {

struct RegionPair {
    std::string image, label;
    bool in_first = false, in_second = false;
    double iou = 0, dice = 0;
};

struct AnnotationAgreement {
    // kappa, observed_agreement, mean_iou, mean_dice, object_precision, object_recall, object_f1, matched_mean_iou
    std::vector<MetricValue> metrics;
    size_t label_pairs = 0;            // (image, label) pairs behind kappa
    std::vector<RegionPair> regions;
    double first_objects = 0, second_objects = 0, matched_objects = 0;
};

AnnotationAgreement annotation_agreement(const std::vector<ImageAnnotations>& first,
                                         const std::vector<ImageAnnotations>& second, double match_iou,
                                         const BootstrapOptions& bootstrap);

}  // namespace es
