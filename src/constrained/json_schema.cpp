#include "constrained/json_schema.h"

#include <algorithm>
#include <bitset>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "json/json_syntax.h"

namespace es {

int CompiledSchema::min_value_bytes(int node, int depth) const {
    if (node < 0 || depth < 0 || size_t(depth) >= min_bytes.size()) return kUnreachable;
    return min_bytes[size_t(depth)][size_t(node)];
}

namespace {

using json = nlohmann::json;

// Keywords that describe a value without constraining it.
const std::set<std::string> kAnnotations = {
    "$schema", "$id", "$comment", "$anchor", "title", "description", "default", "examples",
    "deprecated", "readOnly", "writeOnly", "$defs", "definitions"};
const std::set<std::string> kUnderstood = {
    "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
    "enum", "const", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "anyOf", "oneOf", "allOf", "$ref"};

constexpr int64_t kMaxInteger = 999999999999999LL;       // 15 digits: exact in a double
constexpr int kNumberFraction = 6;                       // digits after the point for bounded numbers
constexpr int64_t kMaxScaled = 999999999999999999LL;     // 12 integer digits + 6 fraction digits

enum TypeBit : unsigned { TObject = 1, TArray = 2, TString = 4, TNumber = 8, TBool = 16, TNull = 32 };

double scaled_value(int64_t v) {
    char buf[48];
    const uint64_t a = v < 0 ? uint64_t(-v) : uint64_t(v);
    std::snprintf(buf, sizeof buf, "%s%llu.%06llu", v < 0 ? "-" : "", (unsigned long long)(a / 1000000),
                  (unsigned long long)(a % 1000000));
    return std::strtod(buf, nullptr);
}

struct Compiler {
    const json& doc;
    SchemaLimits lim;
    CompiledSchema* out;
    std::string error;
    std::map<std::string, int> ref_nodes;  // JSON pointer -> node
    int any_node = -1;
    size_t literal_bytes = 0;

    bool fail(const std::string& where, const std::string& what) {
        if (error.empty()) error = "The schema cannot be used" + std::string(where.empty() ? "" : " (at " + where + ")") + ": " + what;
        return false;
    }
    int add(SchemaKind k) {
        if (int(out->nodes.size()) >= lim.max_nodes) {
            fail("", "it is too large (more than " + std::to_string(lim.max_nodes) + " parts). Simplify it or split it into several tools.");
            return -1;
        }
        SchemaNode n;
        n.kind = k;
        out->nodes.push_back(std::move(n));
        return int(out->nodes.size()) - 1;
    }
    SchemaNode& node(int i) { return out->nodes[size_t(i)]; }

    // Any JSON value: an anyOf over the six shapes, with itself inside objects and arrays.
    int any() {
        if (any_node >= 0) return any_node;
        any_node = add(SchemaKind::AnyOf);
        if (any_node < 0) return -1;
        const int obj = add(SchemaKind::Object), arr = add(SchemaKind::Array), str = add(SchemaKind::String),
                  num = add(SchemaKind::Number), lit = add(SchemaKind::Literal);
        if (obj < 0 || arr < 0 || str < 0 || num < 0 || lit < 0) return -1;
        node(obj).additional = any_node;
        node(arr).items = any_node;
        node(arr).max_items = lim.default_max_items;
        node(str).max_length = lim.default_max_string_length;
        node(num).exponent = true;
        node(num).frac_digits = 15;
        node(lit).texts = {"false", "null", "true"};
        node(any_node).alternatives = {obj, arr, str, num, lit};
        return any_node;
    }

    bool get_count(const json& s, const char* key, const std::string& where, int cap, int* v) {
        if (!s.contains(key)) return true;
        const json& x = s[key];
        if (!x.is_number() || (x.is_number_float() && x.get<double>() != std::floor(x.get<double>())) || x.get<double>() < 0)
            return fail(where + "/" + key, std::string(key) + " must be a non-negative whole number");
        const double d = x.get<double>();
        *v = d > cap ? cap + 1 : int(d);
        return true;
    }

    int compile_ref(const std::string& ref, const std::string& where) {
        if (ref.empty() || ref[0] != '#')
            return fail(where, "$ref \"" + ref + "\" points outside this schema; only references inside it (\"#/$defs/...\") are supported. Paste the referenced schema into $defs."), -1;
        auto it = ref_nodes.find(ref);
        if (it != ref_nodes.end()) return it->second;
        const json* target = nullptr;
        try {
            target = &doc.at(json::json_pointer(ref.substr(1)));
        } catch (const std::exception&) {
            return fail(where, "$ref \"" + ref + "\" names nothing in this schema. Check the name under $defs."), -1;
        }
        // Reserve the node first so a recursive reference finds it.
        const int n = add(SchemaKind::AnyOf);
        if (n < 0) return -1;
        ref_nodes[ref] = n;
        const int body = compile(*target, ref.substr(1));
        if (body < 0) return -1;
        node(n).alternatives = {body};  // an alias; cycles of aliases alone are refused later
        return n;
    }

