// json_read.cpp: see json_read.h.
#include "json_read.h"

namespace esui {

using nlohmann::json;

const json& jfield(const json& j, const char* key) {
    static const json null_value;
    if (!j.is_object()) return null_value;
    const auto it = j.find(key);
    return it == j.end() ? null_value : *it;
}

std::string jstr(const json& j, const char* key, const std::string& fallback) {
    const json& v = jfield(j, key);
    return v.is_string() ? v.get<std::string>() : fallback;
}

double jnum(const json& j, const char* key, double fallback) {
    const json& v = jfield(j, key);
    return v.is_number() ? v.get<double>() : fallback;
}

int jint(const json& j, const char* key, int fallback) {
    const json& v = jfield(j, key);
    if (!v.is_number()) return fallback;
    const double d = v.get<double>();
    return d >= -2e9 && d <= 2e9 ? int(d) : fallback;
}

bool jbool(const json& j, const char* key, bool fallback) {
    const json& v = jfield(j, key);
    return v.is_boolean() ? v.get<bool>() : fallback;
}

const json& jarr(const json& j, const char* key) {
    static const json empty = json::array();
    const json& v = jfield(j, key);
    return v.is_array() ? v : empty;
}

std::string jdump(const json& j, int indent) { return j.dump(indent, ' ', false, json::error_handler_t::replace); }

}  // namespace esui
