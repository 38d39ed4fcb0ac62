// classification.cpp: see classification.h.
#include "metrics/classification.h"

#include <limits>

namespace es {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

double ClassificationCounts::total() const {
    double s = 0;
    for (double v : confusion) s += v;
    return s;
}

double ClassificationCounts::correct() const {
    double s = 0;
    for (int c = 0; c < num_classes; ++c) s += at(c, c);
    return s;
}

double ClassificationCounts::support(int c) const {
    double s = 0;
    for (int p = 0; p <= num_classes; ++p) s += confusion[size_t(c) * size_t(num_classes + 1) + size_t(p)];
    return s;
}

double ClassificationCounts::predicted(int c) const {
    double s = 0;
    for (int t = 0; t < num_classes; ++t) s += at(t, c);
    return s;
}

double ClassificationCounts::unmapped() const {
    double s = 0;
    for (int t = 0; t < num_classes; ++t) s += at(t, kUnmapped);
    return s;
}

ClassificationCounts count_classifications(const std::vector<int>& truth, const std::vector<int>& predicted,
                                           int num_classes, const std::vector<double>& weights) {
    ClassificationCounts counts;
    counts.num_classes = num_classes;
    counts.confusion.assign(size_t(num_classes) * size_t(num_classes + 1), 0.0);
    for (size_t i = 0; i < truth.size() && i < predicted.size(); ++i) {
        const double w = weights.empty() ? 1.0 : weights[i];
        if (w == 0) continue;
        const int p = predicted[i] < 0 ? num_classes : predicted[i];
        counts.confusion[size_t(truth[i]) * size_t(num_classes + 1) + size_t(p)] += w;
    }
    return counts;
}

double accuracy(const ClassificationCounts& counts) {
    const double n = counts.total();
    return n > 0 ? counts.correct() / n : kNaN;
}

std::vector<ClassScores> class_scores(const ClassificationCounts& counts) {
    std::vector<ClassScores> scores(size_t(counts.num_classes));
    for (int c = 0; c < counts.num_classes; ++c) {
        ClassScores& s = scores[size_t(c)];
        const double tp = counts.at(c, c);
        const double predicted = counts.predicted(c);
        s.support = counts.support(c);
        s.present = s.support > 0 || predicted > 0;
        s.precision = predicted > 0 ? tp / predicted : 0.0;
        s.recall = s.support > 0 ? tp / s.support : 0.0;
        // As sklearn computes it (from precision and recall, 0 when both are 0).
        const double denom = s.precision + s.recall;
        s.f1 = denom > 0 ? 2 * s.precision * s.recall / denom : 0.0;
    }
    return scores;
}

double macro_f1(const std::vector<ClassScores>& scores, const std::vector<int>& only) {
    double sum = 0;
    int n = 0;
    auto add = [&](int c) {
        if (c < 0 || size_t(c) >= scores.size() || !scores[size_t(c)].present) return;
        sum += scores[size_t(c)].f1;
        ++n;
    };
    if (only.empty())
        for (int c = 0; c < int(scores.size()); ++c) add(c);
    else
        for (int c : only) add(c);
    return n ? sum / n : kNaN;
}

double accuracy_within(const ClassificationCounts& counts, const std::vector<int>& classes) {
    double correct = 0, total = 0;
    for (int c : classes) {
        if (c < 0 || c >= counts.num_classes) continue;
        correct += counts.at(c, c);
        total += counts.support(c);
    }
    return total > 0 ? correct / total : kNaN;
}

}  // namespace es
