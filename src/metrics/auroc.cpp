// auroc.cpp: see auroc.h.
#include "metrics/auroc.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace es {

OneVsRestAuroc::OneVsRestAuroc(const std::vector<double>& probabilities, const std::vector<int>& truth,
                               int num_classes)
    : probabilities_(probabilities), truth_(truth), num_classes_(num_classes), order_(size_t(num_classes)) {
    const size_t n = truth.size();
    const size_t k = size_t(num_classes);
    for (size_t c = 0; c < k; ++c) {
        std::vector<size_t>& order = order_[c];
        order.resize(n);
        std::iota(order.begin(), order.end(), size_t(0));
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return probabilities_[a * k + c] > probabilities_[b * k + c]; });
    }
}

double OneVsRestAuroc::area(int c, double positives, double negatives, const std::vector<double>& weights) const {
    if (positives <= 0 || negatives <= 0) return std::numeric_limits<double>::quiet_NaN();
    const size_t k = size_t(num_classes_);
    const std::vector<size_t>& order = order_[size_t(c)];
    // Walk the tie groups from the highest score down; a positive beats every
    // negative below its group and half of those in it.
    double sum = 0, negatives_above = 0;
    for (size_t g = 0; g < order.size();) {
        const double score = probabilities_[order[g] * k + size_t(c)];
        double pos = 0, neg = 0;
        size_t e = g;
        for (; e < order.size() && probabilities_[order[e] * k + size_t(c)] == score; ++e) {
            const double w = weights.empty() ? 1.0 : weights[order[e]];
            (truth_[order[e]] == c ? pos : neg) += w;
        }
        sum += pos * (negatives - negatives_above - neg) + 0.5 * pos * neg;
        negatives_above += neg;
        g = e;
    }
    return sum / (positives * negatives);
}

double OneVsRestAuroc::auroc(int c, const std::vector<double>& weights) const {
    double positives = 0, negatives = 0;
    for (size_t i = 0; i < truth_.size(); ++i) {
        const double w = weights.empty() ? 1.0 : weights[i];
        (truth_[i] == c ? positives : negatives) += w;
    }
    return area(c, positives, negatives, weights);
}

std::vector<double> OneVsRestAuroc::all_auroc(const std::vector<double>& weights) const {
    std::vector<double> positives(size_t(num_classes_), 0.0);
    double total = 0;
    for (size_t i = 0; i < truth_.size(); ++i) {
        const double w = weights.empty() ? 1.0 : weights[i];
        positives[size_t(truth_[i])] += w;
        total += w;
    }
    std::vector<double> out(static_cast<size_t>(num_classes_), 0.0);
    for (int c = 0; c < num_classes_; ++c)
        out[size_t(c)] = area(c, positives[size_t(c)], total - positives[size_t(c)], weights);
    return out;
}

double mean_defined(const std::vector<double>& values, const std::vector<int>& only) {
    double sum = 0;
    int n = 0;
    auto add = [&](int c) {
        if (c < 0 || size_t(c) >= values.size() || std::isnan(values[size_t(c)])) return;
        sum += values[size_t(c)];
        ++n;
    };
    if (only.empty())
        for (int c = 0; c < int(values.size()); ++c) add(c);
    else
        for (int c : only) add(c);
    return n ? sum / n : std::numeric_limits<double>::quiet_NaN();
}

double OneVsRestAuroc::macro_auroc(const std::vector<double>& weights, const std::vector<int>& only) const {
    return mean_defined(all_auroc(weights), only);
}

RocCurve OneVsRestAuroc::roc_curve(int c, bool drop_intermediate) const {
    RocCurve curve;
    const size_t k = size_t(num_classes_);
    const std::vector<size_t>& order = order_[size_t(c)];
    double positives = 0, negatives = 0;
    for (int t : truth_) (t == c ? positives : negatives) += 1;
    curve.fpr.push_back(0);
    curve.tpr.push_back(0);
    curve.thresholds.push_back(std::numeric_limits<double>::infinity());
    double tp = 0, fp = 0;
    std::vector<double> tps = {0}, fps = {0};  // counts: exact second differences below
    for (size_t g = 0; g < order.size();) {
        const double score = probabilities_[order[g] * k + size_t(c)];
        size_t e = g;
        for (; e < order.size() && probabilities_[order[e] * k + size_t(c)] == score; ++e)
            (truth_[order[e]] == c ? tp : fp) += 1;
        tps.push_back(tp);
        fps.push_back(fp);
        curve.thresholds.push_back(score);
        curve.fpr.push_back(negatives > 0 ? fp / negatives : 0.0);
        curve.tpr.push_back(positives > 0 ? tp / positives : 0.0);
        g = e;
    }
    if (drop_intermediate && curve.fpr.size() > 3) {
        // As sklearn's roc_curve(drop_intermediate=True): a point (after the
        // start) on the straight line between its neighbours adds nothing to a plot
        // or to the area.
        RocCurve kept;
        const size_t n = curve.fpr.size();
        for (size_t i = 0; i < n; ++i) {
            const bool keep = i <= 1 || i + 1 == n ||
                              fps[i + 1] - 2 * fps[i] + fps[i - 1] != 0 || tps[i + 1] - 2 * tps[i] + tps[i - 1] != 0;
            if (!keep) continue;
            kept.fpr.push_back(curve.fpr[i]);
            kept.tpr.push_back(curve.tpr[i]);
            kept.thresholds.push_back(curve.thresholds[i]);
        }
        return kept;
    }
    return curve;
}

}  // namespace es
