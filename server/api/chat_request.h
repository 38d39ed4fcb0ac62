// chat_request.h: POST /v1/chat/completions bodies - OpenAI's request JSON
// checked field by field and turned into the engine's ChatRequest. Anything
// the server would otherwise silently ignore (tools, n > 1, unknown fields) is
// a 400 that names the field.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_error.h"
#include "api/chat_tools.h"
#include "api/image_input.h"
#include "inference/chat_engine.h"

namespace es::server {

struct ParsedChatRequest {
    ApiError error;           // empty() when the request is good
    ChatRequest request;
    bool stream = false;
    bool include_usage = false;      // stream_options.include_usage
    bool max_tokens_given = false;   // else the route fills in the model's context length
    std::string user;                // OpenAI's `user`: whom the request is for (fairness)
    AnswerSpec answer;               // response_format / tools: how the answer is written and read back
};

struct ChatRequestLimits {
    ImageLimits image;
    std::vector<std::string> image_url_hosts;  // hosts whose http(s) image URLs may be fetched
    int max_images = 16;                       // per request
    int max_json_depth = 32;
};

// Parses and checks a request body (JSON text). Never throws.
ParsedChatRequest parse_chat_request(const std::string& body, const ChatRequestLimits& limits);

// Parses the JSON text of any API request body: an object, not nested deeper
// than max_depth, else a 400 that says where the text is broken. For the
// EndoScribe extension routes too.
ApiError parse_json_object(const std::string& body, int max_depth, nlohmann::json* out);

// OpenAI-shaped "messages" (roles system/developer, user, assistant, tool;
// content a string or text/image_url parts) as ChatMessages, images read and
// checked. An assistant message's tool_calls become its text, each call as the
// model writes one (chat_tools.h: {"name": ..., "arguments": ...}); a tool
// message becomes a user message "Result of the tool call <id> (<name>):\n<content>".
// For the extension routes too (classify takes the same messages).
ApiError parse_chat_messages(const nlohmann::json& messages, const ChatRequestLimits& limits,
                             std::vector<ChatMessage>* out);

}  // namespace es::server
