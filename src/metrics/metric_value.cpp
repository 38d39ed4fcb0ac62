// metric_value.cpp: see metric_value.h.
#include "metrics/metric_value.h"

namespace es {

void attach_intervals(std::vector<MetricValue>& metrics, const std::vector<BootstrapInterval>& intervals) {
    for (size_t i = 0; i < metrics.size() && i < intervals.size(); ++i) metrics[i].interval = intervals[i];
}

}  // namespace es