    // Literal texts of an enum/const, keeping only values of the allowed types.
    int compile_literals(const json& values, unsigned types, const std::string& where) {
        const int n = add(SchemaKind::Literal);
        if (n < 0) return -1;
        std::set<std::string> texts;
        for (const json& v : values) {
            unsigned t = v.is_object() ? TObject : v.is_array() ? TArray : v.is_string() ? TString
                       : v.is_number() ? TNumber : v.is_boolean() ? TBool : TNull;
            if (!(t & types)) continue;
            if (v.is_number_float() && !std::isfinite(v.get<double>())) continue;  // 1e400 would be written as null
            std::string text = v.dump();
            literal_bytes += text.size();
            if (literal_bytes > lim.max_literal_bytes)
                return fail(where, "its enum/const values are too long together (over " + std::to_string(lim.max_literal_bytes) + " bytes). Shorten the list."), -1;
            texts.insert(std::move(text));
        }
        if (texts.empty()) return fail(where, "no enum/const value has the schema's type, so nothing could be written"), -1;
        node(n).texts.assign(texts.begin(), texts.end());
        return n;
    }

    int depth = 0;  // nested compile calls: schema nesting plus $ref chains
    int compile(const json& s, const std::string& where) {
        struct Nest { int& d; explicit Nest(int& x) : d(++x) {} ~Nest() { --d; } } nest(depth);
        if (depth > 2 * lim.max_schema_nesting)
            return fail(where, "its $ref chain or nesting is more than " + std::to_string(2 * lim.max_schema_nesting) + " levels deep. Simplify it."), -1;
        if (s.is_boolean()) return s.get<bool>() ? any() : add(SchemaKind::Never);
        if (!s.is_object()) return fail(where, "a schema must be a JSON object (or true/false)"), -1;
        for (auto it = s.begin(); it != s.end(); ++it) {
            const std::string& k = it.key();
            if (kAnnotations.count(k) || kUnderstood.count(k)) continue;
            if (k == "pattern") continue;  // a subset, see string_pattern.h
            if (k == "patternProperties")
                return fail(where, "\"patternProperties\" is not supported. List the properties by name."), -1;
            if (k == "format")
                return fail(where, "\"format\" is not supported: the output could not be guaranteed to match it. Remove it and describe the form in \"description\"."), -1;
            return fail(where, "the keyword \"" + k + "\" is not supported by the constrained decoder. Remove it, or express it with type, properties, required, additionalProperties, items, minItems, maxItems, enum, const, minLength, maxLength, minimum, maximum, anyOf, oneOf or $ref."), -1;
        }
        if (s.contains("$ref")) {
            for (auto it = s.begin(); it != s.end(); ++it)
                if (it.key() != "$ref" && !kAnnotations.count(it.key()))
                    return fail(where, "\"$ref\" next to \"" + it.key() + "\" is not supported; move the other keywords into the referenced schema"), -1;
            if (!s["$ref"].is_string()) return fail(where, "$ref must be a string"), -1;
            return compile_ref(s["$ref"].get<std::string>(), where);
        }
        if (s.contains("allOf")) {
            const json& a = s["allOf"];
            if (!a.is_array() || a.size() != 1 || s.size() != 1 + count_annotations(s))
                return fail(where, "allOf is supported only with a single schema and nothing beside it. Merge the schemas into one."), -1;
            return compile(a[0], where + "/allOf/0");
        }
        for (const char* key : {"anyOf", "oneOf"}) {
            if (!s.contains(key)) continue;
            const json& alts = s[key];
            if (!alts.is_array() || alts.empty()) return fail(where + "/" + key, std::string(key) + " must be a non-empty list of schemas"), -1;
            if (int(alts.size()) > lim.max_alternatives)
                return fail(where + "/" + key, "it has " + std::to_string(alts.size()) + " alternatives; at most " + std::to_string(lim.max_alternatives) + " are supported"), -1;
            if (s.size() != 1 + count_annotations(s))
                return fail(where, std::string(key) + " next to other keywords is not supported; put them inside each alternative"), -1;
            const int n = add(SchemaKind::AnyOf);
            if (n < 0) return -1;
            std::vector<int> v;
            for (size_t i = 0; i < alts.size(); ++i) {
                const int a = compile(alts[i], where + "/" + key + "/" + std::to_string(i));
                if (a < 0) return -1;
                v.push_back(a);
            }
            node(n).alternatives = v;
            if (std::string(key) == "oneOf")
                for (size_t i = 0; i < v.size(); ++i)
                    for (size_t j = i + 1; j < v.size(); ++j)
                        if (!disjoint(v[i], v[j]))
                            return fail(where + "/oneOf", "alternatives " + std::to_string(i) + " and " + std::to_string(j) +
                                        " could both match the same value, and oneOf needs exactly one to match. Use anyOf, or give each alternative a required property with a different const."), -1;
            return n;
        }

        // The types this schema allows: "type", else what its keywords imply, else any.
        unsigned types = 0;
        if (s.contains("type")) {
            const json& t = s["type"];
            std::vector<std::string> names;
            if (t.is_string()) names.push_back(t.get<std::string>());
            else if (t.is_array()) for (const json& e : t) names.push_back(e.is_string() ? e.get<std::string>() : std::string("?"));
            for (const std::string& name : names) {
                unsigned b = name == "object" ? unsigned(TObject) : name == "array" ? TArray : name == "string" ? TString
                           : name == "number" || name == "integer" ? TNumber : name == "boolean" ? TBool : name == "null" ? TNull : 0u;
                if (!b) return fail(where + "/type", "unknown type \"" + name + "\"; use object, array, string, number, integer, boolean or null"), -1;
                types |= b;
            }
            if (!types) return fail(where + "/type", "type lists no type"), -1;
        } else {
            for (const char* k : {"properties", "required", "additionalProperties"}) if (s.contains(k)) types |= TObject;
            for (const char* k : {"items", "minItems", "maxItems"}) if (s.contains(k)) types |= TArray;
            for (const char* k : {"minLength", "maxLength", "pattern"}) if (s.contains(k)) types |= TString;
            for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}) if (s.contains(k)) types |= TNumber;
            if (!types) types = TObject | TArray | TString | TNumber | TBool | TNull;
        }
        const bool integer_only = s.contains("type") && (s["type"] == "integer" ||
            (s["type"].is_array() && std::find(s["type"].begin(), s["type"].end(), json("integer")) != s["type"].end() &&
             std::find(s["type"].begin(), s["type"].end(), json("number")) == s["type"].end()));

