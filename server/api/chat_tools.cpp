// chat_tools.cpp: see chat_tools.h.
#include "api/chat_tools.h"

#include <set>

#include "api/chat_response.h"
#include "constrained/json_schema.h"

namespace es::server {

using nlohmann::json;

namespace {

// OpenAI's rule for function and schema names.
bool valid_name(const std::string& s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    return true;
}

// A tool's parameters are embedded under .../arguments of the call schema, so
// its local references ("#", "#/$defs/x") must point there.
json rebase_refs(const json& schema, const std::string& prefix) {
    if (schema.is_object()) {
        json out = json::object();
        for (auto it = schema.begin(); it != schema.end(); ++it) {
            if (it.key() == "$ref" && it->is_string()) {
                const std::string ref = it->get<std::string>();
                out[it.key()] = (!ref.empty() && ref[0] == '#') ? "#" + prefix + ref.substr(1) : ref;
            } else if (it.key() == "enum" || it.key() == "const" || it.key() == "default" || it.key() == "examples") {
                out[it.key()] = *it;  // values, not schemas
            } else {
                out[it.key()] = rebase_refs(*it, prefix);
            }
        }
        return out;
    }
    if (schema.is_array()) {
        json out = json::array();
        for (const auto& v : schema) out.push_back(rebase_refs(v, prefix));
        return out;
    }
    return schema;
}

ApiError compile(const json& schema, const std::string& param, const std::string& what, AnswerSpec* out) {
    auto cs = std::make_shared<es::CompiledSchema>();
    std::string why;
    if (!es::compile_json_schema(schema.dump(), es::SchemaLimits(), cs.get(), &why)) {
        // The compiler says "The schema cannot be used (at /pointer): ..."; say which schema instead.
        const std::string prefix = "The schema cannot be used";
        const std::string rest = why.rfind(prefix, 0) == 0 ? why.substr(prefix.size()) : ": " + why;
        return bad_request(what + " cannot be used to constrain the answer" + rest, param, "unsupported_schema");
    }
    out->compiled = std::move(cs);
    return {};
}

ApiError parse_response_format(const json& f, AnswerSpec* out) {
    if (!f.is_object() || !f.contains("type") || !f["type"].is_string())
        return bad_request("\"response_format\" must be {\"type\": \"text\"}, {\"type\": \"json_object\"} or "
                           "{\"type\": \"json_schema\", \"json_schema\": {\"name\": ..., \"schema\": {...}}}.",
                           "response_format");
    const std::string type = f["type"].get<std::string>();
    for (auto it = f.begin(); it != f.end(); ++it)
        if (it.key() != "type" && !(type == "json_schema" && it.key() == "json_schema"))
            return bad_request("Unknown field \"response_format." + it.key() + "\".", "response_format." + it.key());
    if (type == "text") return {};
    if (type == "json_object") {
        out->format = AnswerFormat::JsonSchema;
        out->schema = json{{"type", "object"}};
        return compile(out->schema, "response_format", "The JSON object format", out);
    }
    if (type != "json_schema")
        return bad_request("\"response_format.type\" \"" + type + "\" is not supported; use \"text\", \"json_object\" or \"json_schema\".",
                           "response_format.type");
    const json* js = f.contains("json_schema") ? &f["json_schema"] : nullptr;
    if (!js || !js->is_object())
        return bad_request("\"response_format.json_schema\" must be an object {\"name\": ..., \"schema\": {...}, \"strict\": true}.",
                           "response_format.json_schema");
    for (auto it = js->begin(); it != js->end(); ++it) {
        const std::string& k = it.key();
        if (k != "name" && k != "description" && k != "schema" && k != "strict")
            return bad_request("Unknown field \"response_format.json_schema." + k + "\".", "response_format.json_schema." + k);
    }
    if (!js->contains("name") || !(*js)["name"].is_string() || !valid_name((*js)["name"].get<std::string>()))
        return bad_request("\"response_format.json_schema.name\" must be a name of 1 to 64 letters, digits, '_' or '-'.",
                           "response_format.json_schema.name");
    if (js->contains("description") && !(*js)["description"].is_string())
        return bad_request("\"response_format.json_schema.description\" must be a string.", "response_format.json_schema.description");
    if (js->contains("strict") && !(*js)["strict"].is_null() && !(*js)["strict"].is_boolean())
        return bad_request("\"response_format.json_schema.strict\" must be true or false.", "response_format.json_schema.strict");
    // "strict": false asks for less than we give: the answer is constrained either way.
    const json schema = js->contains("schema") ? (*js)["schema"] : json{{"type", "object"}};
    if (!schema.is_object() && !schema.is_boolean())
        return bad_request("\"response_format.json_schema.schema\" must be a JSON schema (an object).",
                           "response_format.json_schema.schema");
    out->format = AnswerFormat::JsonSchema;
    out->schema = schema;
    return compile(out->schema, "response_format.json_schema.schema", "This schema", out);
}

ApiError parse_tools(const json& tools, std::vector<ChatTool>* out) {
    if (!tools.is_array()) return bad_request("\"tools\" must be a list of {\"type\": \"function\", \"function\": {...}}.", "tools");
    std::set<std::string> names;
    for (size_t i = 0; i < tools.size(); ++i) {
        const std::string p = "tools[" + std::to_string(i) + "]";
        const json& t = tools[i];
        if (!t.is_object() || t.value("type", json()) != "function" || !t.contains("function") || !t["function"].is_object())
            return bad_request("\"" + p + "\" must be {\"type\": \"function\", \"function\": {\"name\": ..., \"parameters\": {...}}}.", p);
        for (auto it = t.begin(); it != t.end(); ++it)
            if (it.key() != "type" && it.key() != "function")
                return bad_request("Unknown field \"" + p + "." + it.key() + "\".", p + "." + it.key());
        const json& f = t["function"];
        for (auto it = f.begin(); it != f.end(); ++it) {
            const std::string& k = it.key();
            if (k != "name" && k != "description" && k != "parameters" && k != "strict")
                return bad_request("Unknown field \"" + p + ".function." + k + "\".", p + ".function." + k);
        }
        ChatTool tool;
        if (!f.contains("name") || !f["name"].is_string() || !valid_name(f["name"].get<std::string>()))
            return bad_request("\"" + p + ".function.name\" must be a name of 1 to 64 letters, digits, '_' or '-'.",
                               p + ".function.name");
        tool.name = f["name"].get<std::string>();
        if (!names.insert(tool.name).second)
            return bad_request("Two tools are named \"" + tool.name + "\"; tool names must differ.", p + ".function.name");
        if (f.contains("description") && !f["description"].is_null()) {
            if (!f["description"].is_string())
                return bad_request("\"" + p + ".function.description\" must be a string.", p + ".function.description");
            tool.description = f["description"].get<std::string>();
        }
        if (f.contains("strict") && !f["strict"].is_null() && !f["strict"].is_boolean())
            return bad_request("\"" + p + ".function.strict\" must be true or false.", p + ".function.strict");
        // No parameters: a function without arguments (OpenAI's reading).
        tool.parameters = f.contains("parameters") && !f["parameters"].is_null()
                              ? f["parameters"]
                              : json{{"type", "object"}, {"properties", json::object()}, {"additionalProperties", false}};
        if (!tool.parameters.is_object())
            return bad_request("\"" + p + ".function.parameters\" must be a JSON schema (an object).", p + ".function.parameters");
        out->push_back(std::move(tool));
    }
    return {};
}

// {"oneOf": [{"type": "object", "properties": {"name": {"const": N}, "arguments": P}, ...}]}
json call_schema(const std::vector<ChatTool>& tools, const std::string& only) {
    json alternatives = json::array();
    std::vector<const ChatTool*> chosen;
    for (const ChatTool& t : tools)
        if (only.empty() || t.name == only) chosen.push_back(&t);
    const bool single = chosen.size() == 1;
    for (size_t i = 0; i < chosen.size(); ++i) {
        const std::string prefix = single ? "/properties/arguments" : "/oneOf/" + std::to_string(i) + "/properties/arguments";
        alternatives.push_back(json{{"type", "object"},
                                    {"properties", {{"name", {{"const", chosen[i]->name}}},
                                                    {"arguments", rebase_refs(chosen[i]->parameters, prefix)}}},
                                    {"required", {"name", "arguments"}},
                                    {"additionalProperties", false}});
    }
    if (single) return alternatives[0];
    return json{{"oneOf", alternatives}};
}

std::string describe_tools(const AnswerSpec& spec) {
    std::string s = "You can call these tools. Each line gives a tool's name, what it does and the JSON schema of its arguments:\n";
    for (const ChatTool& t : spec.tools)
        s += "- " + t.name + ": " + (t.description.empty() ? std::string("(no description)") : t.description) +
             " Arguments: " + t.parameters.dump() + "\n";
    s += "To call a tool, answer with only a JSON object {\"name\": \"<tool name>\", \"arguments\": {<its arguments>}}, "
         "with nothing before or after it.";
    if (spec.format == AnswerFormat::TextOrToolCall)
        s += " If no tool is needed, answer in plain words instead.";
    else if (!spec.forced_tool.empty())
        s += " Call the tool \"" + spec.forced_tool + "\" now.";
    else
        s += " Answer with a tool call now.";
    return s;
}

}  // namespace

ApiError parse_answer_spec(const json& j, AnswerSpec* out) {
    auto present = [&j](const char* k) { return j.contains(k) && !j[k].is_null(); };
    if (present("functions") || present("function_call"))
        return bad_request("The old \"functions\"/\"function_call\" fields are not supported; use \"tools\" and \"tool_choice\".",
                           present("functions") ? "functions" : "function_call");
    if (present("response_format")) {
        ApiError e = parse_response_format(j["response_format"], out);
        if (!e.empty()) return e;
    }
    if (present("parallel_tool_calls") && !j["parallel_tool_calls"].is_boolean())
        return bad_request("\"parallel_tool_calls\" must be true or false.", "parallel_tool_calls");
    if (present("tools")) {
        ApiError e = parse_tools(j["tools"], &out->tools);
        if (!e.empty()) return e;
    }
    std::string choice = out->tools.empty() ? "none" : "auto";  // OpenAI's defaults
    if (present("tool_choice")) {
        const json& c = j["tool_choice"];
        if (c.is_string()) {
            choice = c.get<std::string>();
            if (choice != "none" && choice != "auto" && choice != "required")
                return bad_request("\"tool_choice\" must be \"none\", \"auto\", \"required\" or "
                                   "{\"type\": \"function\", \"function\": {\"name\": ...}}.",
                                   "tool_choice");
        } else if (c.is_object() && c.value("type", json()) == "function" && c.contains("function") &&
                   c["function"].is_object() && c["function"].contains("name") && c["function"]["name"].is_string()) {
            choice = "function";
            out->forced_tool = c["function"]["name"].get<std::string>();
            bool known = false;
            for (const ChatTool& t : out->tools) known = known || t.name == out->forced_tool;
            if (!known)
                return bad_request("\"tool_choice\" names the function \"" + out->forced_tool + "\", which is not in \"tools\".",
                                   "tool_choice");
        } else {
            return bad_request("\"tool_choice\" must be \"none\", \"auto\", \"required\" or "
                               "{\"type\": \"function\", \"function\": {\"name\": ...}}.",
                               "tool_choice");
        }
        if (choice != "none" && out->tools.empty())
            return bad_request("\"tool_choice\" \"" + choice + "\" needs \"tools\".", "tool_choice");
    }
    if (choice == "none") return {};  // tools offered but not to be called: plain text, not described
    if (out->format == AnswerFormat::JsonSchema)
        return bad_request("Send either \"response_format\" with a schema or tools to call, not both "
                           "(or set \"tool_choice\": \"none\").",
                           "response_format");
    out->format = choice == "auto" ? AnswerFormat::TextOrToolCall : AnswerFormat::ToolCall;
    // Each tool's parameters alone first, so a refusal names the tool.
    for (size_t i = 0; i < out->tools.size(); ++i) {
        const ChatTool& t = out->tools[i];
        if (!out->forced_tool.empty() && t.name != out->forced_tool) continue;
        AnswerSpec probe;
        ApiError e = compile(t.parameters, "tools[" + std::to_string(i) + "].function.parameters",
                             "The parameters of the tool \"" + t.name + "\"", &probe);
        if (!e.empty()) return e;
    }
    out->schema = call_schema(out->tools, out->forced_tool);
    ApiError e = compile(out->schema, "tools", "The tools' parameters", out);
    if (!e.empty()) return e;
    out->tool_prompt = describe_tools(*out);
    return {};
}

std::string tool_call_text(const std::string& name, const std::string& arguments_json) {
    return "{\"name\": " + json(name).dump() + ", \"arguments\": " + arguments_json + "}";
}

std::string new_tool_call_id() { return "call_" + random_hex(12); }

// ---- reading a call as it is written ---------------------------------------------

std::string ToolCallReader::push(const std::string& text) {
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    for (char c : text) {
        text_ += c;
        if (slot_ == Slot::Value && depth_ > 0 && !value_raw_.empty()) {
            const char first = value_raw_[0];
            bool ended = false;
            if (first == '"') {
                value_raw_ += c;
                if (escape_) escape_ = false;
                else if (c == '\\') escape_ = true;
                else if (c == '"') ended = true;
            } else if (first == '{' || first == '[') {
                value_raw_ += c;
                if (in_string_) {
                    if (escape_) escape_ = false;
                    else if (c == '\\') escape_ = true;
                    else if (c == '"') in_string_ = false;
                } else if (c == '"') {
                    in_string_ = true;
                } else if (c == '{' || c == '[') {
                    ++depth_;
                } else if ((c == '}' || c == ']') && --depth_ == 1) {
                    ended = true;
                }
            } else if (c == ',' || c == '}' || is_space(c)) {
                ended = true;  // a scalar ends before its terminator, which is read below
            } else {
                value_raw_ += c;
            }
            if (ended) {
                if (current_key_ == "arguments") {
                    args_ = value_raw_;
                    args_done_ = true;
                    in_args_ = false;
                } else if (current_key_ == "name") {
                    const json n = json::parse(value_raw_, nullptr, false);
                    if (n.is_string()) {
                        name_ = n.get<std::string>();
                        name_done_ = true;
                    }
                }
                value_raw_.clear();
                slot_ = Slot::AfterValue;
                if (first == '"' || first == '{' || first == '[') continue;
            } else {
                continue;
            }
        }
        if (in_key_) {
            if (escape_) {
                escape_ = false;
                key_raw_ += c;
            } else if (c == '\\') {
                escape_ = true;
                key_raw_ += c;
            } else if (c == '"') {
                in_key_ = false;
                const json k = json::parse("\"" + key_raw_ + "\"", nullptr, false);
                current_key_ = k.is_string() ? k.get<std::string>() : std::string();
                slot_ = Slot::Colon;
            } else {
                key_raw_ += c;
            }
            continue;
        }
        if (is_space(c)) continue;
        if (depth_ == 0) {
            if (c == '{' && text_.find_first_not_of(" \t\r\n") == text_.size() - 1) depth_ = 1;
            continue;
        }
        switch (slot_) {
            case Slot::Key:
                if (c == '"') in_key_ = true, key_raw_.clear();
                else if (c == '}') depth_ = -1;  // the object ended
                break;
            case Slot::Colon:
                if (c == ':') slot_ = Slot::Value;
                break;
            case Slot::Value:
                value_raw_ = std::string(1, c);
                escape_ = false;
                in_string_ = false;
                if (c == '{' || c == '[') depth_ = 2;
                in_args_ = current_key_ == "arguments";
                break;
            case Slot::AfterValue:
                if (c == ',') slot_ = Slot::Key;
                else if (c == '}') depth_ = -1;
                break;
        }
    }
    if (!name_done_) return "";
    const std::string& now = args_done_ ? args_ : in_args_ ? value_raw_ : args_;
    if (now.size() <= args_sent_) return "";
    std::string piece = now.substr(args_sent_);
    args_sent_ = now.size();
    return piece;
}

bool ToolCallReader::complete(std::string* error) const {
    const json j = json::parse(text_, nullptr, false);
    if (!j.is_object() || !name_done_ || !args_done_) {
        if (error) *error = "The model's answer is not a complete tool call.";
        return false;
    }
    return true;
}

}  // namespace es::server
