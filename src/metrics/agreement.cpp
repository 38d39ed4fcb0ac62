// agreement.cpp: see agreement.h.
#include "metrics/agreement.h"

#include <cmath>
#include <limits>

#include "annotation/geometry.h"

namespace es {

double cohen_kappa(const std::vector<int>& first, const std::vector<int>& second, int num_classes,
                   KappaWeighting weighting, const std::vector<double>& weights) {
    const size_t k = size_t(num_classes);
    std::vector<double> observed(k * k, 0.0), rows(k, 0.0), cols(k, 0.0);
    double total = 0;
    for (size_t i = 0; i < first.size() && i < second.size(); ++i) {
        const double w = weights.empty() ? 1.0 : weights[i];
        observed[size_t(first[i]) * k + size_t(second[i])] += w;
        rows[size_t(first[i])] += w;
        cols[size_t(second[i])] += w;
        total += w;
    }
    if (total <= 0) return std::numeric_limits<double>::quiet_NaN();
    double disagreement = 0, expected = 0;
    for (size_t i = 0; i < k; ++i)
        for (size_t j = 0; j < k; ++j) {
            const double d = double(i) - double(j);
            const double w = weighting == KappaWeighting::none ? (i == j ? 0.0 : 1.0)
                             : weighting == KappaWeighting::linear ? std::fabs(d)
                                                                   : d * d;
            disagreement += w * observed[i * k + j];
            expected += w * rows[i] * cols[j] / total;
        }
    if (expected == 0) return std::numeric_limits<double>::quiet_NaN();
    return 1.0 - disagreement / expected;
}

LabelAgreement label_agreement(const std::vector<int>& first, const std::vector<int>& second, int num_classes,
                               KappaWeighting weighting, const BootstrapOptions& bootstrap) {
    std::vector<double> same;
    for (size_t i = 0; i < first.size() && i < second.size(); ++i) same.push_back(first[i] == second[i] ? 1.0 : 0.0);
    LabelAgreement out;
    out.metrics = {{"kappa", cohen_kappa(first, second, num_classes, weighting), {}},
                   {"observed_agreement", weighted_mean(same, {}), {}}};
    attach_intervals(out.metrics, bootstrap_intervals(same.size(), bootstrap, 2,
                                                      [&](const std::vector<double>& w, double* o) {
                                                          o[0] = cohen_kappa(first, second, num_classes, weighting, w);
                                                          o[1] = weighted_mean(same, w);
                                                      }));
    return out;
}

RegionAgreement region_agreement_from(std::vector<double> iou, std::vector<double> dice,
                                      const BootstrapOptions& bootstrap) {
    RegionAgreement out;
    out.iou = std::move(iou);
    out.dice = std::move(dice);
    out.metrics = {{"mean_iou", weighted_mean(out.iou, {}), {}}, {"mean_dice", weighted_mean(out.dice, {}), {}}};
    attach_intervals(out.metrics, bootstrap_intervals(out.iou.size(), bootstrap, 2,
                                                      [&](const std::vector<double>& w, double* o) {
                                                          o[0] = weighted_mean(out.iou, w);
                                                          o[1] = weighted_mean(out.dice, w);
                                                      }));
    return out;
}

RegionAgreement region_agreement(const std::vector<Mask>& first, const std::vector<Mask>& second,
                                 const BootstrapOptions& bootstrap) {
    std::vector<double> iou, dice;
    for (size_t i = 0; i < first.size() && i < second.size(); ++i) {
        iou.push_back(mask_iou(first[i], second[i]));
        dice.push_back(mask_dice(first[i], second[i]));
    }
    return region_agreement_from(std::move(iou), std::move(dice), bootstrap);
}

}  // namespace es
