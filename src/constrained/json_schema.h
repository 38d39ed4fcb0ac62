// json_schema.h: a JSON schema compiled into the small graph of value shapes
// that the constrained decoder walks (see README.md for what is supported and
// why). Compiling never hangs and never grows without bound: every size is
// capped by SchemaLimits, and anything the matcher could not honour exactly
// (patterns, formats, unbounded recursion, ...) is refused with a message.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "constrained/string_pattern.h"

namespace es {

struct SchemaLimits {
    size_t max_schema_bytes = 64 * 1024;
    int max_schema_nesting = 64;       // of the schema document itself
    int max_nodes = 4096;
    int max_output_depth = 12;         // objects/arrays nested in one output
    int max_enum_values = 256;         // per enum
    size_t max_literal_bytes = 16 * 1024;  // all enum/const texts together
    int max_properties = 64;           // per object (a 64-bit seen-set)
    int max_alternatives = 32;         // per anyOf/oneOf
    int max_live_alternatives = 64;    // parses alive at once (overlapping anyOf branches)
    int default_max_string_length = 1024;  // strings without maxLength
    int default_max_items = 64;            // arrays without maxItems
    int max_key_length = 64;               // keys of additional properties
    int max_whitespace = 4;                // whitespace bytes between two JSON tokens
};

enum class SchemaKind : uint8_t { Object, Array, String, Integer, Number, Literal, AnyOf, Never };

struct SchemaProperty {
    std::string key;       // the key as written in the output: canonical JSON string, quotes included
    int node = -1;
    bool required = false;
};

struct SchemaNode {
    SchemaKind kind = SchemaKind::Never;
    // Object: properties sorted by key; `additional` is the node for other keys, -1 when none.
    std::vector<SchemaProperty> properties;
    int additional = -1;
    // Array
    int items = -1;
    int min_items = 0, max_items = 0;
    // String (lengths in code points); `pattern`: index in CompiledSchema::patterns, -1 for none
    int min_length = 0, max_length = 0;
    int pattern = -1;
    // Integer/Number: value * 10^frac_digits lies in [lo, hi]; at most int_digits
    // digits before the point; `exponent`: e/E notation allowed (unbounded numbers only).
    int64_t lo = 0, hi = 0;
    int frac_digits = 0;
    int int_digits = 15;
    bool bounded = false;
    bool exponent = false;
    // Literal: canonical JSON texts, sorted (enum, const, true/false/null)
    std::vector<std::string> texts;
    // AnyOf
    std::vector<int> alternatives;
};

struct CompiledSchema {
    std::vector<SchemaNode> nodes;
    std::vector<StringPattern> patterns;
    int root = -1;
    SchemaLimits limits;
    // min_bytes[d][node]: fewest bytes of a complete value of `node` opened at
    // output depth d (objects/arrays deeper than max_output_depth cannot open).
    std::vector<std::vector<int>> min_bytes;
    int min_value_bytes(int node, int depth) const;
};

// Compiles `schema_json`. On failure returns false and sets *error to plain
// words naming the part of the schema (a JSON pointer) and what to do.
bool compile_json_schema(const std::string& schema_json, const SchemaLimits& limits,
                         CompiledSchema* out, std::string* error);

// A value length that means "cannot be completed".
constexpr int kUnreachable = 1 << 29;

}  // namespace es
