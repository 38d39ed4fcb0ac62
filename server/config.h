// config.h: the server's configuration file (server/config.json).
//
//   {
//     "hugging_face_hosts": true,                    // the Hugging Face download hosts
//     "model_hosts": ["https://models.example", ...], // more origins (a mirror of your own)
//     "$comment": "free text"                        // optional, ignored
//   }
//
// At least one of hugging_face_hosts / model_hosts must be given.
// hugging_face_hosts: true adds the hosts listed in web/assistant/hub_hosts.json
// (compiled in; the same file the app reads): huggingface.co and the storage and
// CDN hosts its downloads redirect to. The resulting model_hosts are the only
// origins, besides the server's own, that the app may connect to (they go into
// the Content-Security-Policy's connect-src; a redirect target is checked by CSP
// too). Each must be an https origin: "https://" + host name + optional
// ":port", nothing else. Unknown keys are errors, so a typo cannot silently
// loosen or drop a setting.
#pragma once
#include <string>
#include <vector>

namespace es::server {

struct Config {
    bool hugging_face_hosts = false;       // the config asked for the Hugging Face hosts
    std::vector<std::string> model_hosts;  // all allowed origins (Hugging Face ones first), no duplicates
    // Inference API (server/api, server/API.md):
    std::vector<std::string> inference_servers;  // "inference_servers": http(s) origins of endoscribe-servers
                                                 // (or vLLM) the app may use; added to the CSP's connect-src
    std::vector<std::string> app_origins;        // "app_origins": web pages (origins) allowed to call this
                                                 // server's API besides its own (CORS)
    std::vector<std::string> image_url_hosts;    // "image_url_hosts": host names whose http(s) image URLs
                                                 // chat requests may use (fetched by the server)
};

// The origins the app may connect to besides its own: model hosts, then inference servers.
std::vector<std::string> connect_sources(const Config& config);

// "" when origin is an http or https origin (scheme://host[:port], nothing else).
std::string check_http_origin(const std::string& origin);

// The Hugging Face download origins from web/assistant/hub_hosts.json.
const std::vector<std::string>& hugging_face_hosts();

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
