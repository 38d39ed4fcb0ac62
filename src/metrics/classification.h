// classification.h: metrics of single-label classification from the true and
// predicted class of each item, as scikit-learn defines them: accuracy, per-class
// precision/recall/F1/support, macro-F1, the confusion matrix.
//
// A prediction may be "unmapped" (kUnmapped: a generated answer that names no
// label): it counts as wrong everywhere (accuracy, the recall of its true class)
// and as nobody's prediction (no class's precision), and has its own column in
// the confusion matrix. Items carry weights (bootstrap multiplicities; empty =
// all 1), so the same code scores the data and its resamples.
#pragma once
#include <cstddef>
#include <vector>

namespace es {

constexpr int kUnmapped = -1;

struct ClassificationCounts {
    int num_classes = 0;
    // num_classes rows (true class) x (num_classes + 1) columns (predicted class,
    // the last one: unmapped), weighted counts.
    std::vector<double> confusion;
    double at(int truth, int predicted) const {
        return confusion[size_t(truth) * size_t(num_classes + 1) + size_t(predicted < 0 ? num_classes : predicted)];
    }
    double total() const;
    double correct() const;
    double support(int c) const;     // items whose true class is c
    double predicted(int c) const;   // items predicted as c
    double unmapped() const;
};

// truth[i] in [0, num_classes); predicted[i] in [0, num_classes) or kUnmapped.
// The caller checks the ranges (metrics_json does, with messages).
ClassificationCounts count_classifications(const std::vector<int>& truth, const std::vector<int>& predicted,
                                           int num_classes, const std::vector<double>& weights = {});

struct ClassScores {
    double precision = 0, recall = 0, f1 = 0;  // 0 where undefined (sklearn's zero_division default)
    double support = 0;
    bool present = false;  // true or predicted at least once: the classes macro averages run over
};

double accuracy(const ClassificationCounts& counts);  // NaN when there are no items
std::vector<ClassScores> class_scores(const ClassificationCounts& counts);
// Mean F1 over the present classes (sklearn f1_score(average="macro") with labels =
// the classes in truth or predictions); if `only` is not empty, over the present
// classes among those. NaN when none is present.
double macro_f1(const std::vector<ClassScores>& scores, const std::vector<int>& only = {});
// Accuracy over the items whose true class is one of `classes`.
double accuracy_within(const ClassificationCounts& counts, const std::vector<int>& classes);

}  // namespace es