        if (s.contains("enum") || s.contains("const")) {
            for (auto it = s.begin(); it != s.end(); ++it)
                if (it.key() != "enum" && it.key() != "const" && it.key() != "type" && !kAnnotations.count(it.key()))
                    return fail(where, "enum/const together with \"" + it.key() + "\" is not supported; list only the allowed values"), -1;
            json values = json::array();
            if (s.contains("const")) values.push_back(s["const"]);
            if (s.contains("enum")) {
                if (!s["enum"].is_array() || s["enum"].empty()) return fail(where + "/enum", "enum must be a non-empty list"), -1;
                if (int(s["enum"].size()) > lim.max_enum_values)
                    return fail(where + "/enum", "it lists " + std::to_string(s["enum"].size()) + " values; at most " + std::to_string(lim.max_enum_values) + " are supported"), -1;
                if (s.contains("const")) {
                    if (std::find(s["enum"].begin(), s["enum"].end(), s["const"]) == s["enum"].end())
                        return fail(where, "const is not one of enum's values, so nothing could be written"), -1;
                } else {
                    values = s["enum"];
                }
            }
            if (integer_only) {
                json ints = json::array();
                for (const json& v : values)
                    if (!v.is_number() || v.is_number_integer() || v.is_number_unsigned() || v.get<double>() == std::floor(v.get<double>())) ints.push_back(v);
                values = ints;
            }
            return compile_literals(values, types, where);
        }

        std::vector<int> shapes;
        if (types & TObject) { const int n = compile_object(s, where); if (n < 0) return -1; shapes.push_back(n); }
        if (types & TArray) { const int n = compile_array(s, where); if (n < 0) return -1; shapes.push_back(n); }
        if (types & TString) { const int n = compile_string(s, where); if (n < 0) return -1; shapes.push_back(n); }
        if (types & TNumber) { const int n = compile_number(s, where, integer_only); if (n < 0) return -1; shapes.push_back(n); }
        if (types & (TBool | TNull)) {
            json v = json::array();
            if (types & TBool) { v.push_back(false); v.push_back(true); }
            if (types & TNull) v.push_back(nullptr);
            const int n = compile_literals(v, TBool | TNull, where);
            if (n < 0) return -1;
            shapes.push_back(n);
        }
        if (shapes.size() == 1) return shapes[0];
        const int n = add(SchemaKind::AnyOf);
        if (n < 0) return -1;
        node(n).alternatives = shapes;
        return n;
    }

