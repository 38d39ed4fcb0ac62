// agreement.h: how far two readers (two annotators, or an annotator and the
// model) agree on the same images.
//
// Cohen's kappa, as scikit-learn's cohen_kappa_score with labels = all
// num_classes classes in their given order: kappa = 1 - sum(W * O) / sum(W * E),
// O the confusion matrix of the two readers, E the outer product of its margins
// over the total, W 0 on the diagonal and 1 elsewhere (unweighted), |i - j|
// (linear) or (i - j)^2 (quadratic; for ordered scales). NaN when E has no
// disagreement mass (both readers used one and the same class throughout).
//
// Regions: per image pair the IoU and Dice of the two masks (mask_iou and
// mask_dice of annotation/geometry.h: 1 when both are empty), and their means.
#pragma once
#include <string>
#include <vector>

#include "mask/mask.h"
#include "metrics/metric_value.h"

namespace es {

enum class KappaWeighting { none, linear, quadratic };

double cohen_kappa(const std::vector<int>& first, const std::vector<int>& second, int num_classes,
                   KappaWeighting weighting = KappaWeighting::none, const std::vector<double>& weights = {});

struct LabelAgreement {
    std::vector<MetricValue> metrics;  // kappa, observed_agreement
};

LabelAgreement label_agreement(const std::vector<int>& first, const std::vector<int>& second, int num_classes,
                               KappaWeighting weighting, const BootstrapOptions& bootstrap);

struct RegionAgreement {
    std::vector<double> iou, dice;     // per pair
    std::vector<MetricValue> metrics;  // mean_iou, mean_dice
};

// Pairs of the same size (the caller checks).
RegionAgreement region_agreement(const std::vector<Mask>& first, const std::vector<Mask>& second,
                                 const BootstrapOptions& bootstrap);
// The same from per-pair values already computed (e.g. box IoUs).
RegionAgreement region_agreement_from(std::vector<double> iou, std::vector<double> dice,
                                      const BootstrapOptions& bootstrap);

}  // namespace es
