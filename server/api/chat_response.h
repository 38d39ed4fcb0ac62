// chat_response.h: OpenAI's response shapes for chat completions - the whole
// answer (object "chat.completion") and the streamed chunks
// ("chat.completion.chunk", sent as server-sent events), usage and logprobs.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "inference/chat_engine.h"

namespace es::server {

struct CompletionHeader {
    std::string id;       // "chatcmpl-<random>"
    long long created = 0;  // Unix seconds
    std::string model;
};
CompletionHeader new_completion_header(const std::string& model);

struct Usage {
    int prompt_tokens = 0;
    int completion_tokens = 0;
    int cached_tokens = 0;
};
nlohmann::json usage_json(const Usage& u);

// One entry of choices[0].logprobs.content: token, logprob, bytes, top_logprobs.
nlohmann::json logprob_entry(const TokenOut& token, int top_logprobs);

// The whole answer. logprobs: the content entries, or null when not asked for.
std::string completion_json(const CompletionHeader& h, const std::string& text, const std::string& finish_reason,
                            const nlohmann::json& logprobs_content, const Usage& usage);

// The same with a message of one's own (tool_calls).
std::string completion_message_json(const CompletionHeader& h, const nlohmann::json& message, const std::string& finish_reason,
                                    const nlohmann::json& logprobs_content, const Usage& usage);
// {"role": "assistant", "content": null, "tool_calls": [{"id", "type": "function",
// "function": {"name", "arguments"}}], "refusal": null}
nlohmann::json tool_call_message(const std::string& id, const std::string& name, const std::string& arguments);

// One stream chunk for choice 0: delta ({"role": ...} / {"content": ...} / {}),
// logprobs content entries or null, finish_reason or "" for null. With
// include_usage every chunk carries "usage": null, as OpenAI's do.
std::string chunk_json(const CompletionHeader& h, const nlohmann::json& delta, const nlohmann::json& logprobs_content,
                       const std::string& finish_reason, bool include_usage);
// The last chunk with include_usage: no choices, the usage.
std::string usage_chunk_json(const CompletionHeader& h, const Usage& usage);

// "data: <json>\n\n"
std::string sse_event(const std::string& json);

// Random hex for ids (chatcmpl-...), from the OS's CSPRNG.
std::string random_hex(size_t bytes);

}  // namespace es::server
