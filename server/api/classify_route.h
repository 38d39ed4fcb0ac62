// classify_route.h: POST /v1/endoscribe/classify (server/API.md) - the
// probability of each label as the answer to a prompt (image + question), by
// label scoring on the engines' thread (ChatEngine::score_labels, the core's
// src/assistant/label_scoring.h, as the app's Classify tab).
#pragma once
#include <string>

#include "api/chat_request.h"
#include "api/engine_jobs.h"

namespace es::server {

ExtensionReply classify_route(const RunEngineJob& run, const std::string& body, const ChatRequestLimits& limits = {});

}  // namespace es::server
