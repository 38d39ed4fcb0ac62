// extension_reply.h: what an EndoScribe extension route answers (status and
// JSON body), kept apart from httplib so the routes can be tested and reused;
// errors in OpenAI's shape (server/API.md "Errors").
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace es::server {

struct ExtensionReply {
    int status = 200;
    nlohmann::json body;
    int retry_after_s = 0;  // > 0: a Retry-After header (429)
};

// {"error": {"message", "type", "param", "code"}}; the type follows the status
// (400/404/413 invalid_request_error, 401 authentication_error, 429
// rate_limit_error, 5xx server_error).
ExtensionReply extension_error(int status, const std::string& message, const std::string& param = "",
                               const std::string& code = "");

}  // namespace es::server
