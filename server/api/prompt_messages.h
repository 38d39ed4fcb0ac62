// prompt_messages.h: the "messages" of an EndoScribe extension request (the
// prompt of classify; the same shape as OpenAI chat messages: roles system,
// user, assistant; content a string or text / image_url parts with data:
// URLs) read into ChatMessage for the engine. Image bytes are checked against
// the size limits here and decoded by the engine (the core's decoder).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/extension_reply.h"
#include "api/image_input.h"
#include "inference/chat_engine.h"

namespace es::server {

// nullopt-like: reply.status == 200 means read into *out.
ExtensionReply read_prompt_messages(const nlohmann::json& messages, const ImageLimits& limits,
                                    std::vector<ChatMessage>* out);

}  // namespace es::server
