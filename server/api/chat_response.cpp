// chat_response.cpp: see chat_response.h.
#include "api/chat_response.h"

#include <sys/random.h>

#include <chrono>
#include <random>

namespace es::server {

using nlohmann::json;

namespace {

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json bytes_of(const std::string& s) {
    json b = json::array();
    for (unsigned char c : s) b.push_back(int(c));
    return b;
}

}  // namespace

std::string random_hex(size_t n) {
    std::vector<unsigned char> buf(n);
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf.data() + got, n - got, 0);
        if (r <= 0) break;
        got += size_t(r);
    }
    if (got < n) {  // not for secrets: ids only
        std::random_device rd;
        for (size_t i = got; i < n; ++i) buf[i] = static_cast<unsigned char>(rd());
    }
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char c : buf) {
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

CompletionHeader new_completion_header(const std::string& model) {
    CompletionHeader h;
    h.id = "chatcmpl-" + random_hex(12);
    h.created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    h.model = model;
    return h;
}

json usage_json(const Usage& u) {
    return json{{"prompt_tokens", u.prompt_tokens},
                {"completion_tokens", u.completion_tokens},
                {"total_tokens", u.prompt_tokens + u.completion_tokens},
                {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}},
                {"completion_tokens_details", {{"reasoning_tokens", 0}}}};
}

json logprob_entry(const TokenOut& t, int top_logprobs) {
    json top = json::array();
    for (size_t i = 0; i < t.top.size() && int(i) < top_logprobs; ++i)
        top.push_back(json{{"token", t.top[i].token}, {"logprob", t.top[i].logprob}, {"bytes", bytes_of(t.top[i].token)}});
    return json{{"token", t.text}, {"logprob", t.logprob}, {"bytes", bytes_of(t.text)}, {"top_logprobs", top}};
}

std::string completion_json(const CompletionHeader& h, const std::string& text, const std::string& finish_reason,
                            const json& logprobs_content, const Usage& usage) {
    return completion_message_json(h, {{"role", "assistant"}, {"content", text}, {"refusal", nullptr}}, finish_reason,
                                   logprobs_content, usage);
}

json tool_call_message(const std::string& id, const std::string& name, const std::string& arguments) {
    json call = {{"id", id}, {"type", "function"}, {"function", {{"name", name}, {"arguments", arguments}}}};
    return {{"role", "assistant"}, {"content", nullptr}, {"tool_calls", json::array({call})}, {"refusal", nullptr}};
}

std::string completion_message_json(const CompletionHeader& h, const json& message, const std::string& finish_reason,
                                    const json& logprobs_content, const Usage& usage) {
    json choice = {{"index", 0},
                   {"message", message},
                   {"logprobs", logprobs_content.is_null() ? json(nullptr)
                                                           : json{{"content", logprobs_content}, {"refusal", nullptr}}},
                   {"finish_reason", finish_reason}};
    json j = {{"id", h.id},
              {"object", "chat.completion"},
              {"created", h.created},
              {"model", h.model},
              {"choices", json::array({choice})},
              {"usage", usage_json(usage)},
              {"system_fingerprint", nullptr}};
    return dump(j);
}

std::string chunk_json(const CompletionHeader& h, const json& delta, const json& logprobs_content,
                       const std::string& finish_reason, bool include_usage) {
    json choice = {{"index", 0},
                   {"delta", delta},
                   {"logprobs", logprobs_content.is_null() ? json(nullptr)
                                                           : json{{"content", logprobs_content}, {"refusal", nullptr}}},
                   {"finish_reason", finish_reason.empty() ? json(nullptr) : json(finish_reason)}};
    json j = {{"id", h.id},
              {"object", "chat.completion.chunk"},
              {"created", h.created},
              {"model", h.model},
              {"system_fingerprint", nullptr},
              {"choices", json::array({choice})}};
    if (include_usage) j["usage"] = nullptr;
    return dump(j);
}

std::string usage_chunk_json(const CompletionHeader& h, const Usage& usage) {
    json j = {{"id", h.id},
              {"object", "chat.completion.chunk"},
              {"created", h.created},
              {"model", h.model},
              {"system_fingerprint", nullptr},
              {"choices", json::array()},
              {"usage", usage_json(usage)}};
    return dump(j);
}

std::string sse_event(const std::string& json_text) { return "data: " + json_text + "\n\n"; }

}  // namespace es::server
