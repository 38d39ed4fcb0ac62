// inference_api.cpp: see inference_api.h.
#include "api/inference_api.h"

#include <httplib.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/chat_response.h"
#include "api/client_connection.h"
#include "api/endoscribe_routes.h"

namespace es::server {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Handlers poll their connection this often while they wait for the model.
constexpr auto kPollInterval = 50ms;
// Status recorded for requests whose client went away (nginx's convention;
// never sent, the connection is gone).
constexpr int kClientClosed = 499;

ApiError error_for_engine(EngineError e, const std::string& message) {
    switch (e) {
        case EngineError::BadRequest: return bad_request(message.empty() ? "The request cannot be answered." : message);
        case EngineError::UnknownModel: {
            ApiError err = bad_request(message.empty() ? "Unknown model." : message, "model", "model_not_found");
            err.status = 404;
            return err;
        }
        case EngineError::ContextTooLong:
            return bad_request(message.empty() ? "The conversation is longer than the model's context." : message,
                               "messages", "context_length_exceeded");
        case EngineError::ImageUnreadable:
            return bad_request(message.empty() ? "An image cannot be read." : message, "messages", "image_unreadable");
        default: {
            ApiError err;
            err.status = 500;
            err.message = message.empty() ? "The model failed; try again." : message;
            return err;
        }
    }
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// A call begins with '{' or whitespace; text under tool_choice "auto" never does
// (inference/text_or_json_constraint.h).
bool answer_is_call(AnswerFormat format, const std::string& text) {
    if (format == AnswerFormat::ToolCall) return true;
    if (format != AnswerFormat::TextOrToolCall || text.empty()) return false;
    const char c = text[0];
    return c == '{' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

ApiError submit_error(SubmitStatus status, int retry_after_seconds) {
    ApiError e;
    if (status == SubmitStatus::QueueFull) {
        e.status = 429;
        e.code = "queue_full";
        e.message = "The server is busy: too many requests are waiting. Try again in " +
                    std::to_string(retry_after_seconds) + " s.";
    } else if (status == SubmitStatus::NoEngine) {
        e.status = 503;
        e.code = "model_not_loaded";
        e.message = "No model is loaded on this server.";
    } else {
        e.status = 503;
        e.code = "shutting_down";
        e.message = "The server is shutting down.";
    }
    return e;
}

InferenceApi::InferenceApi(ApiOptions options) : options_(std::move(options)), scheduler_(options_.scheduler) {
    created_ = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

InferenceApi::~InferenceApi() { scheduler_.stop(); }

void InferenceApi::set_loading(bool loading) { loading_ = loading; }

void InferenceApi::set_engine(std::shared_ptr<ChatEngine> engine) {
    scheduler_.set_engine(std::move(engine));
    loading_ = false;
}

bool InferenceApi::is_api_path(const std::string& path) {
    return starts_with(path, "/v1/") || path == "/v1" || path == "/metrics";
}

std::string InferenceApi::client_key(const httplib::Request& req, const std::string& user) {
    // The address is what a client cannot choose; OpenAI's `user` tells apart
    // the people behind one address (the app's users on one machine, a proxy).
    return user.empty() ? req.remote_addr : req.remote_addr + "/" + user;
}

void InferenceApi::count_request(const httplib::Request& req, const httplib::Response& res) {
    requests_.count(route_label(req.method, req.path), res.status);
}

bool InferenceApi::fill_error(const httplib::Request& req, httplib::Response& res) {
    if (!is_api_path(req.path)) return false;
    if (!res.body.empty()) return true;
    ApiError e;
    e.status = res.status;
    if (res.status == 404) {
        e.message = "There is no API route " + req.method + " " + req.path + ". See GET /v1/models and POST /v1/chat/completions.";
        e.code = "unknown_route";
    } else if (res.status == 413) {
        e.message = "The request is larger than this server accepts (" + std::to_string(options_.max_body_bytes >> 20) +
                    " MiB). Send smaller or fewer images.";
        e.code = "request_too_large";
    } else if (res.status == 400) {
        e.message = "The request is malformed.";
    } else {
        e.message = "The request failed (HTTP " + std::to_string(res.status) + ").";
    }
    send_error(res, e);
    return true;
}

std::string InferenceApi::models_json() const {
    json data = json::array();
    for (const auto& m : scheduler_.models()) {
        json ext = {{"input_modalities", m.input_modalities},
                    {"variant", m.variant},
                    {"execution_provider", m.execution_provider},
                    {"context_length", m.context_length},
                    {"image_size", m.image_size}};
        // Clients (tools/evaluate.mjs, the app) show the same test-model warning as for a local package.
        if (m.test_model) ext["test_model"] = true;
        data.push_back({{"id", m.id},
                        {"object", "model"},
                        {"created", created_},
                        {"owned_by", "endoscribe"},
                        {"endoscribe", std::move(ext)}});
    }
    return json{{"object", "list"}, {"data", data}}.dump();
}

std::string InferenceApi::health_json() const {
    auto models = scheduler_.models();
    json ids = json::array();
    for (const auto& m : models) ids.push_back(m.id);
    std::string status = scheduler_.has_engine() ? "ok" : loading_ ? "loading" : "no_model";
    json j = {{"status", status},
              {"models", ids},
              {"execution_provider", models.empty() ? json(nullptr) : json(models[0].execution_provider)},
              {"queue_length", scheduler_.stats().queue_length}};
    // The SAM package behind /v1/endoscribe/segment (--sam), or null.
    const SamEngine* sam = options_.endoscribe ? options_.endoscribe->sam.get() : nullptr;
    j["segmentation"] = sam ? json{{"model", sam->id()}, {"execution_provider", sam->execution_provider()},
                                   {"cached_images", sam->cache_entries()}}
                            : json(nullptr);
    return j.dump();
}

bool InferenceApi::run_model_task(const httplib::Request& req, httplib::Response& res,
                                  std::function<void(ChatEngine*)> task) {
    auto job = scheduler_.make_task_job(std::move(task));
    SubmitStatus s = scheduler_.submit_task(client_key(req), job);
    if (s != SubmitStatus::Accepted) {
        int retry = scheduler_.retry_after_seconds();
        if (s == SubmitStatus::QueueFull) res.set_header("Retry-After", std::to_string(retry));
        send_error(res, submit_error(s, retry));
        return false;
    }
    ClientConnection conn(req);
    for (;;) {
        TaskJob::State state = job->wait(kPollInterval);
        if (state == TaskJob::State::Done) return true;
        if (state == TaskJob::State::Dropped) {
            if (job->cancelled()) {
                res.status = kClientClosed;
            } else {
                send_error(res, submit_error(SubmitStatus::Stopping, 1));
            }
            return false;
        }
        // A task that already runs must finish (it may use the handler's
        // variables); one that waits is dropped when its client is gone.
        if (!job->cancelled() && conn.closed()) job->cancel();
    }
}

void InferenceApi::install(httplib::Server& http) {
    http.set_payload_max_length(options_.max_body_bytes);

    // Every /v1/* and /metrics request: Host (loopback binds), Origin (CORS),
    // preflight, bearer token - before its body is read.
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        using R = httplib::Server::HandlerResponse;
        if (!is_api_path(req.path)) return R::Unhandled;
        const AccessPolicy& policy = options_.access;
        std::string host = req.get_header_value("Host");
        if (!host_header_allowed(policy, host)) {
            ApiError e;
            e.status = 403;
            e.code = "host_not_allowed";
            e.message = "This server answers only requests addressed to localhost (the request was for \"" + host + "\").";
            send_error(res, e);
            return R::Handled;
        }
        std::string origin = req.get_header_value("Origin");
        OriginVerdict verdict = check_origin(policy, origin, host);
        if (verdict == OriginVerdict::Refused) {
            ApiError e;
            e.status = 403;
            e.code = "origin_not_allowed";
            e.message = "Web pages from " + origin +
                        " may not use this server. Its operator can allow them in config.json's \"app_origins\".";
            send_error(res, e);
            return R::Handled;
        }
        if (verdict == OriginVerdict::Allowed) {
            res.set_header("Access-Control-Allow-Origin", origin);
            res.set_header("Vary", "Origin");
            res.set_header("Access-Control-Expose-Headers", "Retry-After");
        }
        if (req.method == "OPTIONS") {
            if (verdict == OriginVerdict::Allowed) {
                res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
                std::string asked = req.get_header_value("Access-Control-Request-Headers");
                res.set_header("Access-Control-Allow-Headers", asked.empty() ? "Authorization, Content-Type" : asked);
                res.set_header("Access-Control-Max-Age", "600");
            }
            res.status = 204;
            return R::Handled;
        }
        if (policy.require_token && !bearer_token_matches(req.get_header_value("Authorization"), policy.token)) {
            ApiError e;
            e.status = 401;
            e.code = "invalid_api_key";
            e.message = req.has_header("Authorization")
                            ? "The API token is wrong. Use the token in the server's token file."
                            : "This server needs an API token: send \"Authorization: Bearer <token>\" with the token "
                              "from the server's token file.";
            res.set_header("WWW-Authenticate", "Bearer");
            send_error(res, e);
            return R::Handled;
        }
        return R::Unhandled;
    });

    http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
        res.set_header("Cache-Control", "no-store");
        res.set_content(health_json(), "application/json");
    });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
        MetricsInput in;
        in.requests = requests_.snapshot();
        in.scheduler = scheduler_.stats();
        in.gpu_memory_bytes = gpu_memory_bytes_;
        res.set_header("Cache-Control", "no-store");
        res.set_content(prometheus_text(in), "text/plain; version=0.0.4; charset=utf-8");
    });
    http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
        res.set_header("Cache-Control", "no-store");
        res.set_content(models_json(), "application/json");
    });
    http.Get(R"(/v1/models/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
        json all = json::parse(models_json());
        for (const auto& m : all["data"])
            if (m["id"] == req.matches[1].str()) return res.set_content(m.dump(), "application/json");
        ApiError e = bad_request("There is no model \"" + req.matches[1].str() + "\" on this server; GET /v1/models lists them.",
                                 "model", "model_not_found");
        e.status = 404;
        send_error(res, e);
    });
    http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) { handle_chat(req, res); });

    // Routes added by other files (see the header) go here.
    register_endoscribe_routes(http, *this);

    // Anything else under /v1/: JSON 404, not the app's static files.
    http.Get("/v1/.*", [this](const httplib::Request& req, httplib::Response& res) {
        res.status = 404;
        fill_error(req, res);
    });
}

