// chat_tools.h: OpenAI's constrained answers on /v1/chat/completions -
// `response_format` json_schema / json_object and `tools` + `tool_choice` -
// turned into one JSON schema for src/constrained (the same decoder the
// browser uses), the tools' description for the prompt, the conversation's
// tool calls and tool results as text the model reads, and the model's call
// read back (whole, or piece by piece for streamed tool-call deltas).
//
// A tool call is written by the model as the JSON object
//   {"name": "<tool name>", "arguments": {<the tool's parameters>}}
// under a schema that is a oneOf over the offered tools ({"name": const,
// "arguments": parameters}), so it always parses and validates.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api_error.h"

namespace es {
struct CompiledSchema;
}

namespace es::server {

// How the answer is written.
enum class AnswerFormat {
    Text,            // free text (no response_format, {"type": "text"}, tool_choice "none")
    JsonSchema,      // response_format json_schema / json_object: content is the JSON value
    ToolCall,        // tool_choice "required" or a named function: exactly one call
    TextOrToolCall,  // tool_choice "auto": text, or one call when the first token starts one
};

struct ChatTool {
    std::string name;
    std::string description;
    nlohmann::json parameters;  // an object schema
};

struct AnswerSpec {
    AnswerFormat format = AnswerFormat::Text;
    std::vector<ChatTool> tools;       // offered (described in the prompt)
    std::string forced_tool;           // tool_choice {"type": "function", "function": {"name"}}
    nlohmann::json schema;             // the answer's schema (JsonSchema, ToolCall, TextOrToolCall)
    std::shared_ptr<const es::CompiledSchema> compiled;
    std::string tool_prompt;           // text added to the system prompt; "" when none
};

// Reads response_format, tools, tool_choice and parallel_tool_calls of a
// request (absent fields: free text). Compiles the schema: a schema the
// constrained decoder refuses is a 400 naming the field and the reason.
ApiError parse_answer_spec(const nlohmann::json& request, AnswerSpec* out);

// The call as the model would write it (the text a conversation's assistant
// tool_calls are rendered as).
std::string tool_call_text(const std::string& name, const std::string& arguments_json);

// Reads the model's text as it grows. For a call: the tool's name once it is
// written, and the arguments' JSON text (exactly as the model wrote it) in
// pieces; bytes outside the arguments value are never part of a piece.
class ToolCallReader {
public:
    // Returns the arguments text that became known with `text` (possibly "").
    // Pieces are held back until the name is known (keys may come in any order).
    std::string push(const std::string& text);
    bool name_known() const { return name_done_; }
    const std::string& name() const { return name_; }
    bool arguments_done() const { return args_done_; }
    const std::string& arguments() const { return args_; }
    // After the whole answer: the name and arguments read, and the text parses as a call.
    bool complete(std::string* error) const;

private:
    std::string text_;
    int depth_ = 0;  // 0: before the object, 1: in it, 2+: inside a nested value, -1: after it
    bool in_string_ = false, escape_ = false;
    enum class Slot { Key, Colon, Value, AfterValue } slot_ = Slot::Key;
    std::string key_raw_, value_raw_;  // the key being read; the top-level value being read
    bool in_key_ = false;
    std::string current_key_;
    bool in_args_ = false, args_done_ = false, name_done_ = false;
    std::string name_, args_;
    size_t args_sent_ = 0;
};

// "call_" + 24 hex digits.
std::string new_tool_call_id();

}  // namespace es::server
