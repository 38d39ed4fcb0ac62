// endoscribe_routes.cpp: see endoscribe_routes.h.
#include "api/endoscribe_routes.h"

#include <httplib.h>

#include "api/classify_route.h"
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

}  // namespace

void register_endoscribe_routes(httplib::Server& http, InferenceApi& api) {
    std::shared_ptr<const EndoscribeExtensions> ext = api.options().endoscribe;
    if (!ext) ext = std::make_shared<EndoscribeExtensions>();
    http.Post("/v1/endoscribe/segment", [&api, ext](const httplib::Request& req, httplib::Response& res) {
        send(res, segment_route(ext->sam.get(), req.body, api.options().chat));
    });
    http.Post("/v1/endoscribe/classify", [&api](const httplib::Request& req, httplib::Response& res) {
        send(res, classify_route(engine_runner(api, req, res), req.body, api.options().chat));
    });
    http.Post("/v1/endoscribe/report/draft", [&api, ext](const httplib::Request& req, httplib::Response& res) {
        send(res, report_draft_route(engine_runner(api, req, res), ext->report_vocabulary.get(), req.body,
                                     api.options().chat));
    });
}

}  // namespace es::server
