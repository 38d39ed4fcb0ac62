// classification_report.h: everything the evaluation reports for a
// classification run, from the true class, the predicted class (or none:
// unmapped) and, for label scoring, the full probability vector of each item.
//
// Figures: accuracy, macro-F1, unmapped rate, and with probabilities macro
// AUROC (one-vs-rest), Brier score and ECE (calibration.h), each with a
// percentile bootstrap interval over items (bootstrap.h); per class precision,
// recall, F1, support and AUROC; the confusion matrix; the reliability diagram;
// ROC curves. With training-set counts per class, the same split as the
// MedGemma-on-HyperKvasir study: "frequent" classes (>= threshold training
// images, default 100) and "rare" ones (< threshold). Per group: accuracy over
// the items whose true class is in the group; macro-F1 and macro-AUROC = the
// mean of the per-class values (computed on all items) over the group's classes
// that are present (macro-F1) or have an AUROC (macro-AUROC).
#pragma once
#include <string>
#include <vector>

#include "metrics/auroc.h"
#include "metrics/bootstrap.h"
#include "metrics/calibration.h"
#include "metrics/classification.h"
#include "metrics/metric_value.h"

namespace es {

struct ClassificationInput {
    int num_classes = 0;
    std::vector<int> truth;             // n, in [0, num_classes)
    std::vector<int> predicted;         // n, class or kUnmapped; empty: arg-max of the probabilities
    std::vector<double> probabilities;  // n * num_classes, rows summing to 1; empty for generated answers
    std::vector<double> train_counts;   // num_classes training images per class; empty: no frequency split
    double frequency_threshold = 100;
    int calibration_bins = 15;
    bool roc_curves = true;
    BootstrapOptions bootstrap;
};

struct ClassGroup {
    std::string name;          // "frequent" or "rare"
    std::vector<int> classes;  // training count >= threshold (frequent) or < threshold (rare)
    double items = 0;          // test items whose true class is in the group
    std::vector<MetricValue> metrics;  // accuracy, macro_f1[, macro_auroc]
};

struct ClassificationReport {
    std::vector<MetricValue> metrics;  // accuracy, macro_f1, unmapped_rate[, macro_auroc, brier, ece]
    ClassificationCounts counts;       // the confusion matrix
    std::vector<ClassScores> per_class;
    std::vector<double> per_class_auroc;  // NaN where undefined; empty without probabilities
    Calibration calibration;              // empty without probabilities
    std::vector<RocCurve> roc_curves;     // per class; empty without probabilities
    std::vector<ClassGroup> groups;       // empty without training counts
};

// The caller has checked the input (metrics_json does, with messages).
ClassificationReport classification_report(const ClassificationInput& input);

}  // namespace es
