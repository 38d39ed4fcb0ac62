// json_syntax.h: where and why a JSON text does not parse, in words a person
// can act on ("line 3, column 5: unexpected '}'"), without the parser's
// exception names (json.exception.parse_error.101 means nothing to a user).
#pragma once
#include <cstddef>
#include <string>

namespace es {

struct JsonSyntax {
    bool ok = true;
    size_t line = 0, column = 0;  // 1-based, of the character where parsing stopped
    std::string reason;           // e.g. "unexpected '}'; expected string literal"
    // "not valid JSON at line 3, column 5: unexpected '}'; expected string literal", or "" when ok.
    std::string describe() const;
};

// Checks that `text` is one JSON value. Never throws.
JsonSyntax check_json_syntax(const std::string& text);

// Deepest nesting of arrays/objects outside strings, without building anything
// (a DOM of 100,000 nested arrays would recurse); stops counting past `limit`.
int json_nesting_depth(const std::string& text, int limit);

}  // namespace es
