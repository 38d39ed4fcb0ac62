// bootstrap.cpp: see bootstrap.h.
#include "metrics/bootstrap.h"

#include <algorithm>
#include <cmath>

namespace es {

uint64_t SplitMix64::next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t SplitMix64::below(uint64_t n) {
    // Values below `threshold` = 2^64 mod n would make the low residues more likely.
    const uint64_t threshold = (0 - n) % n;
    for (;;) {
        const uint64_t r = next();
        if (r >= threshold) return r % n;
    }
}

double percentile_linear(std::vector<double> values, double q) {
    if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
    std::sort(values.begin(), values.end());
    const double pos = q * double(values.size() - 1);
    const size_t lo = size_t(std::floor(pos));
    const size_t hi = std::min(lo + 1, values.size() - 1);
    const double frac = pos - double(lo);
    return values[lo] + (values[hi] - values[lo]) * frac;
}

double weighted_mean(const std::vector<double>& values, const std::vector<double>& weights) {
    double sum = 0, total = 0;
    for (size_t i = 0; i < values.size(); ++i) {
        const double w = weights.empty() ? 1.0 : weights[i];
        if (w == 0) continue;
        sum += w * values[i];
        total += w;
    }
    return total > 0 ? sum / total : std::numeric_limits<double>::quiet_NaN();
}

std::vector<BootstrapInterval> bootstrap_intervals(
    size_t n, const BootstrapOptions& options, int num_statistics,
    const std::function<void(const std::vector<double>& counts, double* out)>& statistics) {
    std::vector<BootstrapInterval> result(size_t(std::max(0, num_statistics)));
    if (n == 0 || options.resamples <= 0 || num_statistics <= 0) return result;
    std::vector<std::vector<double>> draws(result.size());
    SplitMix64 rng(options.seed);
    std::vector<double> counts(n);
    std::vector<double> out(result.size());
    for (int r = 0; r < options.resamples; ++r) {
        std::fill(counts.begin(), counts.end(), 0.0);
        for (size_t i = 0; i < n; ++i) counts[rng.below(n)] += 1.0;
        std::fill(out.begin(), out.end(), std::numeric_limits<double>::quiet_NaN());
        statistics(counts, out.data());
        for (size_t s = 0; s < out.size(); ++s)
            if (!std::isnan(out[s])) draws[s].push_back(out[s]);
    }
    const double tail = (1.0 - options.confidence) / 2.0;
    for (size_t s = 0; s < result.size(); ++s) {
        result[s].resamples_used = int(draws[s].size());
        if (draws[s].empty()) continue;
        result[s].low = percentile_linear(draws[s], tail);
        result[s].high = percentile_linear(draws[s], 1.0 - tail);
    }
    return result;
}

}  // namespace es
