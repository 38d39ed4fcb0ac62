// calibration.h: how well predicted probabilities match outcomes.
//
// Brier score (multi-class, Brier 1950): mean over items of
//   sum over classes k of (p_k - [k is the true class])^2,
// from 0 (certain and right) to 2 (certain and wrong); it equals the sum over
// classes of scikit-learn's binary brier_score_loss of each one-vs-rest column.
//
// Expected calibration error (Guo et al. 2017, top-label): the predicted class
// is the arg-max probability (the first on ties), its confidence that
// probability. M equal-width bins over [0, 1]; bin b holds confidences in
// (b/M, (b+1)/M], with 0 in bin 0: b = clamp(ceil(confidence * M) - 1, 0, M - 1).
// ECE = sum over bins of (items in bin / items) * |accuracy(bin) - mean confidence(bin)|.
// Default M = 15 (Guo et al.).
#pragma once
#include <vector>

namespace es {

// probabilities: n rows of num_classes (row-major); weights empty = all 1.
double brier_score(const std::vector<double>& probabilities, const std::vector<int>& truth, int num_classes,
                   const std::vector<double>& weights = {});

struct ReliabilityBin {
    double low = 0, high = 0;  // confidence range (low, high]
    double count = 0;          // (weighted) items
    double confidence = 0;     // mean top-label confidence; 0 when empty
    double accuracy = 0;       // fraction whose arg-max is the true class; 0 when empty
};

struct Calibration {
    double ece = 0;  // NaN when there are no items
    std::vector<ReliabilityBin> bins;
};

int calibration_bin(double confidence, int num_bins);
int arg_max(const double* row, int num_classes);
Calibration expected_calibration_error(const std::vector<double>& probabilities, const std::vector<int>& truth,
                                       int num_classes, int num_bins = 15, const std::vector<double>& weights = {});

}  // namespace es
