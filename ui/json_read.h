// json_read.h: reading the state JS pushes to the panels without trusting it.
// A field that is absent, null or of the wrong type reads as the fallback,
// where nlohmann's value() would throw (a null "origin" of a server without
// an address did, from inside the frame loop).
#pragma once
#include <nlohmann/json.hpp>

#include <string>

namespace esui {

const nlohmann::json& jfield(const nlohmann::json& j, const char* key);  // null when absent
std::string jstr(const nlohmann::json& j, const char* key, const std::string& fallback = "");
double jnum(const nlohmann::json& j, const char* key, double fallback = 0);
int jint(const nlohmann::json& j, const char* key, int fallback = 0);
bool jbool(const nlohmann::json& j, const char* key, bool fallback = false);
const nlohmann::json& jarr(const nlohmann::json& j, const char* key);  // an empty array when absent or not one
std::string jdump(const nlohmann::json& j, int indent = -1);  // never throws (bad UTF-8 replaced)

}  // namespace esui
