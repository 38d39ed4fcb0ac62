// metric_value.h: one figure with its bootstrap interval, as every scorer in
// src/metrics reports it.
#pragma once
#include <limits>
#include <string>
#include <vector>

#include "metrics/bootstrap.h"

namespace es {

struct MetricValue {
    std::string name;  // e.g. "accuracy", "macro_f1"
    double value = std::numeric_limits<double>::quiet_NaN();  // NaN: not defined on these data
    BootstrapInterval interval;                               // NaN ends: no interval asked or none defined
};

// Fills the intervals of `metrics` (in order) from the statistics' resamples.
void attach_intervals(std::vector<MetricValue>& metrics, const std::vector<BootstrapInterval>& intervals);

}  // namespace es
