// chat_template.h: renders a Hugging Face chat template (the Jinja2 subset that
// Gemma-3 / MedGemma / PaliGemma tokenizer_config.json templates use) over a
// list of messages, with transformers' settings (trim_blocks, lstrip_blocks).
// Anything outside the subset is refused with a message naming it and its line,
// never silently rendered wrong.
//
// Supported: {{ expr }}, {% if/elif/else/endif %}, {% for x in expr %} (with
// loop.index/index0/first/last/length/revindex, tuple unpacking, else), {% set %}
// (incl. namespace attributes), {# comments #}, whitespace control (-), literals
// (strings, numbers, lists, dicts, true/false/none), operators (+ - * / // % ~,
// == != < > <= >=, in, not in, and, or, not, x if c else y), indexing and slices,
// filters (trim, length, count, upper, lower, capitalize, title, string, int,
// first, last, join, default, tojson, list, reverse, items), tests (defined,
// undefined, none, string, number, integer, iterable, sequence, mapping,
// boolean, true, false, even, odd), raise_exception(), namespace(), range(),
// string methods (strip, lstrip, rstrip, startswith, endswith, split, upper,
// lower, replace, title) and dict methods (items, keys, values, get).
#pragma once
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace es {

class ChatTemplate {
public:
    ChatTemplate();
    ~ChatTemplate();
    ChatTemplate(ChatTemplate&&) noexcept;
    ChatTemplate& operator=(ChatTemplate&&) noexcept;

    // Parses the template. False + message (with line number) on syntax outside the subset.
    bool parse(const std::string& source, std::string* error);
    bool ok() const;

    // Renders with `context` as the global variables (messages, bos_token,
    // add_generation_prompt, ...). False + message on a runtime error, including
    // the template's own raise_exception("...").
    bool render(const nlohmann::ordered_json& context, std::string* out, std::string* error) const;

    struct Node;
private:
    std::shared_ptr<Node> root_;
};

// Convenience: the usual context for a conversation. ordered_json keeps
// mapping order as Python dicts do (dict iteration order is visible in output).
nlohmann::ordered_json chat_context(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                            const std::string& bos_token, const std::string& eos_token);

}  // namespace es