void InferenceApi::handle_chat(const httplib::Request& req, httplib::Response& res) {
    if (!scheduler_.has_engine()) {
        ApiError e = submit_error(SubmitStatus::NoEngine, 1);
        if (loading_) {
            e.message = "The model is still loading; try again in a moment.";
            e.code = "model_loading";
            res.set_header("Retry-After", "5");
        } else {
            e.message = "No model is loaded on this server: start it with a model package.";
        }
        return send_error(res, e);
    }
    ParsedChatRequest parsed = parse_chat_request(req.body, options_.chat);
    if (!parsed.error.empty()) return send_error(res, parsed.error);
    ModelInfo model;
    bool known = false;
    std::string names;
    for (const auto& m : scheduler_.models()) {
        names += (names.empty() ? "" : ", ") + m.id;
        if (m.id == parsed.request.model) {
            model = m;
            known = true;
        }
    }
    if (!known) {
        ApiError e = bad_request("There is no model \"" + parsed.request.model + "\" on this server (it has: " + names + ").",
                                 "model", "model_not_found");
        e.status = 404;
        return send_error(res, e);
    }
    if (!parsed.max_tokens_given) parsed.request.max_tokens = model.context_length > 0 ? model.context_length : 256;
    const bool want_logprobs = parsed.request.logprobs;
    const int top_logprobs = parsed.request.top_logprobs;
    const AnswerFormat format = parsed.answer.format;

    auto job = scheduler_.make_chat_job(std::move(parsed.request));
    SubmitStatus s = scheduler_.submit_chat(client_key(req, parsed.user), job);
    if (s != SubmitStatus::Accepted) {
        int retry = scheduler_.retry_after_seconds();
        if (s == SubmitStatus::QueueFull) res.set_header("Retry-After", std::to_string(retry));
        return send_error(res, submit_error(s, retry));
    }
    auto conn = std::make_shared<ClientConnection>(req);

    // Wait for the prompt to be read (prefill): its errors are still HTTP statuses.
    ChatJob::Update first;
    for (;;) {
        ChatJob::Update u = job->wait(kPollInterval);
        if (u.failed) return send_error(res, error_for_engine(u.start.error, u.start.message));
        if (u.started) {
            first = std::move(u);
            break;
        }
        if (conn->closed()) {
            job->cancel();
            res.status = kClientClosed;
            return;
        }
    }
    CompletionHeader header = new_completion_header(model.id);
    Usage usage;
    usage.prompt_tokens = first.start.prompt_tokens;
    usage.cached_tokens = first.start.cached_prompt_tokens;

    if (!parsed.stream) {
        std::string text;
        json logprobs = want_logprobs ? json::array() : json(nullptr);
        ChatJob::Update u = std::move(first);
        for (;;) {
            for (auto& t : u.tokens) {
                text += t.text;
                if (want_logprobs) logprobs.push_back(logprob_entry(t.out, top_logprobs));
            }
            usage.completion_tokens = u.generated;
            if (u.failed) {
                if (job->cancelled()) {
                    res.status = kClientClosed;
                    return;
                }
                return send_error(res, error_for_engine(u.start.error == EngineError::None ? EngineError::Internal : u.start.error,
                                                        u.start.message));
            }
            if (u.finished) {
                res.set_header("Cache-Control", "no-store");
                if (answer_is_call(format, text)) {
                    ToolCallReader call;
                    call.push(text);
                    std::string why;
                    if (!call.complete(&why)) return send_error(res, error_for_engine(EngineError::Internal, why));
                    res.set_content(completion_message_json(header, tool_call_message(new_tool_call_id(), call.name(), call.arguments()),
                                                            "tool_calls", logprobs, usage),
                                    "application/json");
                    return;
                }
                res.set_content(completion_json(header, text, u.finish_reason, logprobs, usage), "application/json");
                return;
            }
            if (conn->closed()) {
                job->cancel();
                res.status = kClientClosed;
                return;
            }
            u = job->wait(kPollInterval);
        }
    }

    // Streaming: server-sent events, one chunk per token.
    struct StreamState {
        std::shared_ptr<ChatJob> job;
        std::shared_ptr<ClientConnection> conn;
        CompletionHeader header;
        Usage usage;
        ChatJob::Update pending;
        bool have_pending = true;
        bool sent_role = false;
        bool include_usage = false;
        bool logprobs = false;
        int top_logprobs = 0;
        // Tool calls: the answer is text or a call, decided by its first text (format TextOrToolCall).
        AnswerFormat format = AnswerFormat::Text;
        enum class Mode { Undecided, Text, Call } mode = Mode::Undecided;
        ToolCallReader call;
        std::string call_id;
        bool call_named = false;
    };
    auto st = std::make_shared<StreamState>();
    st->job = job;
    st->conn = conn;
    st->header = header;
    st->usage = usage;
    st->pending = std::move(first);
    st->include_usage = parsed.include_usage;
    st->logprobs = want_logprobs;
    st->top_logprobs = top_logprobs;
    st->format = format;
    if (format == AnswerFormat::ToolCall) st->mode = StreamState::Mode::Call;
    if (format == AnswerFormat::Text || format == AnswerFormat::JsonSchema) st->mode = StreamState::Mode::Text;
    st->call_id = new_tool_call_id();
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
        "text/event-stream",
        [st](size_t, httplib::DataSink& sink) {
            ChatJob::Update u;
            if (st->have_pending) {
                u = std::move(st->pending);
                st->have_pending = false;
            } else {
                u = st->job->wait(kPollInterval);
            }
            using Mode = StreamState::Mode;
            std::string out;
            auto send_role = [&]() {
                if (st->sent_role || st->mode == Mode::Undecided) return;
                const json content = st->mode == Mode::Call ? json(nullptr) : json("");
                out += sse_event(chunk_json(st->header, json{{"role", "assistant"}, {"content", content}}, nullptr, "",
                                            st->include_usage));
                st->sent_role = true;
            };
            send_role();
            for (auto& t : u.tokens) {
                if (st->mode == Mode::Undecided && !t.text.empty()) {
                    st->mode = answer_is_call(st->format, t.text) ? Mode::Call : Mode::Text;
                    send_role();
                }
                if (st->mode == Mode::Call) {
                    // OpenAI's tool-call deltas: id, type and name once, then the arguments in pieces.
                    const std::string piece = st->call.push(t.text);
                    if (st->call.name_known() && !st->call_named) {
                        json first = {{"index", 0}, {"id", st->call_id}, {"type", "function"},
                                      {"function", {{"name", st->call.name()}, {"arguments", ""}}}};
                        out += sse_event(chunk_json(st->header, json{{"tool_calls", json::array({first})}}, nullptr, "",
                                                    st->include_usage));
                        st->call_named = true;
                    }
                    if (!piece.empty())
                        out += sse_event(chunk_json(st->header,
                                                    json{{"tool_calls", json::array({{{"index", 0}, {"function", {{"arguments", piece}}}}})}},
                                                    nullptr, "", st->include_usage));
                    continue;
                }
                if (st->mode == Mode::Undecided) continue;
                json lp = st->logprobs ? json::array({logprob_entry(t.out, st->top_logprobs)}) : json(nullptr);
                if (t.text.empty() && !st->logprobs) continue;
                out += sse_event(chunk_json(st->header, json{{"content", t.text}}, lp, "", st->include_usage));
            }
            st->usage.completion_tokens = u.generated;
            bool end = false;
            if (u.failed) {
                if (st->job->cancelled()) return false;
                ApiError e = error_for_engine(u.start.error == EngineError::None ? EngineError::Internal : u.start.error,
                                              u.start.message);
                out += sse_event(e.to_json());
                end = true;
            } else if (u.finished) {
                if (st->mode == Mode::Undecided) {  // an empty answer
                    st->mode = Mode::Text;
                    send_role();
                }
                std::string reason = u.finish_reason, why;
                if (st->mode == Mode::Call) reason = "tool_calls";
                if (st->mode == Mode::Call && !st->call.complete(&why)) {
                    out += sse_event(error_for_engine(EngineError::Internal, why).to_json());
                } else {
                    out += sse_event(chunk_json(st->header, json::object(), nullptr, reason, st->include_usage));
                }
                if (st->include_usage) out += sse_event(usage_chunk_json(st->header, st->usage));
                end = true;
            }
            if (end) out += "data: [DONE]\n\n";
            if (!out.empty() && !sink.write(out.data(), out.size())) {
                st->job->cancel();
                return false;
            }
            if (end) {
                sink.done();
                return true;
            }
            if (st->conn->closed()) {
                st->job->cancel();
                return false;
            }
            return true;
        },
        [st](bool success) {
            if (!success) st->job->cancel();
        });
}

}  // namespace es::server
