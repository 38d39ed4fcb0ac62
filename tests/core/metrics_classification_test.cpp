// Classification metrics on small cases worked out by hand (the Python test
// checks random cases against scikit-learn).
#include <gtest/gtest.h>

#include <cmath>

#include "metrics/auroc.h"
#include "metrics/calibration.h"
#include "metrics/classification.h"
#include "metrics/classification_report.h"

namespace {

// truth 0 0 1 1 2, predicted 0 1 1 (unmapped) 2; class 3 never occurs.
const std::vector<int> kTruth = {0, 0, 1, 1, 2};
const std::vector<int> kPredicted = {0, 1, 1, es::kUnmapped, 2};

TEST(MetricsClassification, CountsScoresAndMacroF1ByHand) {
    const es::ClassificationCounts c = es::count_classifications(kTruth, kPredicted, 4);
    EXPECT_EQ(c.at(0, 0), 1);
    EXPECT_EQ(c.at(0, 1), 1);
    EXPECT_EQ(c.at(1, es::kUnmapped), 1);
    EXPECT_EQ(c.unmapped(), 1);
    EXPECT_DOUBLE_EQ(es::accuracy(c), 0.6);
    const std::vector<es::ClassScores> s = es::class_scores(c);
    EXPECT_DOUBLE_EQ(s[0].precision, 1.0);
    EXPECT_DOUBLE_EQ(s[0].recall, 0.5);
    EXPECT_DOUBLE_EQ(s[0].f1, 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(s[1].precision, 0.5);  // the unmapped answer is nobody's prediction
    EXPECT_DOUBLE_EQ(s[1].recall, 0.5);     // but it is a miss for its true class
    EXPECT_DOUBLE_EQ(s[2].f1, 1.0);
    EXPECT_FALSE(s[3].present);
    EXPECT_DOUBLE_EQ(es::macro_f1(s), (2.0 / 3.0 + 0.5 + 1.0) / 3.0);  // class 3 is left out
    EXPECT_DOUBLE_EQ(es::macro_f1(s, {1, 3}), 0.5);
    EXPECT_DOUBLE_EQ(es::accuracy_within(c, {0, 2}), 2.0 / 3.0);
}

TEST(MetricsClassification, WeightsActAsRepeatedItems) {
    const es::ClassificationCounts w = es::count_classifications(kTruth, kPredicted, 3, {2, 0, 1, 1, 0});
    const es::ClassificationCounts r = es::count_classifications({0, 0, 1, 1}, {0, 0, 1, es::kUnmapped}, 3);
    EXPECT_EQ(w.confusion, r.confusion);
}

// Two classes; class 0's scores: positives 0.9 and 0.5, negatives 0.5 and 0.1.
// Pairs: 1 + 1 + 1/2 (the tie) + 1 = 3.5 of 4.
const std::vector<double> kProbabilities = {0.9, 0.1, 0.5, 0.5, 0.5, 0.5, 0.1, 0.9};
const std::vector<int> kTruth2 = {0, 0, 1, 1};

TEST(MetricsAuroc, TiesCountHalf) {
    es::OneVsRestAuroc a(kProbabilities, kTruth2, 2);
    EXPECT_DOUBLE_EQ(a.auroc(0), 0.875);
    EXPECT_DOUBLE_EQ(a.auroc(1), 0.875);
    EXPECT_DOUBLE_EQ(a.macro_auroc(), 0.875);
    // Weights: drop item 1 (the tied positive): positive 0.9 beats both negatives.
    EXPECT_DOUBLE_EQ(a.auroc(0, {1, 0, 1, 1}), 1.0);
    // No positives of class 0: undefined, and left out of the macro average.
    EXPECT_TRUE(std::isnan(a.auroc(0, {0, 0, 1, 1})));
    const es::RocCurve roc = a.roc_curve(0);
    ASSERT_EQ(roc.fpr.size(), 4u);  // start + thresholds 0.9, 0.5, 0.1
    EXPECT_DOUBLE_EQ(roc.tpr[1], 0.5);
    EXPECT_DOUBLE_EQ(roc.fpr[2], 0.5);
    EXPECT_DOUBLE_EQ(roc.tpr[2], 1.0);
}

TEST(MetricsAuroc, PerfectAndReversedRankings) {
    const std::vector<double> p = {0.8, 0.2, 0.7, 0.3, 0.4, 0.6, 0.1, 0.9};
    es::OneVsRestAuroc a(p, {0, 0, 1, 1}, 2);
    EXPECT_DOUBLE_EQ(a.auroc(0), 1.0);
    es::OneVsRestAuroc b(p, {1, 1, 0, 0}, 2);
    EXPECT_DOUBLE_EQ(b.auroc(0), 0.0);
}

TEST(MetricsCalibration, BrierAndEceByHand) {
    // (0.1² + 0.1²) + (0.5² + 0.5²) * 2 + (0.1² + 0.1²) = 1.04 over 4 items.
    EXPECT_DOUBLE_EQ(es::brier_score(kProbabilities, kTruth2, 2), 0.26);
    // Confidences 0.9 (bin 13 of 15, both right) and 0.5 (bin 7, arg-max 0 on the tie:
    // one right, one wrong): |1 - 0.9| * 1/2 + |0.5 - 0.5| * 1/2.
    const es::Calibration c = es::expected_calibration_error(kProbabilities, kTruth2, 2, 15);
    EXPECT_NEAR(c.ece, 0.05, 1e-15);
    EXPECT_EQ(c.bins[13].count, 2);
    EXPECT_DOUBLE_EQ(c.bins[7].accuracy, 0.5);
    EXPECT_EQ(es::calibration_bin(0.0, 15), 0);
    EXPECT_EQ(es::calibration_bin(1.0, 15), 14);
    EXPECT_EQ(es::calibration_bin(0.5, 10), 4);  // (0.4, 0.5]
}

TEST(MetricsClassificationReport, FrequencySplitAndIntervals) {
    es::ClassificationInput in;
    in.num_classes = 3;
    in.truth = kTruth;
    in.predicted = kPredicted;
    in.train_counts = {150, 50, 100};  // class 2 has exactly the threshold: frequent
    in.bootstrap.resamples = 200;
    const es::ClassificationReport r = es::classification_report(in);
    ASSERT_EQ(r.metrics.size(), 3u);
    EXPECT_EQ(r.metrics[0].name, "accuracy");
    EXPECT_DOUBLE_EQ(r.metrics[0].value, 0.6);
    EXPECT_DOUBLE_EQ(r.metrics[2].value, 0.2);  // unmapped rate
    ASSERT_EQ(r.groups.size(), 2u);
    EXPECT_EQ(r.groups[0].classes, (std::vector<int>{0, 2}));
    EXPECT_EQ(r.groups[0].items, 3);
    EXPECT_DOUBLE_EQ(r.groups[0].metrics[0].value, 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(r.groups[0].metrics[1].value, (2.0 / 3.0 + 1.0) / 2.0);
    EXPECT_DOUBLE_EQ(r.groups[1].metrics[0].value, 0.5);
    EXPECT_DOUBLE_EQ(r.groups[1].metrics[1].value, 0.5);
    // Five items: resampled accuracies are multiples of 1/5 around 0.6.
    const es::BootstrapInterval& ci = r.metrics[0].interval;
    EXPECT_EQ(ci.resamples_used, 200);
    EXPECT_LE(ci.low, 0.6);
    EXPECT_GE(ci.high, 0.6);
    EXPECT_LT(ci.low, ci.high);
    EXPECT_GE(ci.low, 0.0);
    EXPECT_LE(ci.high, 1.0);
}

TEST(MetricsClassificationReport, ProbabilitiesGiveArgMaxAndRankingFigures) {
    es::ClassificationInput in;
    in.num_classes = 2;
    in.truth = kTruth2;
    in.probabilities = kProbabilities;
    in.bootstrap.resamples = 0;
    const es::ClassificationReport r = es::classification_report(in);
    ASSERT_EQ(r.metrics.size(), 6u);
    EXPECT_DOUBLE_EQ(r.metrics[0].value, 0.75);  // arg-max 0 0 0 1
    EXPECT_EQ(r.metrics[3].name, "macro_auroc");
    EXPECT_DOUBLE_EQ(r.metrics[3].value, 0.875);
    EXPECT_DOUBLE_EQ(r.metrics[4].value, 0.26);
    EXPECT_NEAR(r.metrics[5].value, 0.05, 1e-15);
    EXPECT_TRUE(std::isnan(r.metrics[0].interval.low));
}

}  // namespace
