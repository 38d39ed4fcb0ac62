// paired_difference.h: two configurations answered the same items (right or
// wrong each): how much better the second is, with an interval that respects
// the pairing. The ablation of the case agent (single pass / + reflection /
// + memory) compares its configurations this way.
//
// - difference = accuracy(second) - accuracy(first); its interval is the
//   percentile bootstrap over items, both configurations resampled together
//   (the same items in each resample), so per-item agreement narrows it.
// - The discordant pairs (first right only, second right only) and McNemar's
//   exact test: the two-sided binomial p-value of the smaller discordant count
//   out of all discordant pairs at 1/2 (1 when there is none).
#pragma once
#include <cstddef>
#include <vector>

#include "metrics/metric_value.h"

namespace es {

struct PairedDifference {
    std::vector<MetricValue> metrics;  // first_accuracy, second_accuracy, difference
    size_t items = 0;
    size_t first_only = 0, second_only = 0, both_right = 0, both_wrong = 0;
    double mcnemar_p = 1.0;
};

// first[i], second[i]: 1 right, 0 wrong (an answer that could not be read is wrong); same length.
PairedDifference paired_difference(const std::vector<double>& first, const std::vector<double>& second,
                                   const BootstrapOptions& bootstrap);

// Two-sided exact McNemar p-value for b and c discordant pairs: min(1, 2 * P(X <= min(b, c))), X ~ Bin(b + c, 1/2).
double mcnemar_exact_p(size_t b, size_t c);

}  // namespace es
