// classify_route.cpp: see classify_route.h.
#include "api/classify_route.h"

#include <chrono>
#include <set>


namespace es::server {

using json = nlohmann::json;

namespace {
constexpr size_t kMaxLabels = 200;
constexpr size_t kMaxLabelBytes = 300;
}  // namespace

ExtensionReply classify_route(const RunEngineJob& run, const std::string& body, const ChatRequestLimits& limits) {
    const auto t0 = std::chrono::steady_clock::now();
    json req;
    if (ApiError e = parse_json_object(body, limits.max_json_depth, &req); !e.empty()) return extension_error(e);
    for (const auto& [key, value] : req.items())
        if (key != "model" && key != "messages" && key != "labels")
            return extension_error(400, "Unknown key \"" + key + "\" in the classify request", key);
    if (req.contains("model") && !req["model"].is_string())
        return extension_error(400, "\"model\" must be a model's name (GET /v1/models lists them)", "model");
    LabelScoreRequest job;
    job.model = req.value("model", "");
    if (ApiError e = parse_chat_messages(req.contains("messages") ? req["messages"] : json(), limits, &job.messages);
        !e.empty())
        return extension_error(e);
    const json labels = req.contains("labels") ? req["labels"] : json();
    if (!labels.is_array() || labels.size() < 2 || labels.size() > kMaxLabels)
        return extension_error(400, "\"labels\" must be a list of 2 to " + std::to_string(kMaxLabels) +
                                        " answers to score, e.g. [\"polyp\", \"normal mucosa\"]", "labels");
    std::set<std::string> seen;
    for (const json& l : labels) {
        if (!l.is_string() || l.get<std::string>().empty() || l.get<std::string>().size() > kMaxLabelBytes)
            return extension_error(400, "Every label must be a non-empty text of at most " +
                                            std::to_string(kMaxLabelBytes) + " bytes", "labels");
        if (!seen.insert(l.get<std::string>()).second)
            return extension_error(400, "The label \"" + l.get<std::string>() + "\" is listed twice", "labels");
        job.labels.push_back(l.get<std::string>());
    }
    LabelScoreResult result;
    std::string model_id;
    std::optional<ExtensionReply> refused = run(job.model, [&](ChatEngine& engine, const std::string& id) {
        model_id = id;
        job.model = id;
        result = engine.score_labels(job);
    });
    if (refused) return *refused;
    if (result.error != EngineError::None) return engine_error_reply(result.error, result.message);
    ExtensionReply r;
    r.body = {{"object", "endoscribe.classification"},
              {"model", model_id},
              {"labels", job.labels},
              {"probabilities", result.probabilities},
              {"log_likelihoods", result.log_likelihoods},
              {"usage", {{"prompt_tokens", result.prompt_tokens}, {"completion_tokens", 0}, {"total_tokens", result.prompt_tokens}}},
              {"timings", {{"total_ms", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count()}}}};
    return r;
}

}  // namespace es::server
