// chat_request.cpp: see chat_request.h.
#include "api/chat_request.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "json/json_syntax.h"

namespace es::server {

using nlohmann::json;

ApiError parse_json_object(const std::string& body, int max_depth, json* out) {
    if (body.empty())
        return bad_request("The request has no body. Send a JSON object (Content-Type: application/json).");
    if (json_nesting_depth(body, max_depth) > max_depth)
        return bad_request("The request's JSON is nested more than " + std::to_string(max_depth) +
                           " levels deep; no valid request is.");
    *out = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (out->is_discarded()) {
        JsonSyntax syntax = check_json_syntax(body);
        return bad_request("The request body is not valid JSON" +
                           (syntax.ok ? std::string(".")
                                      : " (line " + std::to_string(syntax.line) + ", column " +
                                            std::to_string(syntax.column) + ": " + syntax.reason + ")."));
    }
    if (!out->is_object()) return bad_request("The request body must be a JSON object ({...}).");
    return {};
}

namespace {

std::string type_name(const json& v) { return v.is_null() ? "null" : v.type_name(); }

ApiError wrong_type(const std::string& param, const std::string& want, const json& got) {
    return bad_request("\"" + param + "\" must be " + want + ", not " + type_name(got) + ".", param);
}

ApiError parse_content(const json& content, const std::string& role, const std::string& param,
                       const ChatRequestLimits& limits, int* images, ChatMessage* msg) {
    if (content.is_string()) {
        msg->parts.push_back(ChatPart{ChatPart::Kind::Text, content.get<std::string>(), {}});
        return {};
    }
    if (content.is_null() && role == "assistant") return {};
    if (!content.is_array()) return wrong_type(param, "a string or a list of parts", content);
    for (size_t j = 0; j < content.size(); ++j) {
        const json& part = content[j];
        std::string p = param + "[" + std::to_string(j) + "]";
        if (!part.is_object()) return wrong_type(p, "an object like {\"type\": \"text\", \"text\": \"...\"}", part);
        auto type = part.find("type");
        if (type == part.end() || !type->is_string())
            return bad_request("\"" + p + ".type\" must be \"text\" or \"image_url\".", p + ".type");
        std::string t = type->get<std::string>();
        if (t == "text") {
            auto text = part.find("text");
            if (text == part.end() || !text->is_string()) return bad_request("\"" + p + ".text\" must be a string.", p + ".text");
            msg->parts.push_back(ChatPart{ChatPart::Kind::Text, text->get<std::string>(), {}});
        } else if (t == "image_url") {
            if (role != "user")
                return bad_request("Only user messages may contain images (\"" + p + "\" is in a " + role + " message).", p);
            auto iu = part.find("image_url");
            std::string up = p + ".image_url";
            std::string url;
            if (iu != part.end() && iu->is_string()) {
                url = iu->get<std::string>();
            } else if (iu != part.end() && iu->is_object() && iu->contains("url") && (*iu)["url"].is_string()) {
                url = (*iu)["url"].get<std::string>();
                if (iu->contains("detail") && !(*iu)["detail"].is_string())
                    return bad_request("\"" + up + ".detail\" must be a string.", up + ".detail");
            } else {
                return bad_request("\"" + up + "\" must be {\"url\": \"data:image/jpeg;base64,...\"}.", up);
            }
            if (++*images > limits.max_images)
                return bad_request("A request may contain at most " + std::to_string(limits.max_images) + " images.", up);
            ImageInput img = read_image_url(url, up, limits.image, limits.image_url_hosts);
            if (!img.error.empty()) return img.error;
            msg->parts.push_back(ChatPart{ChatPart::Kind::Image, "", std::move(img.bytes)});
        } else {
            return bad_request("\"" + p + ".type\" \"" + t + "\" is not supported; use \"text\" or \"image_url\".",
                               p + ".type");
        }
    }
    return {};
}

}  // namespace

ApiError parse_chat_messages(const json& messages, const ChatRequestLimits& limits, std::vector<ChatMessage>* out) {
    if (!messages.is_array() || messages.empty())
        return bad_request("\"messages\" must be a non-empty list of messages, like [{\"role\": \"user\", \"content\": \"...\"}].",
                           "messages");
    int images = 0;
    std::map<std::string, std::string> tool_names;  // tool call id -> function name, from assistant messages
    for (size_t i = 0; i < messages.size(); ++i) {
        const json& m = messages[i];
        std::string p = "messages[" + std::to_string(i) + "]";
        if (!m.is_object()) return wrong_type(p, "an object", m);
        auto role = m.find("role");
        if (role == m.end() || !role->is_string())
            return bad_request("\"" + p + ".role\" must be \"system\", \"user\" or \"assistant\".", p + ".role");
        std::string r = role->get<std::string>();
        if (r == "developer") r = "system";
        if (r == "function")
            return bad_request("Function messages (the old API) are not supported; use tool messages with \"tool_call_id\".",
                               p + ".role");
        if (r != "system" && r != "user" && r != "assistant" && r != "tool")
            return bad_request("\"" + p + ".role\" \"" + r + "\" is not supported; use system, user, assistant or tool.", p + ".role");
        for (auto it = m.begin(); it != m.end(); ++it) {
            const std::string& k = it.key();
            if (k == "role" || k == "content" || k == "name") continue;
            if (k == "tool_calls" && r == "assistant") continue;
            if (k == "tool_call_id" && r == "tool") continue;
            if (k == "function_call" && (it->is_null() || (it->is_array() && it->empty()))) continue;
            if (k == "refusal" && it->is_null()) continue;
            return bad_request("\"" + p + "." + k + "\" is not supported by this server.", p + "." + k);
        }
        auto content = m.find("content");
        const bool has_calls = r == "assistant" && m.contains("tool_calls") && m["tool_calls"].is_array() && !m["tool_calls"].empty();
        if (content == m.end() && !has_calls) return bad_request("\"" + p + ".content\" is missing.", p + ".content");
        ChatMessage msg;
        msg.role = r == "tool" ? "user" : r;
        if (content != m.end()) {
            ApiError e = parse_content(*content, r == "tool" ? "tool" : r, p + ".content", limits, &images, &msg);
            if (!e.empty()) return e;
            if (has_calls)  // "content": "" next to calls is no text
                msg.parts.erase(std::remove_if(msg.parts.begin(), msg.parts.end(),
                                               [](const ChatPart& x) { return x.kind == ChatPart::Kind::Text && x.text.empty(); }),
                                msg.parts.end());
        }
        if (r == "assistant" && m.contains("tool_calls") && !m["tool_calls"].is_null()) {
            const json& calls = m["tool_calls"];
            if (!calls.is_array()) return wrong_type(p + ".tool_calls", "a list of tool calls", calls);
            for (size_t c = 0; c < calls.size(); ++c) {
                const json& call = calls[c];
                const std::string cp = p + ".tool_calls[" + std::to_string(c) + "]";
                const json* f = call.is_object() && call.contains("function") ? &call["function"] : nullptr;
                if (!f || !f->is_object() || !f->contains("name") || !(*f)["name"].is_string() ||
                    !f->contains("arguments") || !(*f)["arguments"].is_string() || !call.contains("id") ||
                    !call["id"].is_string() || call.value("type", std::string("function")) != "function")
                    return bad_request("\"" + cp + "\" must be {\"id\": ..., \"type\": \"function\", \"function\": "
                                       "{\"name\": ..., \"arguments\": \"<JSON text>\"}}.",
                                       cp);
                const std::string args = (*f)["arguments"].get<std::string>();
                const json parsed = json::parse(args, nullptr, false);
                // Arguments that are not JSON are shown as the string they are.
                const std::string text = tool_call_text((*f)["name"].get<std::string>(), parsed.is_discarded() ? json(args).dump() : args);
                tool_names[call["id"].get<std::string>()] = (*f)["name"].get<std::string>();
                msg.parts.push_back(ChatPart{ChatPart::Kind::Text, text, {}});
            }
        }
        if (r == "tool") {
            auto id = m.find("tool_call_id");
            if (id == m.end() || !id->is_string())
                return bad_request("\"" + p + ".tool_call_id\" must be the id of the assistant's tool call this answers.",
                                   p + ".tool_call_id");
            auto known = tool_names.find(id->get<std::string>());
            std::string head = "Result of the tool call " + id->get<std::string>() +
                               (known != tool_names.end() ? " (" + known->second + ")" : std::string()) + ":";
            std::string body;
            for (const ChatPart& part : msg.parts) body += (body.empty() ? "" : "\n") + part.text;
            msg.parts.clear();
            msg.parts.push_back(ChatPart{ChatPart::Kind::Text, head + "\n" + body, {}});
        }
        out->push_back(std::move(msg));
    }
    return {};
}

ParsedChatRequest parse_chat_request(const std::string& body, const ChatRequestLimits& limits) {
    ParsedChatRequest r;
    json j;
    r.error = parse_json_object(body, limits.max_json_depth, &j);
    if (!r.error.empty()) return r;
    auto fail = [&r](ApiError e) {
        r.error = std::move(e);
        return r;
    };
    // Fields that are accepted but change nothing here, when given their neutral value.
    static const std::set<std::string> known = {
        "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "top_k", "seed",
        "stop", "logprobs", "top_logprobs", "stream", "stream_options", "n", "user", "metadata", "store",
        "frequency_penalty", "presence_penalty", "logit_bias", "response_format", "tools", "tool_choice",
        "parallel_tool_calls", "functions", "function_call", "service_tier", "modalities", "reasoning_effort"};
    for (auto it = j.begin(); it != j.end(); ++it)
        if (!known.count(it.key()))
            return fail(bad_request("Unknown field \"" + it.key() + "\" in the request.", it.key()));

    auto model = j.find("model");
    if (model == j.end() || !model->is_string() || model->get<std::string>().empty())
        return fail(bad_request("\"model\" is required: the name of a model from GET /v1/models.", "model"));
    r.request.model = model->get<std::string>();

    auto present = [&j](const char* k) { return j.contains(k) && !j[k].is_null(); };
    // response_format, tools, tool_choice: constrained answers (chat_tools.h).
    if (ApiError e = parse_answer_spec(j, &r.answer); !e.empty()) return fail(e);
    r.request.schema = r.answer.compiled;
    r.request.schema_optional = r.answer.format == AnswerFormat::TextOrToolCall;
    // Unsupported features: refused rather than ignored, so answers never silently differ.
    for (const char* k : {"frequency_penalty", "presence_penalty"})
        if (present(k) && !(j[k].is_number() && j[k].get<double>() == 0.0))
            return fail(bad_request(std::string("\"") + k + "\" is not supported by this server (only 0).", k));
    if (present("logit_bias") && !(j["logit_bias"].is_object() && j["logit_bias"].empty()))
        return fail(bad_request("\"logit_bias\" is not supported by this server.", "logit_bias"));
    if (present("modalities") && j["modalities"] != json::array({"text"}))
        return fail(bad_request("Only text answers are supported (\"modalities\": [\"text\"]).", "modalities"));
    if (present("n") && !(j["n"].is_number_integer() && j["n"].get<long long>() == 1))
        return fail(bad_request("\"n\" must be 1: this server writes one answer per request.", "n"));
    for (const char* k : {"user", "service_tier", "reasoning_effort"})
        if (present(k) && !j[k].is_string()) return fail(wrong_type(k, "a string", j[k]));
    if (present("user")) r.user = j["user"].get<std::string>().substr(0, 256);

    // Sampling.
    auto int_field = [&](const char* k, long long lo, long long hi, int* out) -> ApiError {
        if (!present(k)) return {};
        const json& v = j[k];
        if (!v.is_number_integer()) return wrong_type(k, "an integer", v);
        long long x = v.get<long long>();
        if (x < lo || x > hi)
            return bad_request("\"" + std::string(k) + "\" must be from " + std::to_string(lo) + " to " +
                                   std::to_string(hi) + ", not " + std::to_string(x) + ".",
                               k);
        *out = int(x);
        return {};
    };
    auto number_field = [&](const char* k, double lo, double hi, bool lo_open, float* out) -> ApiError {
        if (!present(k)) return {};
        const json& v = j[k];
        if (!v.is_number()) return wrong_type(k, "a number", v);
        double x = v.get<double>();
        if (!std::isfinite(x) || x < lo || x > hi || (lo_open && x == lo)) {
            char buf[96];
            std::snprintf(buf, sizeof buf, "\"%s\" must be %s %g and at most %g.", k, lo_open ? "above" : "at least", lo, hi);
            return bad_request(buf, k);
        }
        *out = float(x);
        return {};
    };
    ApiError e;
    const long long kMaxTokens = 1 << 20;
    if (present("max_tokens") && present("max_completion_tokens"))
        return fail(bad_request("Send \"max_completion_tokens\" or \"max_tokens\", not both.", "max_tokens"));
    for (const char* k : {"max_tokens", "max_completion_tokens"})
        if (present(k)) {
            if (!(e = int_field(k, 1, kMaxTokens, &r.request.max_tokens)).empty()) return fail(e);
            r.max_tokens_given = true;
        }
    if (!(e = number_field("temperature", 0, 2, false, &r.request.temperature)).empty()) return fail(e);
    if (!(e = number_field("top_p", 0, 1, true, &r.request.top_p)).empty()) return fail(e);
    if (!(e = int_field("top_k", 0, 1 << 20, &r.request.top_k)).empty()) return fail(e);
    if (present("seed")) {
        const json& s = j["seed"];
        if (!s.is_number_integer()) return fail(wrong_type("seed", "an integer", s));
        r.request.seed = s.is_number_unsigned() ? s.get<uint64_t>() : uint64_t(s.get<int64_t>());
    }
    if (present("stop")) {
        const json& s = j["stop"];
        if (s.is_string()) {
            r.request.stop.push_back(s.get<std::string>());
        } else if (s.is_array()) {
            if (s.size() > 4) return fail(bad_request("\"stop\" may list at most 4 strings.", "stop"));
            for (const auto& x : s) {
                if (!x.is_string()) return fail(wrong_type("stop", "a string or a list of strings", s));
                r.request.stop.push_back(x.get<std::string>());
            }
        } else {
            return fail(wrong_type("stop", "a string or a list of up to 4 strings", s));
        }
        for (const auto& x : r.request.stop)
            if (x.empty()) return fail(bad_request("\"stop\" strings must not be empty.", "stop"));
    }
    if (present("logprobs")) {
        if (!j["logprobs"].is_boolean()) return fail(wrong_type("logprobs", "true or false", j["logprobs"]));
        r.request.logprobs = j["logprobs"].get<bool>();
    }
    if (!(e = int_field("top_logprobs", 0, 20, &r.request.top_logprobs)).empty()) return fail(e);
    if (present("top_logprobs") && !r.request.logprobs)
        return fail(bad_request("\"top_logprobs\" needs \"logprobs\": true.", "top_logprobs"));
    if (present("stream")) {
        if (!j["stream"].is_boolean()) return fail(wrong_type("stream", "true or false", j["stream"]));
        r.stream = j["stream"].get<bool>();
    }
    if (present("stream_options")) {
        const json& o = j["stream_options"];
        if (!r.stream) return fail(bad_request("\"stream_options\" needs \"stream\": true.", "stream_options"));
        if (!o.is_object()) return fail(wrong_type("stream_options", "an object", o));
        for (auto it = o.begin(); it != o.end(); ++it) {
            if (it.key() == "include_usage") {
                if (!it->is_boolean()) return fail(wrong_type("stream_options.include_usage", "true or false", *it));
                r.include_usage = it->get<bool>();
            } else if (it.key() != "include_obfuscation") {
                return fail(bad_request("Unknown field \"stream_options." + it.key() + "\".", "stream_options." + it.key()));
            }
        }
    }
    auto messages = j.find("messages");
    if (messages == j.end())
        return fail(bad_request("\"messages\" is required: a list like [{\"role\": \"user\", \"content\": \"...\"}].", "messages"));
    if (!(e = parse_chat_messages(*messages, limits, &r.request.messages)).empty()) return fail(e);
    if (r.request.schema && !r.request.stop.empty())
        return fail(bad_request("\"stop\" cannot be used with a constrained answer (response_format or tools): a stop "
                                "string could cut the JSON. Leave it out; the answer ends when the value is complete.",
                                "stop"));
    const bool calls = r.answer.format == AnswerFormat::ToolCall || r.answer.format == AnswerFormat::TextOrToolCall;
    if (calls && r.request.logprobs)
        return fail(bad_request("\"logprobs\" are not given with tool calls on this server; leave them out or set "
                                "\"tool_choice\": \"none\".",
                                "logprobs"));
    // The tools are described in the system prompt (after the client's own system text).
    if (!r.answer.tool_prompt.empty())
        r.request.messages.push_back(ChatMessage{"system", {ChatPart{ChatPart::Kind::Text, r.answer.tool_prompt, {}}}});
    return r;
}

}  // namespace es::server
