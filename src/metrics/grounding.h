// grounding.h: referring-expression comprehension (text -> box) and visual
// grounding: per item the IoU of the predicted box with the true box (0 when the
// answer gave no box), accuracy at IoU >= threshold (0.5 by convention: "Acc@0.5"),
// and the mean IoU.
#pragma once
#include <optional>
#include <vector>

#include "annotation/geometry.h"
#include "metrics/metric_value.h"

namespace es {

struct GroundingItem {
    Box truth;
    std::optional<Box> predicted;  // none: the answer had no box (counted as IoU 0)
};

struct GroundingReport {
    std::vector<double> iou;           // per item
    std::vector<MetricValue> metrics;  // accuracy_at_iou, mean_iou, missing_rate
};

GroundingReport grounding_report(const std::vector<GroundingItem>& items, double iou_threshold,
                                 const BootstrapOptions& bootstrap);

}  // namespace es
