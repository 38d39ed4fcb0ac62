// api_setup.cpp: see api_setup.h.
#include "api_setup.h"

#include <cstdio>

namespace es::server {

std::string configure_api(const CommandLine& args, const Config& config, ApiOptions* out) {
    out->scheduler.max_queue = args.max_queue;
    out->scheduler.max_batch = args.max_batch;
    out->max_body_bytes = size_t(args.max_body_mib) << 20;
    out->chat.image.max_encoded_bytes = size_t(args.max_image_mib) << 20;
    out->chat.image_url_hosts = config.image_url_hosts;
    out->access.app_origins = config.app_origins;
    out->access.loopback_bind = is_loopback_host(args.host);
    // Off loopback a token is required; --token-file asks for one on loopback too.
    out->access.require_token = !out->access.loopback_bind || !args.token_file.empty();
    if (out->access.require_token) {
        std::filesystem::path path = args.token_file.empty() ? default_token_path() : std::filesystem::path(args.token_file);
        TokenFile t = load_or_create_token(path);
        if (!t.ok) return t.error;
        out->access.token = t.token;
        std::fprintf(stderr, "endoscribe-server: API requests (/v1/*, /metrics) need the bearer token %s %s\n",
                     t.created ? "just made in" : "in", t.path.string().c_str());
    }
    return "";
}

}  // namespace es::server