    size_t count_annotations(const json& s) {
        size_t n = 0;
        for (auto it = s.begin(); it != s.end(); ++it) n += kAnnotations.count(it.key());
        return n;
    }

    int compile_object(const json& s, const std::string& where) {
        const int n = add(SchemaKind::Object);
        if (n < 0) return -1;
        std::map<std::string, std::pair<int, bool>> props;  // canonical key -> node, required
        std::map<std::string, std::string> key_of;          // name -> canonical key
        if (s.contains("properties")) {
            const json& p = s["properties"];
            if (!p.is_object()) return fail(where + "/properties", "properties must be an object"), -1;
            if (int(p.size()) > lim.max_properties)
                return fail(where + "/properties", "it has " + std::to_string(p.size()) + " properties; at most " + std::to_string(lim.max_properties) + " are supported"), -1;
            for (auto it = p.begin(); it != p.end(); ++it) {
                const int c = compile(it.value(), where + "/properties/" + it.key());
                if (c < 0) return -1;
                const std::string key = json(it.key()).dump();
                props[key] = {c, false};
                key_of[it.key()] = key;
            }
        }
        int additional = -1;
        if (!s.contains("additionalProperties") || s["additionalProperties"] == true) additional = -2;  // any, made below
        else if (s["additionalProperties"] == false) additional = -1;
        else {
            additional = compile(s["additionalProperties"], where + "/additionalProperties");
            if (additional < 0) return -1;
        }
        if (additional == -2) { additional = any(); if (additional < 0) return -1; }
        if (s.contains("required")) {
            const json& r = s["required"];
            if (!r.is_array()) return fail(where + "/required", "required must be a list of property names"), -1;
            for (const json& e : r) {
                if (!e.is_string()) return fail(where + "/required", "required must list property names (strings)"), -1;
                const std::string name = e.get<std::string>();
                auto k = key_of.find(name);
                if (k == key_of.end()) {
                    if (additional < 0)
                        return fail(where + "/required", "\"" + name + "\" is required but not among the properties, and additionalProperties is false, so nothing could be written"), -1;
                    if (int(props.size()) >= lim.max_properties)
                        return fail(where + "/properties", "too many properties; at most " + std::to_string(lim.max_properties) + " are supported"), -1;
                    const std::string key = json(name).dump();
                    props[key] = {additional, true};
                    key_of[name] = key;
                } else {
                    props[k->second].second = true;
                }
            }
        }
        for (auto& [key, p] : props) {
            if (node(p.first).kind == SchemaKind::Never) {
                if (p.second) return fail(where + "/properties", "required property " + key + " has the schema false, so nothing could be written"), -1;
                continue;  // may never appear
            }
            node(n).properties.push_back({key, p.first, p.second});
        }
        node(n).additional = additional;
        return n;
    }

    int compile_array(const json& s, const std::string& where) {
        const int n = add(SchemaKind::Array);
        if (n < 0) return -1;
        int items = -1;
        if (!s.contains("items")) items = any();
        else if (s["items"].is_array()) return fail(where + "/items", "items as a list (tuples) is not supported; use one schema for every item"), -1;
        else items = compile(s["items"], where + "/items");
        if (items < 0) return -1;
        int mn = 0, mx = lim.default_max_items;
        if (!get_count(s, "minItems", where, 1 << 20, &mn) || !get_count(s, "maxItems", where, 1 << 20, &mx)) return -1;
        if (mn > lim.default_max_items)
            return fail(where + "/minItems", "minItems " + std::to_string(mn) + " is more than the " + std::to_string(lim.default_max_items) + " items supported"), -1;
        mx = std::min(mx, lim.default_max_items);
        if (mn > mx) return fail(where, "minItems is larger than maxItems, so nothing could be written"), -1;
        if (node(items).kind == SchemaKind::Never) mx = 0;
        if (mn > mx) return fail(where + "/items", "items is false but minItems asks for items"), -1;
        node(n).items = items;
        node(n).min_items = mn;
        node(n).max_items = mx;
        return n;
    }

