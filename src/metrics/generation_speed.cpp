// generation_speed.cpp: see generation_speed.h.
#include "metrics/generation_speed.h"

#include <limits>

namespace es {

std::vector<MetricValue> generation_speed(const std::vector<GenerationTiming>& answers) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<double> seconds, rates;
    double token_sum = 0, token_seconds = 0;
    for (const GenerationTiming& a : answers) {
        seconds.push_back(a.seconds);
        if (a.tokens >= 0) {
            token_sum += a.tokens;
            token_seconds += a.seconds;
            if (a.seconds > 0) rates.push_back(a.tokens / a.seconds);
        }
    }
    return {{"answers", double(answers.size()), {}},
            {"mean_seconds", weighted_mean(seconds, {}), {}},
            {"median_seconds", percentile_linear(seconds, 0.5), {}},
            {"p90_seconds", percentile_linear(seconds, 0.9), {}},
            {"tokens_per_second", token_seconds > 0 ? token_sum / token_seconds : nan, {}},
            {"median_tokens_per_second", percentile_linear(rates, 0.5), {}}};
}

}  // namespace es
