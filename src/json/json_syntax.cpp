// json_syntax.cpp: see json_syntax.h. A SAX pass finds the error without
// exceptions (the WebAssembly build cannot always catch them); the position
// comes from the byte offset, the reason from the parser's message with its
// exception id and position prefix removed.
#include "json/json_syntax.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace es {
namespace {

using json = nlohmann::json;

struct ErrorSax : nlohmann::json_sax<json> {
    bool failed = false;
    size_t byte = 0;
    std::string what;
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
        failed = true;
        byte = position;
        what = ex.what();
        return false;
    }
};

// "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error while parsing
// object key - unexpected '}'; expected string literal" -> "unexpected '}'; expected string literal".
std::string reason_from(const std::string& what) {
    std::string r = what;
    const size_t pe = r.find("parse error");
    if (pe != std::string::npos) {
        const size_t colon = r.find(": ", pe);
        r = colon == std::string::npos ? r.substr(pe + 11) : r.substr(colon + 2);
    }
    if (r.rfind("syntax error while parsing ", 0) == 0) {
        const size_t dash = r.find(" - ");
        if (dash != std::string::npos) r = r.substr(dash + 3);
    }
    // Anything still naming the library's exception is dropped rather than shown.
    if (r.find("json.exception") != std::string::npos) r = "not valid JSON";
    return r;
}

}  // namespace

std::string JsonSyntax::describe() const {
    if (ok) return std::string();
    return "not valid JSON at line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + reason;
}

JsonSyntax check_json_syntax(const std::string& text) {
    JsonSyntax r;
    ErrorSax sax;
    if (json::sax_parse(text, &sax, json::input_format_t::json, /*strict=*/true, /*ignore_comments=*/false) &&
        !sax.failed)
        return r;
    r.ok = false;
    // The parser's byte is 1-based: the character it stopped at (or one past the end).
    const size_t stop = sax.byte > 0 ? std::min(sax.byte - 1, text.size()) : 0;
    r.line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < stop; ++i)
        if (text[i] == '\n') {
            ++r.line;
            line_start = i + 1;
        }
    r.column = stop - line_start + 1;
    r.reason = sax.failed ? reason_from(sax.what) : "not valid JSON";
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) r.reason = "the text is empty";
    return r;
}

int json_nesting_depth(const std::string& text, int limit) {
    int depth = 0, best = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '[' || c == '{') {
            best = best > ++depth ? best : depth;
            if (best > limit) return best;
        } else if (c == ']' || c == '}') --depth;
    }
    return best;
}

}  // namespace es
