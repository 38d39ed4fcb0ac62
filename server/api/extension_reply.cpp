// extension_reply.cpp: see extension_reply.h.
#include "api/extension_reply.h"

namespace es::server {

ExtensionReply extension_error(int status, const std::string& message, const std::string& param,
                               const std::string& code) {
    const char* type = status == 401   ? "authentication_error"
                       : status == 429 ? "rate_limit_error"
                       : status >= 500 ? "server_error"
                                       : "invalid_request_error";
    ExtensionReply r;
    r.status = status;
    r.body = {{"error",
               {{"message", message},
                {"type", type},
                {"param", param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param)},
                {"code", code.empty() ? nlohmann::json(nullptr) : nlohmann::json(code)}}}};
    return r;
}

}  // namespace es::server
