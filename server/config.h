// config.h: the server's configuration file (server/config.json).
//
//   {
//     "model_hosts": ["https://huggingface.co", ...],   // required
//     "$comment": "free text"                           // optional, ignored
//   }
//
// model_hosts are the only origins, besides the server's own, that the app may
// connect to (they go into the Content-Security-Policy's connect-src). Each must
// be an https origin: "https://" + host name + optional ":port", nothing else.
// Unknown keys are errors, so a typo cannot silently loosen or drop a setting.
#pragma once
#include <string>
#include <vector>

namespace es::server {

struct Config {
    std::vector<std::string> model_hosts;
};

struct ConfigResult {
    bool ok = false;
    Config config;
    std::string error;  // names the problem, e.g. "model_hosts[1]: \"http://x\" is not an https origin ..."
};

// Parses and validates config JSON text.
ConfigResult parse_config(const std::string& json_text);

// Reads and parses a config file; errors start with the file's path.
ConfigResult load_config_file(const std::string& path);

// "" when origin is an acceptable model host, otherwise why not.
std::string check_https_origin(const std::string& origin);

// The config as JSON for GET /api/config.
std::string config_to_json(const Config& config, const std::string& content_security_policy);

}  // namespace es::server