    int compile_string(const json& s, const std::string& where) {
        const int n = add(SchemaKind::String);
        if (n < 0) return -1;
        int mn = 0, mx = lim.default_max_string_length;
        if (!get_count(s, "minLength", where, 1 << 20, &mn) || !get_count(s, "maxLength", where, 1 << 20, &mx)) return -1;
        if (mn > lim.default_max_string_length)
            return fail(where + "/minLength", "minLength " + std::to_string(mn) + " is more than the " + std::to_string(lim.default_max_string_length) + " characters supported"), -1;
        mx = std::min(mx, lim.default_max_string_length);
        if (mn > mx) return fail(where, "minLength is larger than maxLength, so nothing could be written"), -1;
        node(n).min_length = mn;
        node(n).max_length = mx;
        if (s.contains("pattern")) {
            if (!s["pattern"].is_string()) return fail(where + "/pattern", "pattern must be a string"), -1;
            if (mn > 0) return fail(where, "pattern together with minLength is not supported; say the length in the pattern ({n,m})"), -1;
            StringPattern p;
            std::string why;
            if (!compile_string_pattern(s["pattern"].get<std::string>(), &p, &why))
                return fail(where + "/pattern", why + ". Supported: characters, '.', [classes], \\d \\w \\s, ? * + {n,m}, and ^ $ at the ends."), -1;
            if (p.start_distance > mx) return fail(where, "the pattern needs more characters than maxLength allows"), -1;
            out->patterns.push_back(std::move(p));
            node(n).pattern = int(out->patterns.size()) - 1;
        }
        return n;
    }

    bool bound(const json& s, const char* key, const std::string& where, double* v) {
        if (!s.contains(key)) return false;
        if (!s[key].is_number()) {
            fail(where + "/" + key, std::string(key) + " must be a number (the draft-04 true/false form is not supported)");
            return false;
        }
        *v = s[key].get<double>();
        return std::isfinite(*v);
    }

    int compile_number(const json& s, const std::string& where, bool integer) {
        const int n = add(integer ? SchemaKind::Integer : SchemaKind::Number);
        if (n < 0) return -1;
        SchemaNode& nd = node(n);
        double mn = 0, mx = 0, xmn = 0, xmx = 0;
        const bool has_mn = bound(s, "minimum", where, &mn), has_mx = bound(s, "maximum", where, &mx);
        const bool has_xmn = bound(s, "exclusiveMinimum", where, &xmn), has_xmx = bound(s, "exclusiveMaximum", where, &xmx);
        if (!error.empty()) return -1;
        const bool any_bound = has_mn || has_mx || has_xmn || has_xmx;
        if (integer) {
            int64_t lo = -kMaxInteger, hi = kMaxInteger;
            auto clamp = [](double d) { return std::max(-double(kMaxInteger), std::min(double(kMaxInteger), d)); };
            if (has_mn) lo = std::max(lo, int64_t(std::ceil(clamp(mn))));
            if (has_xmn) lo = std::max(lo, int64_t(std::floor(clamp(xmn))) + 1);
            if (has_mx) hi = std::min(hi, int64_t(std::floor(clamp(mx))));
            if (has_xmx) hi = std::min(hi, int64_t(std::ceil(clamp(xmx))) - 1);
            if (lo > hi) return fail(where, "no whole number lies between its minimum and maximum"), -1;
            nd.lo = lo; nd.hi = hi; nd.bounded = true; nd.frac_digits = 0; nd.int_digits = 15;
            return n;
        }
        if (!any_bound) { nd.exponent = true; nd.frac_digits = 15; nd.int_digits = 15; return n; }
        // Bounded numbers are written as decimals with up to 6 digits after the
        // point; bounds are moved onto that grid so that a written value, read
        // back as a double the way validators read it, is inside them.
        const double scale = 1e6;
        auto clampd = [](double d) { return std::max(-1e12, std::min(1e12, d)); };
        int64_t lo = -kMaxScaled, hi = kMaxScaled;
        if (has_mn) { int64_t v = int64_t(std::ceil(clampd(mn) * scale)); while (scaled_value(v) < mn) ++v; while (v > -kMaxScaled && scaled_value(v - 1) >= mn) --v; lo = std::max(lo, v); }
        if (has_xmn) { int64_t v = int64_t(std::floor(clampd(xmn) * scale)); while (scaled_value(v) <= xmn) ++v; while (v > -kMaxScaled && scaled_value(v - 1) > xmn) --v; lo = std::max(lo, v); }
        if (has_mx) { int64_t v = int64_t(std::floor(clampd(mx) * scale)); while (scaled_value(v) > mx) --v; while (v < kMaxScaled && scaled_value(v + 1) <= mx) ++v; hi = std::min(hi, v); }
        if (has_xmx) { int64_t v = int64_t(std::ceil(clampd(xmx) * scale)); while (scaled_value(v) >= xmx) --v; while (v < kMaxScaled && scaled_value(v + 1) < xmx) ++v; hi = std::min(hi, v); }
        if (lo > hi) return fail(where, "no number lies between its minimum and maximum"), -1;
        nd.lo = lo; nd.hi = hi; nd.bounded = true; nd.frac_digits = kNumberFraction; nd.int_digits = 12;
        return n;
    }

