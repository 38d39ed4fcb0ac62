// tool_registry.h: the agent's tools, one entry each: a name, what it does (the
// planner reads this), and JSON schemas of its arguments and of its output.
// Adding a tool is adding one entry. The schema of the model's next action, a
// oneOf over {"tool": const NAME, "arguments": INPUT SCHEMA}, is generated
// from the entries and compiles with constrained/json_schema.h, so a model
// sampled under it always writes a call that parses and validates; the same
// compiled schemas check calls and outputs that come from elsewhere (a
// hand-written call, an OpenAI-style tool call, a trace file).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "constrained/json_schema.h"

namespace es {

struct ToolSpec {
    std::string name;           // [a-z_]+, unique: the value of "tool" in an action
    std::string description;    // one or two sentences for the planning prompt
    nlohmann::json input_schema;   // an object schema (the "arguments")
    nlohmann::json output_schema;  // what the host hands back after running it
};

// The tool that ends a run; its argument is the answer ({"answer": text}).
constexpr const char* kFinishTool = "finish";

// A model's (or a person's) call of one tool.
struct ToolCall {
    std::string tool;
    nlohmann::json arguments = nlohmann::json::object();
};

class ToolRegistry {
public:
    // The nine tools of EndoScribe's case agent (classify, ground,
    // describe_region, segment, count_lesions, describe_image,
    // fill_report_fields, compare_images, finish).
    static ToolRegistry standard();

    // False (+ plain words) for a bad name, a duplicate, or schemas the
    // constrained decoder refuses (each is compiled here, once).
    bool add(const ToolSpec& spec, std::string* error);

    const std::vector<ToolSpec>& tools() const { return tools_; }
    const ToolSpec* find(const std::string& name) const;

    // {"oneOf": [{"type":"object","properties":{"tool":{"const":NAME},"arguments":INPUT},
    //   "required":["tool","arguments"],"additionalProperties":false}, ...]} over
    // `names` (empty = every tool), in registry order. Unknown names are skipped.
    nlohmann::json action_schema(const std::vector<std::string>& names = {}) const;

    // Parses and validates one action text against action_schema(names), with
    // the same matcher the decoder uses. False + words saying what is wrong.
    bool parse_action(const std::string& text, ToolCall* out, std::string* error,
                      const std::vector<std::string>& names = {}) const;
    // Arguments (resp. an output) of a named tool against its schema.
    bool validate_arguments(const std::string& tool, const nlohmann::json& arguments, std::string* error) const;
    bool validate_output(const std::string& tool, const nlohmann::json& output, std::string* error) const;

    // One line per tool for the planning prompt: "- name: description Arguments: {schema}".
    std::string describe_for_prompt(const std::vector<std::string>& names = {}) const;

private:
    struct Entry {
        std::shared_ptr<CompiledSchema> input, output;
    };
    std::vector<ToolSpec> tools_;
    std::vector<Entry> compiled_;
};

// Does `text` match `schema` exactly as the constrained decoder would accept
// it? (Compiles the schema; false + words when it is refused or does not match.)
bool json_text_matches_schema(const CompiledSchema& schema, const std::string& text);

// Numbers rounded to 6 decimals (as the decoder writes bounded numbers), so a
// host's output validates and a replay compares equal whatever the float noise.
nlohmann::json round_json_numbers(const nlohmann::json& value);

}  // namespace es
