// access.h: who may use the API.
//   - Loopback by default. Bound to any other address, every /v1/* and
//     /metrics request needs "Authorization: Bearer <token>"; the token is made
//     on first start from the OS's CSPRNG and kept in a 0600 file (by default
//     $XDG_CONFIG_HOME/endoscribe/api_token, i.e. ~/.config/endoscribe/api_token);
//     the server prints the file's path, never the token.
//   - Bound to loopback, the Host header must name loopback too, so a web page
//     that re-points its own domain at 127.0.0.1 (DNS rebinding) is refused.
//   - CORS: a request with an Origin header is served only for the app's own
//     origin (the origin the request was sent to) and config.json's
//     "app_origins"; others get 403, and preflights are answered for those only.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace es::server {

// 127.0.0.0/8, ::1, localhost (the address the server binds to).
bool is_loopback_host(const std::string& host);

std::filesystem::path default_token_path();

struct TokenFile {
    bool ok = false;
    bool created = false;           // made now (first start)
    std::filesystem::path path;
    std::string token;              // never log this
    std::string error;              // plain words when !ok
};
// Reads the token file, or makes it (0600, its folder 0700) when missing.
// A file others may read is refused (the message says to chmod 600 it).
TokenFile load_or_create_token(const std::filesystem::path& path);

struct AccessPolicy {
    bool require_token = false;
    std::string token;
    bool loopback_bind = true;                 // Host header must be a loopback name
    std::vector<std::string> app_origins;      // config "app_origins"
};

// Constant-time check of "Bearer <token>".
bool bearer_token_matches(const std::string& authorization, const std::string& token);

// The Host header is acceptable for this server (see above).
bool host_header_allowed(const AccessPolicy& policy, const std::string& host_header);

// An Origin header's verdict: absent (not a browser's cross-origin call), or
// allowed (own origin or configured), or refused.
enum class OriginVerdict { Absent, Allowed, Refused };
OriginVerdict check_origin(const AccessPolicy& policy, const std::string& origin, const std::string& host_header);

}  // namespace es::server
