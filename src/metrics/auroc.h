// auroc.h: area under the ROC curve, one class against the rest, as
// scikit-learn's roc_auc_score computes it (the trapezoidal area under the ROC
// curve over distinct score thresholds). Equal scores form one threshold, so a
// positive tied with a negative counts one half (the Mann-Whitney statistic).
// The items are sorted by score once; a resample (weights) then costs one pass.
#pragma once
#include <cstddef>
#include <vector>

namespace es {

struct RocCurve {
    std::vector<double> thresholds;  // distinct scores, descending
    std::vector<double> fpr, tpr;    // start at (0, 0); one point per threshold
};

class OneVsRestAuroc {
public:
    // probabilities: n rows of num_classes scores (row-major); truth[i] in [0, num_classes).
    OneVsRestAuroc(const std::vector<double>& probabilities, const std::vector<int>& truth, int num_classes);
    // AUROC of class c's score for "is class c"; NaN when the (weighted) items
    // have no positive or no negative for c.
    double auroc(int c, const std::vector<double>& weights = {}) const;
    // Mean of the defined per-class AUROCs (of `only`, if not empty); NaN when none is.
    double macro_auroc(const std::vector<double>& weights = {}, const std::vector<int>& only = {}) const;
    // Every class's AUROC in one go (one pass for the class totals): what a bootstrap resample needs.
    std::vector<double> all_auroc(const std::vector<double>& weights = {}) const;
    // drop_intermediate: leave out points collinear with their neighbours (sklearn's default).
    RocCurve roc_curve(int c, bool drop_intermediate = true) const;
    int num_classes() const { return num_classes_; }

private:
    std::vector<double> probabilities_;  // copies: the object may outlive its arguments
    std::vector<int> truth_;
    int num_classes_;
    std::vector<std::vector<size_t>> order_;  // per class: items by score, descending
    double area(int c, double positives, double negatives, const std::vector<double>& weights) const;
};

// Mean of the defined (not NaN) values, over `only` when given; NaN when none is defined.
double mean_defined(const std::vector<double>& values, const std::vector<int>& only = {});

}  // namespace es
