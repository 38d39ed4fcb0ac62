// metrics.cpp: see metrics.h.
#include "api/metrics.h"

#include <cstdio>
#include <set>

namespace es::server {

void RequestCounters::count(const std::string& route, int status) {
    std::lock_guard<std::mutex> lock(mutex_);
    counts_[{route, status}]++;
}

std::map<std::pair<std::string, int>, uint64_t> RequestCounters::snapshot() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return counts_;
}

std::string route_label(const std::string& method, const std::string& path) {
    static const std::set<std::string> api = {"/v1/models", "/v1/chat/completions", "/v1/endoscribe/classify",
                                              "/v1/endoscribe/segment", "/v1/endoscribe/report/draft", "/health",
                                              "/metrics", "/api/config"};
    if (api.count(path)) return path;
    if (path.rfind("/v1/", 0) == 0) return "/v1/other";
    if (method == "GET" || method == "HEAD") return "static";
    return "other";
}

std::string prometheus_text(const MetricsInput& in) {
    std::string out;
    char buf[256];
    out += "# HELP endoscribe_requests_total HTTP requests answered, by route and status.\n";
    out += "# TYPE endoscribe_requests_total counter\n";
    for (const auto& [key, n] : in.requests) {
        std::snprintf(buf, sizeof buf, "endoscribe_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                      key.first.c_str(), key.second, static_cast<unsigned long long>(n));
        out += buf;
    }
    auto gauge = [&](const char* name, const char* help, const char* type, double v) {
        std::snprintf(buf, sizeof buf, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
        out += buf;
    };
    const SchedulerStats& s = in.scheduler;
    gauge("endoscribe_queue_length", "Jobs waiting for the model.", "gauge", s.queue_length);
    gauge("endoscribe_active_sequences", "Answers being generated.", "gauge", s.active_sequences);
    gauge("endoscribe_generated_tokens_total", "Tokens generated.", "counter", double(s.generated_tokens));
    gauge("endoscribe_tokens_per_second", "Tokens generated per second over the last 10 seconds.", "gauge",
          s.tokens_per_second);
    gauge("endoscribe_cancelled_total", "Jobs ended early because their client went away.", "counter",
          double(s.cancelled));
    gauge("endoscribe_rejected_total", "Requests refused because the queue was full (429).", "counter",
          double(s.rejected));
    gauge("endoscribe_decode_steps_total", "Batched decode steps run.", "counter", double(s.steps));
    gauge("endoscribe_max_batch_observed", "The most answers decoded together in one step.", "gauge",
          s.max_step_batch);
    gauge("endoscribe_cache_bytes", "Bytes held by kept KV caches and image features.", "gauge",
          double(s.cache_bytes));
    if (in.gpu_memory_bytes >= 0)
        gauge("endoscribe_gpu_memory_bytes", "GPU memory used by the model.", "gauge", double(in.gpu_memory_bytes));
    return out;
}

}  // namespace es::server
