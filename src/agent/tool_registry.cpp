#include "agent/tool_registry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "constrained/json_matcher.h"

namespace es {

using json = nlohmann::json;

namespace {

json text_schema(int max_length, int min_length = 1) {
    return {{"type", "string"}, {"minLength", min_length}, {"maxLength", max_length}};
}
// A box in image pixels, [x1, y1, x2, y2].
json box_schema() {
    return {{"type", "array"},
            {"items", {{"type", "number"}, {"minimum", 0}, {"maximum", 100000}}},
            {"minItems", 4},
            {"maxItems", 4}};
}
json object_schema(json properties, std::vector<std::string> required) {
    if (properties.is_null()) properties = json::object();  // `{}` in an initializer list is null
    json s = {{"type", "object"}, {"properties", std::move(properties)}, {"additionalProperties", false}};
    if (!required.empty()) s["required"] = std::move(required);
    return s;
}
json probability_schema() { return {{"type", "number"}, {"minimum", 0}, {"maximum", 1}}; }

bool valid_name(const std::string& s) {
    if (s.empty() || s.size() > 40) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
    return true;
}

bool compile(const json& schema, std::shared_ptr<CompiledSchema>* out, std::string* error,
             const SchemaLimits& limits = SchemaLimits()) {
    auto cs = std::make_shared<CompiledSchema>();
    if (!compile_json_schema(schema.dump(), limits, cs.get(), error)) return false;
    *out = std::move(cs);
    return true;
}

bool check_text(const json& schema, const std::string& text, std::string* error) {
    CompiledSchema cs;
    std::string why;
    if (!compile_json_schema(schema.dump(), SchemaLimits(), &cs, &why)) {
        if (error) *error = "The schema cannot be used: " + why;
        return false;
    }
    return json_text_matches_schema(cs, text);
}

// JSON text with every non-integer number as a plain decimal of at most 6
// fraction digits: the form the decoder writes bounded numbers in, and the only
// one the matcher accepts for them (nlohmann's dump writes 4.3e-05).
std::string plain_json_text(const json& v) {
    if (v.is_number_float()) {
        const double d = v.get<double>();
        if (!std::isfinite(d)) return "null";
        char b[400];
        std::snprintf(b, sizeof b, "%.6f", d);
        std::string s = b;
        while (s.back() == '0') s.pop_back();
        if (s.back() == '.') s.pop_back();
        return s == "-0" ? "0" : s;
    }
    if (v.is_array()) {
        std::string s = "[";
        for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + plain_json_text(v[i]);
        return s + "]";
    }
    if (v.is_object()) {
        std::string s = "{";
        bool first = true;
        for (auto it = v.begin(); it != v.end(); ++it, first = false)
            s += (first ? "" : ",") + json(it.key()).dump() + ":" + plain_json_text(it.value());
        return s + "}";
    }
    return v.dump();
}

}  // namespace

bool json_text_matches_schema(const CompiledSchema& schema, const std::string& text) {
    JsonMatcher m(&schema);
    MatchState st;
    m.start(&st);
    return m.advance_bytes(&st, text) && m.complete(st);
}

json round_json_numbers(const json& value) {
    if (value.is_number_float()) {
        const double v = value.get<double>();
        if (!std::isfinite(v)) return nullptr;
        const double r = std::round(v * 1e6) / 1e6;
        return json(r);
    }
    if (value.is_array()) {
        json out = json::array();
        for (const auto& v : value) out.push_back(round_json_numbers(v));
        return out;
    }
    if (value.is_object()) {
        json out = json::object();
        for (auto it = value.begin(); it != value.end(); ++it) out[it.key()] = round_json_numbers(it.value());
        return out;
    }
    return value;
}

ToolRegistry ToolRegistry::standard() {
    ToolRegistry r;
    std::string error;
    const json boxes_out = {{"type", "array"},
                            {"items", object_schema({{"box", box_schema()}, {"label", text_schema(64, 0)},
                                                     {"score", probability_schema()}},
                                                    {"box"})},
                            {"maxItems", 32}};
    const json text_out = object_schema({{"text", text_schema(4000, 0)}}, {"text"});
    const std::vector<ToolSpec> specs = {
        {"classify",
         "Scores every label of a label set on the image and returns each label's probability (most probable first).",
         object_schema({{"label_set", text_schema(64)}}, {"label_set"}),
         object_schema({{"labels", {{"type", "array"},
                                    {"items", object_schema({{"label", text_schema(64)}, {"probability", probability_schema()}},
                                                            {"label", "probability"})},
                                    {"minItems", 1},
                                    {"maxItems", 64}}}},
                       {"labels"})},
        {"ground", "Finds what a short text names (e.g. \"polyp\") on the image and returns boxes in pixels.",
         object_schema({{"text", text_schema(120)}, {"max_boxes", {{"type", "integer"}, {"minimum", 1}, {"maximum", 16}}}},
                       {"text"}),
         object_schema({{"boxes", boxes_out}}, {"boxes"})},
        {"describe_region", "Describes what is inside one box of the image.",
         object_schema({{"box", box_schema()}, {"question", text_schema(300)}}, {"box"}), text_out},
        {"segment",
         "Segments the image from positive/negative points or boxes (one mask per box, or one for the points); "
         "returns masks as COCO RLE with their boxes.",
         object_schema({{"points", {{"type", "array"},
                                    {"items", object_schema({{"x", {{"type", "number"}, {"minimum", 0}, {"maximum", 100000}}},
                                                             {"y", {{"type", "number"}, {"minimum", 0}, {"maximum", 100000}}},
                                                             {"positive", {{"type", "boolean"}}}},
                                                            {"x", "y", "positive"})},
                                    {"maxItems", 16}}},
                        {"boxes", {{"type", "array"}, {"items", box_schema()}, {"maxItems", 16}}}},
                       {}),
         object_schema({{"masks", {{"type", "array"},
                                   {"items", object_schema({{"box", box_schema()},
                                                            {"rle", object_schema({{"size", {{"type", "array"},
                                                                                             {"items", {{"type", "integer"}, {"minimum", 0}, {"maximum", 100000}}},
                                                                                             {"minItems", 2},
                                                                                             {"maxItems", 2}}},
                                                                                   {"counts", text_schema(4000000, 0)}},
                                                                                  {"size", "counts"})},
                                                            {"score", probability_schema()}},
                                                           {"box", "rle"})},
                                   {"maxItems", 32}}}},
                       {"masks"})},
        {"count_lesions",
         "Counts the lesions on the image from the accepted masks and boxes (one per lesion-labelled annotation).",
         object_schema({}, {}),
         object_schema({{"count", {{"type", "integer"}, {"minimum", 0}, {"maximum", 10000}}},
                        {"mask_parts", {{"type", "integer"}, {"minimum", 0}, {"maximum", 100000}}}},
                       {"count"})},
        {"describe_image", "Answers a question about the whole image (or captions it when the question is empty).",
         object_schema({{"question", text_schema(300, 0)}}, {"question"}), text_out},
        {"fill_report_fields",
         "Drafts the report's empty fields for the findings so far (AI values stay marked until accepted).",
         object_schema({{"findings", {{"type", "array"}, {"items", text_schema(64)}, {"maxItems", 16}}}}, {}),
         object_schema({{"applied", {{"type", "array"},
                                     {"items", object_schema({{"path", text_schema(200)}, {"value", text_schema(2000, 0)},
                                                              {"probability", probability_schema()}},
                                                             {"path", "value"})}}},
                        {"rejected", {{"type", "array"},
                                      {"items", object_schema({{"path", text_schema(200)}, {"reason", text_schema(500)}},
                                                              {"path", "reason"})}}}},
                       {"applied", "rejected"})},
        {"compare_images", "Compares two images of the case (e.g. before and after) and says what differs.",
         object_schema({{"image_a", text_schema(256)}, {"image_b", text_schema(256)}, {"question", text_schema(300, 0)}},
                       {"image_a", "image_b"}),
         text_out},
        {kFinishTool, "Ends the run with the answer to the question.",
         object_schema({{"answer", text_schema(2000)}}, {"answer"}), object_schema({}, {})},
    };
    for (const auto& s : specs)
        if (!r.add(s, &error)) throw std::logic_error("standard tool registry: " + error);
    return r;
}

bool ToolRegistry::add(const ToolSpec& spec, std::string* error) {
    if (!valid_name(spec.name)) {
        if (error) *error = "The tool name \"" + spec.name + "\" cannot be used: use 1 to 40 lowercase letters or underscores.";
        return false;
    }
    if (find(spec.name)) {
        if (error) *error = "There is already a tool named \"" + spec.name + "\": give the new one another name.";
        return false;
    }
    if (!spec.input_schema.is_object() || spec.input_schema.value("type", json()) != "object") {
        if (error) *error = "The arguments of tool \"" + spec.name + "\" must be described by an object schema (\"type\": \"object\").";
        return false;
    }
    Entry e;
    std::string why;
    if (!compile(spec.input_schema, &e.input, &why)) {
        if (error) *error = "The argument schema of tool \"" + spec.name + "\" is refused: " + why;
        return false;
    }
    // Outputs are checked, never generated: a string may be as long as its
    // maxLength says (a large mask's RLE, a long description), not only the
    // decoder's default cap of 1024 characters.
    SchemaLimits output_limits;
    output_limits.default_max_string_length = 1 << 24;
    if (!compile(spec.output_schema, &e.output, &why, output_limits)) {
        if (error) *error = "The output schema of tool \"" + spec.name + "\" is refused: " + why;
        return false;
    }
    tools_.push_back(spec);
    compiled_.push_back(std::move(e));
    return true;
}

const ToolSpec* ToolRegistry::find(const std::string& name) const {
    for (const auto& t : tools_)
        if (t.name == name) return &t;
    return nullptr;
}

json ToolRegistry::action_schema(const std::vector<std::string>& names) const {
    json alternatives = json::array();
    for (const auto& t : tools_) {
        if (!names.empty() && std::find(names.begin(), names.end(), t.name) == names.end()) continue;
        alternatives.push_back(object_schema({{"tool", {{"const", t.name}}}, {"arguments", t.input_schema}},
                                             {"tool", "arguments"}));
    }
    if (alternatives.size() == 1) return alternatives[0];
    return {{"oneOf", alternatives}};
}

bool ToolRegistry::parse_action(const std::string& text, ToolCall* out, std::string* error,
                                const std::vector<std::string>& names) const {
    json value = json::parse(text, nullptr, false);
    if (value.is_discarded()) {
        if (error) *error = "The tool call is not valid JSON; it is ignored. Ask the model again (with the action schema as its constraint).";
        return false;
    }
    if (!value.is_object() || !value.contains("tool") || !value["tool"].is_string()) {
        if (error) *error = "The tool call must be an object with \"tool\" (a tool's name) and \"arguments\".";
        return false;
    }
    const std::string tool = value["tool"].get<std::string>();
    const bool allowed = names.empty() || std::find(names.begin(), names.end(), tool) != names.end();
    if (!find(tool) || !allowed) {
        if (error) *error = "The tool \"" + tool + "\" is not one the agent may call now.";
        return false;
    }
    std::string why;
    if (!check_text(action_schema(names), text, &why)) {
        if (error)
            *error = why.empty() ? "The call of \"" + tool + "\" does not match its schema (missing, extra or out-of-range arguments)."
                                 : why;
        return false;
    }
    if (out) {
        out->tool = tool;
        out->arguments = value.value("arguments", json::object());
    }
    return true;
}

bool ToolRegistry::validate_arguments(const std::string& tool, const json& arguments, std::string* error) const {
    for (size_t i = 0; i < tools_.size(); ++i)
        if (tools_[i].name == tool) {
            if (json_text_matches_schema(*compiled_[i].input, plain_json_text(arguments))) return true;
            if (error) *error = "The arguments of \"" + tool + "\" do not match its schema: " + arguments.dump();
            return false;
        }
    if (error) *error = "There is no tool named \"" + tool + "\".";
    return false;
}

bool ToolRegistry::validate_output(const std::string& tool, const json& output, std::string* error) const {
    for (size_t i = 0; i < tools_.size(); ++i)
        if (tools_[i].name == tool) {
            if (json_text_matches_schema(*compiled_[i].output, plain_json_text(output))) return true;
            if (error) *error = "The output of \"" + tool + "\" does not match its schema; it is not used.";
            return false;
        }
    if (error) *error = "There is no tool named \"" + tool + "\".";
    return false;
}

std::string ToolRegistry::describe_for_prompt(const std::vector<std::string>& names) const {
    std::string s;
    for (const auto& t : tools_) {
        if (!names.empty() && std::find(names.begin(), names.end(), t.name) == names.end()) continue;
        s += "- " + t.name + ": " + t.description + " Arguments: " + t.input_schema.dump() + "\n";
    }
    return s;
}

}  // namespace es
