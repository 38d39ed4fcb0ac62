// inference_api.h: the inference API on top of the app server - OpenAI's
// chat routes, /health, /metrics, and the hooks every /v1/* route shares
// (token, Host and Origin checks, CORS, JSON errors, request metrics).
//
// Adding a route (e.g. the EndoScribe extensions): write
//   void register_<name>_routes(httplib::Server& http, InferenceApi& api);
// in server/api/<name>_routes.cpp, declare it below, and call it from
// InferenceApi::install(). Inside a handler:
//   nlohmann::json body;
//   if (auto e = parse_json_object(req.body, 32, &body); !e.empty()) return send_error(res, e);
//   Result r;
//   if (!api.run_model_task(req, res, [&](ChatEngine* engine) { r = ...; })) return;  // 429/503/closed: res is set
//   res.set_content(..., "application/json");
// Access control, CORS and the body size limit are already applied to every
// path under /v1/ before the handler runs.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/access.h"
#include "api/api_error.h"
#include "api/chat_request.h"
#include "api/metrics.h"
#include "api/scheduler.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace es::server {

struct EndoscribeExtensions;  // api/endoscribe_routes.h

struct ApiOptions {
    SchedulerOptions scheduler;
    size_t max_body_bytes = 32u << 20;   // 413 above this
    ChatRequestLimits chat;               // image limits, image_url_hosts
    AccessPolicy access;
    std::shared_ptr<const EndoscribeExtensions> endoscribe;  // SAM, report vocabulary (none: those routes answer 503)
};

class InferenceApi {
public:
    explicit InferenceApi(ApiOptions options);
    ~InferenceApi();

    // Routes, access checks, error shapes and metrics on `http`. Call once,
    // before the app server's catch-all static route is added.
    void install(httplib::Server& http);

    // Model life cycle (server/model_loading.h): /health says "loading"
    // after set_loading(true), "ready" once set_engine() installed an engine,
    // "failed" (with `why`) after set_load_failed(), and "no_model" when none
    // was asked for.
    void set_loading(bool loading);
    void set_engine(std::shared_ptr<ChatEngine> engine);
    void set_load_failed(const std::string& why);
    // GPU memory in bytes for /metrics, when the engine knows it (-1: unknown).
    void set_gpu_memory_bytes(long long bytes) { gpu_memory_bytes_ = bytes; }

    Scheduler& scheduler() { return scheduler_; }
    const ApiOptions& options() const { return options_; }

    // For route handlers: the fairness key of a request - its remote address,
    // and OpenAI's `user` field when the request has one.
    static std::string client_key(const httplib::Request& req, const std::string& user = "");
    // Runs task(engine) on the model thread, queued fairly with chats; waits
    // for it. False when it did not run; `res` then holds the error (429 with
    // Retry-After when the queue is full, 503 while stopping) or the client went away.
    bool run_model_task(const httplib::Request& req, httplib::Response& res, std::function<void(ChatEngine*)> task);

    // Counted by the app server's logger for every response.
    void count_request(const httplib::Request& req, const httplib::Response& res);
    // Fills an empty error response under /v1/ or /metrics with OpenAI's JSON
    // error shape; false for other paths (the app server's plain text then).
    bool fill_error(const httplib::Request& req, httplib::Response& res);

    static bool is_api_path(const std::string& path);

    std::string health_json() const;
    std::string models_json() const;

private:
    void handle_chat(const httplib::Request& req, httplib::Response& res);

    ApiOptions options_;
    Scheduler scheduler_;
    RequestCounters requests_;
    // What /health says about the chat model besides "ready" (under state_mutex_).
    enum class ModelState { None, Loading, Failed };
    mutable std::mutex state_mutex_;
    ModelState model_state_ = ModelState::None;
    std::string load_error_;
    std::atomic<long long> gpu_memory_bytes_{-1};
    long long created_ = 0;
};

ApiError submit_error(SubmitStatus status, int retry_after_seconds);

// The EndoScribe extensions: segment, classify, report/draft (api/endoscribe_routes.cpp).
void register_endoscribe_routes(httplib::Server& http, InferenceApi& api);

}  // namespace es::server
