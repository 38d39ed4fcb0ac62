// grounding.cpp: see grounding.h.
#include "metrics/grounding.h"

namespace es {

GroundingReport grounding_report(const std::vector<GroundingItem>& items, double iou_threshold,
                                 const BootstrapOptions& bootstrap) {
    GroundingReport report;
    std::vector<double> hit, missing;
    for (const GroundingItem& item : items) {
        const double iou = item.predicted ? box_iou(item.truth, *item.predicted) : 0.0;
        report.iou.push_back(iou);
        hit.push_back(iou >= iou_threshold ? 1.0 : 0.0);
        missing.push_back(item.predicted ? 0.0 : 1.0);
    }
    const std::vector<const std::vector<double>*> columns = {&hit, &report.iou, &missing};
    report.metrics = {{"accuracy_at_iou", weighted_mean(hit, {}), {}},
                      {"mean_iou", weighted_mean(report.iou, {}), {}},
                      {"missing_rate", weighted_mean(missing, {}), {}}};
    attach_intervals(report.metrics,
                     bootstrap_intervals(items.size(), bootstrap, 3, [&](const std::vector<double>& w, double* out) {
                         for (size_t s = 0; s < columns.size(); ++s) out[s] = weighted_mean(*columns[s], w);
                     }));
    return report;
}

}  // namespace es