    unsigned type_set(int i, std::set<int>& seen) {
        const SchemaNode& nd = node(i);
        switch (nd.kind) {
            case SchemaKind::Object: return TObject;
            case SchemaKind::Array: return TArray;
            case SchemaKind::String: return TString;
            case SchemaKind::Integer: case SchemaKind::Number: return TNumber;
            case SchemaKind::Never: return 0;
            case SchemaKind::Literal: {
                unsigned t = 0;
                for (const std::string& x : nd.texts)
                    t |= x[0] == '{' ? TObject : x[0] == '[' ? TArray : x[0] == '"' ? TString : x[0] == 'n' ? TNull
                       : (x[0] == 't' || x[0] == 'f') ? TBool : TNumber;
                return t;
            }
            case SchemaKind::AnyOf: {
                if (!seen.insert(i).second) return 0;
                unsigned t = 0;
                for (int a : nd.alternatives) t |= type_set(a, seen);
                return t;
            }
        }
        return 0;
    }
    // Literal texts a node can take when it is a (chain of aliases to a) literal.
    const std::vector<std::string>* literal_texts(int i) {
        for (int hops = 0; hops < 64; ++hops) {
            const SchemaNode& nd = node(i);
            if (nd.kind == SchemaKind::Literal) return &nd.texts;
            if (nd.kind != SchemaKind::AnyOf || nd.alternatives.size() != 1) return nullptr;
            i = nd.alternatives[0];
        }
        return nullptr;
    }
    int resolve_alias(int i) {
        for (int hops = 0; hops < 64 && node(i).kind == SchemaKind::AnyOf && node(i).alternatives.size() == 1; ++hops)
            i = node(i).alternatives[0];
        return i;
    }
    // True when no value can match both: different types, literals with no
    // common value, or objects that require one property with different literals.
    bool disjoint(int a, int b) {
        std::set<int> s1, s2;
        const unsigned ta = type_set(a, s1), tb = type_set(b, s2);
        if (!(ta & tb)) return true;
        const auto* la = literal_texts(a);
        const auto* lb = literal_texts(b);
        if (la && lb) {
            for (const auto& x : *la)
                if (std::binary_search(lb->begin(), lb->end(), x)) return false;
            return true;
        }
        a = resolve_alias(a);
        b = resolve_alias(b);
        if (node(a).kind != SchemaKind::Object || node(b).kind != SchemaKind::Object) return false;
        for (const SchemaProperty& p : node(a).properties) {
            if (!p.required) continue;
            for (const SchemaProperty& q : node(b).properties)
                if (q.key == p.key && q.required) {
                    const auto* x = literal_texts(p.node);
                    const auto* y = literal_texts(q.node);
                    if (!x || !y) continue;
                    bool common = false;
                    for (const auto& t : *x) common = common || std::binary_search(y->begin(), y->end(), t);
                    if (!common) return true;
                }
        }
        return false;
    }
};

// The anyOf/$ref nodes, alternatives before the nodes that list them; false
// on a cycle through anyOf/$ref alone (no object or array in between), which
// would let the matcher expand alternatives forever. Iterative: a schema may
// chain thousands of references.
bool anyof_order(const CompiledSchema& cs, std::vector<int>* order) {
    const size_t N = cs.nodes.size();
    std::vector<uint8_t> state(N, 0);  // 0 new, 1 on the path, 2 done
    std::vector<std::pair<int, size_t>> stack;
    for (size_t start = 0; start < N; ++start) {
        if (state[start] || cs.nodes[start].kind != SchemaKind::AnyOf) continue;
        stack.push_back({int(start), 0});
        state[start] = 1;
        while (!stack.empty()) {
            auto& [node, next] = stack.back();
            const SchemaNode& n = cs.nodes[size_t(node)];
            if (next < n.alternatives.size()) {
                const int a = n.alternatives[next++];
                if (cs.nodes[size_t(a)].kind != SchemaKind::AnyOf || state[size_t(a)] == 2) continue;
                if (state[size_t(a)] == 1) return false;
                state[size_t(a)] = 1;
                stack.push_back({a, 0});
            } else {
                state[size_t(node)] = 2;
                order->push_back(node);
                stack.pop_back();
            }
        }
    }
    return true;
}

