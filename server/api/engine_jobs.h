// engine_jobs.h: how the EndoScribe extension routes reach the chat engines.
// The engines are called only from the scheduler's one thread (chat_engine.h);
// a route hands it a job and waits. The scheduler decides whether the job runs
// (model known and loaded, queue not full) and answers why not otherwise.
#pragma once
#include <functional>
#include <optional>
#include <string>

#include "api/extension_reply.h"
#include "inference/chat_engine.h"

namespace es::server {

using EngineJob = std::function<void(ChatEngine& engine, const std::string& model_id)>;
// Runs `job` on the engines' thread with the engine that serves `model` ("" =
// the first loaded model) and returns once it has run (nullopt), or the reply
// to send instead (404 model_not_found, 503 no model, 429 queue full).
using RunEngineJob = std::function<std::optional<ExtensionReply>(const std::string& model, EngineJob job)>;

// Plain-words reply for an engine's refusal of a request.
ExtensionReply engine_error_reply(EngineError error, const std::string& message);

}  // namespace es::server
