// generation_speed.h: how long answers took. Per answer: seconds from request to
// last token and the number of generated tokens. Summary: answers, mean, median
// (numpy's: the mean of the two middle values for an even count) and 90th
// percentile (numpy's linear) of the seconds per answer; tokens per second over
// the run = all tokens / all seconds (answers without a token count are left
// out of it), and the median of the answers' own tokens per second.
#pragma once
#include <vector>

#include "metrics/metric_value.h"

namespace es {

struct GenerationTiming {
    double seconds = 0;
    double tokens = -1;  // < 0: not known
};

std::vector<MetricValue> generation_speed(const std::vector<GenerationTiming>& answers);

}  // namespace es
