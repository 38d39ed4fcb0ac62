// metrics.h: counters for GET /metrics (Prometheus text format 0.0.4).
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "api/scheduler.h"

namespace es::server {

class RequestCounters {
public:
    // route: a fixed label ("/v1/chat/completions", "static", "other", ...).
    void count(const std::string& route, int status);
    std::map<std::pair<std::string, int>, uint64_t> snapshot() const;

private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, uint64_t> counts_;
};

// The route label of a request path: API paths as they are (only known ones),
// everything else "static" (GET/HEAD of app files) or "other", so the label
// set stays small whatever clients send.
std::string route_label(const std::string& method, const std::string& path);

struct MetricsInput {
    std::map<std::pair<std::string, int>, uint64_t> requests;
    SchedulerStats scheduler;
    long long gpu_memory_bytes = -1;  // -1: unknown (not reported)
};
std::string prometheus_text(const MetricsInput& in);

}  // namespace es::server
