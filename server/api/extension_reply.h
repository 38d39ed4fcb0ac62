// extension_reply.h: what an EndoScribe extension route answers (status and
// JSON body), kept apart from httplib so the routes can be tested on their
// own; errors in OpenAI's shape (api_error.h).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "api/api_error.h"

namespace es::server {

struct ExtensionReply {
    int status = 200;       // 0: the response was already written (run_model_task refused the job)
    nlohmann::json body;
    int retry_after_s = 0;  // > 0: a Retry-After header (429)
};

ExtensionReply extension_error(const ApiError& error);
// The type follows the status (api_error.h). detail: technical text for error.detail.
ExtensionReply extension_error(int status, const std::string& message, const std::string& param = "",
                               const std::string& code = "", const std::string& detail = "");

}  // namespace es::server
