// endoscribe_routes.cpp: see endoscribe_routes.h.
#include "api/endoscribe_routes.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "api/classify_route.h"
#include "api/client_connection.h"
#include "api/inference_api.h"
#include "api/report_draft_route.h"
#include "api/segment_route.h"

namespace es::server {

namespace {

void send(httplib::Response& res, const ExtensionReply& reply) {
    if (reply.status == 0) return;  // already answered (refused by the scheduler, or the client left)
    res.status = reply.status;
    if (reply.retry_after_s > 0) res.set_header("Retry-After", std::to_string(reply.retry_after_s));
    res.set_header("Cache-Control", "no-store");
    res.set_content(reply.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

// Jobs for the chat engine go through the scheduler (queued fairly with the
// chats, 429 when full); the model named in the request must be loaded.
RunEngineJob engine_runner(InferenceApi& api, const httplib::Request& req, httplib::Response& res) {
    return [&api, &req, &res](const std::string& model, EngineJob job) -> std::optional<ExtensionReply> {
        std::optional<ExtensionReply> refused;
        bool ran = api.run_model_task(req, res, [&](ChatEngine* engine) {
            if (!engine) {
                refused = extension_error(503, "No chat model is loaded on this server: start it with a model package.",
                                          "model", "model_not_loaded");
                return;
            }
            std::string names, id;
            for (const ModelInfo& m : engine->models()) {
                names += (names.empty() ? "" : ", ") + m.id;
                if (id.empty() && (model.empty() || m.id == model)) id = m.id;
            }
            if (id.empty()) {
                refused = extension_error(404, "There is no model \"" + model + "\" on this server (it has: " + names + ").",
                                          "model", "model_not_found");
                return;
            }
            job(*engine, id);
        });
        if (!ran) return ExtensionReply{0, {}, 0};
        return refused;
    };
}

// Generated answers go through the scheduler as chats (batched with the
// other clients' streams); a client that leaves cancels its answer.
RunEngineChat chat_runner(InferenceApi& api, const httplib::Request& req, httplib::Response& res) {
    return [&api, &req, &res](ChatRequest request, ChatAnswer* answer) -> std::optional<ExtensionReply> {
        Scheduler& scheduler = api.scheduler();
        std::string names;
        bool known = false;
        const std::vector<ModelInfo> models = scheduler.models();
        for (const ModelInfo& m : models) {
            names += (names.empty() ? "" : ", ") + m.id;
            known |= m.id == request.model;
        }
        if (models.empty())
            return extension_error(503, "No chat model is loaded on this server: start it with a model package.",
                                   "model", "model_not_loaded");
        if (request.model.empty()) {
            request.model = models.front().id;
        } else if (!known) {
            return extension_error(404, "There is no model \"" + request.model + "\" on this server (it has: " + names + ").",
                                   "model", "model_not_found");
        }
        answer->model = request.model;
        auto job = scheduler.make_chat_job(std::move(request));
        SubmitStatus s = scheduler.submit_chat(InferenceApi::client_key(req), job);
        if (s != SubmitStatus::Accepted) {
            const int retry = scheduler.retry_after_seconds();
            ExtensionReply r = extension_error(submit_error(s, retry));
            if (s == SubmitStatus::QueueFull) r.retry_after_s = retry;
            return r;
        }
        ClientConnection conn(req);
        for (;;) {
            ChatJob::Update u = job->wait(std::chrono::milliseconds(50));
            if (u.started) answer->prompt_tokens = u.start.prompt_tokens;
            for (const ChatJob::Token& t : u.tokens) answer->text += t.text;
            answer->completion_tokens = std::max(answer->completion_tokens, u.generated);
            if (u.failed) {
                answer->error = u.start.message.empty() ? "the model could not answer" : u.start.message;
                return std::nullopt;
            }
            if (u.finished) return std::nullopt;
            if (conn.closed()) {
                job->cancel();
                res.status = 499;  // never sent: the client is gone (as the chat route records it)
                return ExtensionReply{0, {}, 0};
            }
        }
    };
}

}  // namespace

void register_endoscribe_routes(httplib::Server& http, InferenceApi& api) {
    std::shared_ptr<const EndoscribeExtensions> ext = api.options().endoscribe;
    if (!ext) ext = std::make_shared<EndoscribeExtensions>();
    http.Post("/v1/endoscribe/segment", [&api, ext](const httplib::Request& req, httplib::Response& res) {
        // A request waiting its turn at the model leaves the line when its
        // client goes (the connection is looked up only if it has to wait).
        std::optional<ClientConnection> conn;
        auto gone = [&] {
            if (!conn) conn.emplace(req);
            return conn->closed();
        };
        send(res, segment_route(ext->sam.get(), req.body, api.options().chat, gone));
    });
    http.Post("/v1/endoscribe/classify", [&api](const httplib::Request& req, httplib::Response& res) {
        send(res, classify_route(engine_runner(api, req, res), req.body, api.options().chat));
    });
    http.Post("/v1/endoscribe/report/draft", [&api, ext](const httplib::Request& req, httplib::Response& res) {
        send(res, report_draft_route(engine_runner(api, req, res), chat_runner(api, req, res),
                                     ext->report_vocabulary.get(), req.body, api.options().chat));
    });
}

}  // namespace es::server
