// endoscribe_routes.cpp: see endoscribe_routes.h.
#include "api/endoscribe_routes.h"

#include <httplib.h>

#include "api/classify_route.h"
#include "api/report_draft_route.h"
#include "api/segment_route.h"

namespace es::server {

namespace {

void send(httplib::Response& res, const ExtensionReply& reply) {
    res.status = reply.status;
    if (reply.retry_after_s > 0) res.set_header("Retry-After", std::to_string(reply.retry_after_s));
    res.set_header("Cache-Control", "no-store");
    res.set_content(reply.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

RunEngineJob engine_runner(const std::shared_ptr<const EndoscribeExtensions>& ext) {
    if (ext->run_engine_job) return ext->run_engine_job;
    return [](const std::string&, EngineJob) -> std::optional<ExtensionReply> {
        return extension_error(503, "no chat model is loaded in this server; start it with a model package "
                                    "(see endoscribe-server --help)", "model", "no_model");
    };
}

}  // namespace

void add_endoscribe_routes(httplib::Server& http, std::shared_ptr<const EndoscribeExtensions> ext) {
    http.Post("/v1/endoscribe/segment", [ext](const httplib::Request& req, httplib::Response& res) {
        send(res, segment_route(ext->sam.get(), req.body, ext->image_limits));
    });
    http.Post("/v1/endoscribe/classify", [ext](const httplib::Request& req, httplib::Response& res) {
        send(res, classify_route(engine_runner(ext), req.body, ext->image_limits));
    });
    http.Post("/v1/endoscribe/report/draft", [ext](const httplib::Request& req, httplib::Response& res) {
        send(res, report_draft_route(engine_runner(ext), ext->report_vocabulary.get(), req.body, ext->image_limits));
    });
}

}  // namespace es::server