int digits_of(int64_t v) {
    if (v < 0) v = -v;
    int d = 1;
    while (v >= 10) { v /= 10; ++d; }
    return d;
}

// Fewest bytes of a number/integer value (bounded ones may need several digits).
int min_number_bytes(const SchemaNode& n) {
    if (!n.bounded) return 1;
    const int64_t scale = n.kind == SchemaKind::Number ? 1000000 : 1;
    if (n.lo <= 0 && n.hi >= 0) return 1;  // "0"
    int best = kUnreachable;
    // The integer part nearest zero inside the bounds, then the fewest fraction digits.
    for (int64_t v : {n.lo, n.hi}) {
        const bool neg = v < 0;
        int64_t ip = (neg ? -v : v) / scale;
        // integer value reachable exactly?
        const int64_t whole = (neg ? -ip : ip) * scale;
        if (whole >= n.lo && whole <= n.hi) best = std::min(best, int(neg) + digits_of(ip));
        if (scale > 1) {
            int64_t frac = (neg ? -v : v) % scale;
            int f = 6;
            while (f > 1 && frac % 10 == 0) { frac /= 10; --f; }
            best = std::min(best, int(neg) + digits_of(ip) + 1 + f);
        }
        const int64_t up = (neg ? -(ip + 1) : ip + 1) * scale;
        if (up >= n.lo && up <= n.hi) best = std::min(best, int(neg) + digits_of(ip + 1));
    }
    return best;
}

bool compute_min_bytes(CompiledSchema& cs, const std::vector<int>& order, std::string* error) {
    const int D = cs.limits.max_output_depth;
    const size_t N = cs.nodes.size();
    cs.min_bytes.assign(size_t(D + 1), std::vector<int>(N, kUnreachable));
    for (int d = D; d >= 0; --d) {
        std::vector<int>& m = cs.min_bytes[size_t(d)];
        const std::vector<int>* next = d < D ? &cs.min_bytes[size_t(d + 1)] : nullptr;
        for (size_t i = 0; i < N; ++i) {
            const SchemaNode& n = cs.nodes[i];
            int v = kUnreachable;
            switch (n.kind) {
                case SchemaKind::Object:
                    if (next) {
                        long long sum = 2, count = 0;
                        for (const SchemaProperty& p : n.properties)
                            if (p.required) { sum += int(p.key.size()) + 1 + (*next)[size_t(p.node)]; ++count; }
                        if (count > 1) sum += count - 1;
                        v = int(std::min<long long>(sum, kUnreachable));
                    }
                    break;
                case SchemaKind::Array:
                    if (next) {
                        long long sum = 2 + (long long)n.min_items * (*next)[size_t(n.items)] + std::max(0, n.min_items - 1);
                        v = n.min_items == 0 ? 2 : int(std::min<long long>(sum, kUnreachable));
                    }
                    break;
                case SchemaKind::String:
                    v = 2 + (n.pattern >= 0 ? cs.patterns[size_t(n.pattern)].start_distance : n.min_length);
                    break;
                case SchemaKind::Integer: case SchemaKind::Number: v = min_number_bytes(n); break;
                case SchemaKind::Literal:
                    for (const std::string& t : n.texts) v = std::min(v, int(t.size()));
                    break;
                default: break;
            }
            m[i] = std::min(v, kUnreachable);
        }
        for (int i : order) {
            int v = kUnreachable;
            for (int a : cs.nodes[size_t(i)].alternatives) v = std::min(v, m[size_t(a)]);
            m[size_t(i)] = v;
        }
    }
    if (cs.min_bytes[0][size_t(cs.root)] >= kUnreachable) {
        *error = "The schema cannot be used: no value of it fits within " + std::to_string(D) +
                 " nested objects/arrays (a required property or minItems refers back to itself with no way to end). Make the recursive part optional.";
        return false;
    }
    return true;
}

