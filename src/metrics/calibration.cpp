// calibration.cpp: see calibration.h.
#include "metrics/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace es {

double brier_score(const std::vector<double>& probabilities, const std::vector<int>& truth, int num_classes,
                   const std::vector<double>& weights) {
    double sum = 0, total = 0;
    const size_t k = size_t(num_classes);
    for (size_t i = 0; i < truth.size(); ++i) {
        const double w = weights.empty() ? 1.0 : weights[i];
        if (w == 0) continue;
        double s = 0;
        for (size_t c = 0; c < k; ++c) {
            const double d = probabilities[i * k + c] - (int(c) == truth[i] ? 1.0 : 0.0);
            s += d * d;
        }
        sum += w * s;
        total += w;
    }
    return total > 0 ? sum / total : std::numeric_limits<double>::quiet_NaN();
}

int calibration_bin(double confidence, int num_bins) {
    const int b = int(std::ceil(confidence * num_bins)) - 1;
    return std::min(num_bins - 1, std::max(0, b));
}

int arg_max(const double* row, int num_classes) {
    int best = 0;
    for (int c = 1; c < num_classes; ++c)
        if (row[c] > row[best]) best = c;
    return best;
}

Calibration expected_calibration_error(const std::vector<double>& probabilities, const std::vector<int>& truth,
                                       int num_classes, int num_bins, const std::vector<double>& weights) {
    Calibration result;
    num_bins = std::max(1, num_bins);
    result.bins.resize(size_t(num_bins));
    std::vector<double> confidence_sum(size_t(num_bins), 0.0), correct_sum(size_t(num_bins), 0.0);
    double total = 0;
    for (size_t i = 0; i < truth.size(); ++i) {
        const double w = weights.empty() ? 1.0 : weights[i];
        if (w == 0) continue;
        const double* row = &probabilities[i * size_t(num_classes)];
        const int predicted = arg_max(row, num_classes);
        const double confidence = row[predicted];
        const size_t b = size_t(calibration_bin(confidence, num_bins));
        result.bins[b].count += w;
        confidence_sum[b] += w * confidence;
        correct_sum[b] += predicted == truth[i] ? w : 0.0;
        total += w;
    }
    double ece = 0;
    for (size_t b = 0; b < result.bins.size(); ++b) {
        ReliabilityBin& bin = result.bins[b];
        bin.low = double(b) / num_bins;
        bin.high = double(b + 1) / num_bins;
        if (bin.count <= 0) continue;
        bin.confidence = confidence_sum[b] / bin.count;
        bin.accuracy = correct_sum[b] / bin.count;
        ece += bin.count / total * std::fabs(bin.accuracy - bin.confidence);
    }
    result.ece = total > 0 ? ece : std::numeric_limits<double>::quiet_NaN();
    return result;
}

}  // namespace es
