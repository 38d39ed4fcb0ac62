// bootstrap.h: seeded percentile bootstrap confidence intervals that come out
// bit-identical natively and in WebAssembly: our own generator (splitmix64) and
// our own unbiased bounded draw, because std::uniform_int_distribution differs
// between libstdc++ (native) and libc++ (emscripten).
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

namespace es {

// splitmix64 (Steele, Lea, Flood 2014): 64-bit state, one add and a mix per draw.
class SplitMix64 {
public:
    explicit SplitMix64(uint64_t seed) : state_(seed) {}
    uint64_t next();
    // Uniform in [0, n) without modulo bias (rejection of the short top range); n > 0.
    uint64_t below(uint64_t n);

private:
    uint64_t state_;
};

struct BootstrapOptions {
    int resamples = 1000;     // 0 = no intervals
    uint64_t seed = 0;
    double confidence = 0.95; // central interval: percentiles (1-c)/2 and (1+c)/2
};

struct BootstrapInterval {
    double low = std::numeric_limits<double>::quiet_NaN();
    double high = std::numeric_limits<double>::quiet_NaN();
    int resamples_used = 0;  // resamples where the statistic was defined (not NaN)
};

// Draws `resamples` bootstrap samples of n items (with replacement, n draws each,
// as multiplicities: counts[i] = how often item i was drawn) and calls
// `statistics(counts, out)` which writes `num_statistics` values (NaN = not defined
// on this resample, e.g. AUROC when a class was not drawn). Every statistic sees
// the same resamples (paired). Interval ends: numpy's default ("linear")
// percentile of the defined values; NaN when none was defined.
std::vector<BootstrapInterval> bootstrap_intervals(
    size_t n, const BootstrapOptions& options, int num_statistics,
    const std::function<void(const std::vector<double>& counts, double* out)>& statistics);

// numpy.percentile(values, q * 100) with the default linear interpolation; values need not be sorted.
double percentile_linear(std::vector<double> values, double q);

// The weighted mean of per-item values (weights empty = all 1); NaN when the weights sum to 0.
double weighted_mean(const std::vector<double>& values, const std::vector<double>& weights);

}  // namespace es
