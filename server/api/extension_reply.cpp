// extension_reply.cpp: see extension_reply.h.
#include "api/extension_reply.h"

namespace es::server {

ExtensionReply extension_error(const ApiError& error) {
    ExtensionReply r;
    r.status = error.status;
    r.body = nlohmann::json::parse(error.to_json());
    return r;
}

ExtensionReply extension_error(int status, const std::string& message, const std::string& param,
                               const std::string& code, const std::string& detail) {
    ApiError e;
    e.status = status;
    e.message = message;
    e.param = param;
    e.code = code;
    ExtensionReply r = extension_error(e);
    if (!detail.empty()) r.body["error"]["detail"] = detail;
    return r;
}

}  // namespace es::server
