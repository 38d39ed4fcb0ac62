// security_headers.h: the headers every response carries.
//
//   Cross-Origin-Opener-Policy: same-origin     } cross-origin isolation, which
//   Cross-Origin-Embedder-Policy: require-corp  } SharedArrayBuffer (threaded wasm) needs
//   Cross-Origin-Resource-Policy: same-origin   our files are not embeddable elsewhere
//   X-Content-Type-Options: nosniff             MIME types are taken as sent
//   Referrer-Policy: no-referrer                no URL leaks to model hosts
//   Content-Security-Policy: see content_security_policy()
//
// The CSP is what makes "no image leaves the machine" enforced, not promised:
// the page can connect only to its own origin and the configured model hosts.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace es::server {

// default-src 'self'; script-src 'self' 'wasm-unsafe-eval';
// connect-src 'self' <model hosts>; img-src 'self' blob: data:;
// worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; object-src 'none';
// base-uri 'none'; form-action 'none'; frame-ancestors 'none'
// form-action is added because default-src does not cover it: without it a
// form could post data anywhere. Hosts must already be validated (config.h).
std::string content_security_policy(const std::vector<std::string>& model_hosts);

// (name, value) pairs, in a fixed order.
std::vector<std::pair<std::string, std::string>> security_headers(const std::string& content_security_policy);

}  // namespace es::server