// How many parses can be alive at once (overlapping anyOf branches, times nesting).
bool check_live_alternatives(const CompiledSchema& cs, const std::vector<int>& order, std::string* error) {
    const int D = cs.limits.max_output_depth;
    const size_t N = cs.nodes.size();
    const long long cap = cs.limits.max_live_alternatives;
    // Alternatives that cannot start with the same byte are never alive together.
    std::vector<std::bitset<256>> first(N);
    for (size_t i = 0; i < N; ++i) {
        const SchemaNode& n = cs.nodes[i];
        switch (n.kind) {
            case SchemaKind::Object: first[i].set('{'); break;
            case SchemaKind::Array: first[i].set('['); break;
            case SchemaKind::String: first[i].set('"'); break;
            case SchemaKind::Integer: case SchemaKind::Number:
                first[i].set('-');
                for (char c = '0'; c <= '9'; ++c) first[i].set(size_t(c));
                break;
            case SchemaKind::Literal:
                for (const std::string& t : n.texts) first[i].set(uint8_t(t[0]));
                break;
            default: break;
        }
    }
    for (int i : order)
        for (int a : cs.nodes[size_t(i)].alternatives) first[size_t(i)] |= first[size_t(a)];
    std::vector<std::vector<long long>> b(size_t(D + 2), std::vector<long long>(N, 1));
    for (int d = D; d >= 0; --d) {
        auto& m = b[size_t(d)];
        const auto& next = b[size_t(d + 1)];
        for (size_t i = 0; i < N; ++i) {
            const SchemaNode& n = cs.nodes[i];
            long long v = 1;
            if (n.kind == SchemaKind::Object && d < D) {
                for (const SchemaProperty& p : n.properties) v = std::max(v, next[size_t(p.node)]);
                if (n.additional >= 0) v = std::max(v, next[size_t(n.additional)]);
            } else if (n.kind == SchemaKind::Array && d < D) {
                v = next[size_t(n.items)];
            }
            m[i] = v;
        }
        for (int i : order) {
            const SchemaNode& n = cs.nodes[size_t(i)];
            long long v = 1;
            for (int c = 0; c < 256; ++c) {
                if (!first[size_t(i)].test(size_t(c))) continue;
                long long sum = 0;
                for (int a : n.alternatives)
                    if (first[size_t(a)].test(size_t(c))) sum = std::min(cap + 1, sum + m[size_t(a)]);
                v = std::max(v, sum);
            }
            m[size_t(i)] = v;
        }
    }
    if (b[0][size_t(cs.root)] > cap) {
        *error = "The schema cannot be used: its anyOf/oneOf alternatives overlap so much that more than " +
                 std::to_string(cap) + " readings of one output would have to be followed at once. Give the alternatives distinct types or a distinguishing const property.";
        return false;
    }
    return true;
}

}  // namespace

bool compile_json_schema(const std::string& schema_json, const SchemaLimits& limits, CompiledSchema* out,
                         std::string* error) {
    std::string dummy;
    if (!error) error = &dummy;
    *out = CompiledSchema();
    out->limits = limits;
    if (schema_json.size() > limits.max_schema_bytes) {
        *error = "The schema cannot be used: it is " + std::to_string(schema_json.size()) + " bytes, more than the " +
                 std::to_string(limits.max_schema_bytes) + " supported. Shorten it.";
        return false;
    }
    if (json_nesting_depth(schema_json, limits.max_schema_nesting + 1) > limits.max_schema_nesting) {
        *error = "The schema cannot be used: it nests more than " + std::to_string(limits.max_schema_nesting) + " levels deep.";
        return false;
    }
    const JsonSyntax syntax = check_json_syntax(schema_json);
    if (!syntax.ok) {
        *error = "The schema is " + syntax.describe() + ".";
        return false;
    }
    const json doc = json::parse(schema_json, nullptr, false);
    Compiler c{doc, limits, out, {}, {}, -1, 0};
    c.ref_nodes["#"] = -1;
    // "#" (the whole schema) may be referenced recursively: reserve it first.
    const int root_alias = c.add(SchemaKind::AnyOf);
    int root = -1;
    if (root_alias >= 0) {
        c.ref_nodes["#"] = root_alias;
        c.ref_nodes["#/"] = root_alias;
        root = c.compile(doc, "");
    }
    if (root < 0) {
        *error = c.error.empty() ? "The schema cannot be used." : c.error;
        out->nodes.clear();
        return false;
    }
    out->nodes[size_t(root_alias)].alternatives = {root};
    out->root = root_alias;
    std::vector<int> order;
    if (!anyof_order(*out, &order)) {
        *error = "The schema cannot be used: a $ref leads back to itself without an object or array in between, so it describes no value.";
        out->nodes.clear();
        return false;
    }
    if (!compute_min_bytes(*out, order, error) || !check_live_alternatives(*out, order, error)) {
        out->nodes.clear();
        return false;
    }
    return true;
}

}  // namespace es
