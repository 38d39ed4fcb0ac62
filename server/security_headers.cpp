// security_headers.cpp: the CSP and the isolation headers (see security_headers.h).
#include "security_headers.h"

namespace es::server {

std::string content_security_policy(const std::vector<std::string>& model_hosts) {
    std::string connect = "connect-src 'self'";
    for (const auto& h : model_hosts) connect += " " + h;
    return "default-src 'self'; "
           "script-src 'self' 'wasm-unsafe-eval'; " +
           connect +
           "; "
           "img-src 'self' blob: data:; "
           "worker-src 'self' blob:; "
           "style-src 'self' 'unsafe-inline'; "
           "object-src 'none'; "
           "base-uri 'none'; "
           "form-action 'none'; "
           "frame-ancestors 'none'";
}

std::vector<std::pair<std::string, std::string>> security_headers(const std::string& csp) {
    return {
        {"Cross-Origin-Opener-Policy", "same-origin"},
        {"Cross-Origin-Embedder-Policy", "require-corp"},
        {"Cross-Origin-Resource-Policy", "same-origin"},
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
        {"Content-Security-Policy", csp},
    };
}

}  // namespace es::server
