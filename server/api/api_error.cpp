// api_error.cpp: see api_error.h.
#include "api/api_error.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

namespace es::server {

std::string ApiError::error_type() const {
    if (!type.empty()) return type;
    if (status == 401 || status == 403) return "authentication_error";
    if (status == 429) return "rate_limit_error";
    if (status >= 500) return "server_error";
    return "invalid_request_error";
}

std::string ApiError::to_json() const {
    nlohmann::json e;
    e["message"] = message;
    e["type"] = error_type();
    e["param"] = param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param);
    e["code"] = code.empty() ? nlohmann::json(nullptr) : nlohmann::json(code);
    nlohmann::json j;
    j["error"] = e;
    // Replace invalid UTF-8 (a message may quote the client's text).
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ApiError bad_request(std::string message, std::string param, std::string code) {
    ApiError e;
    e.status = 400;
    e.message = std::move(message);
    e.param = std::move(param);
    e.code = std::move(code);
    return e;
}

ApiError too_large(std::string message, std::string param, std::string code) {
    ApiError e = bad_request(std::move(message), std::move(param), std::move(code));
    e.status = 413;
    return e;
}

void send_error(httplib::Response& res, const ApiError& error) {
    res.status = error.status;
    res.set_header("Cache-Control", "no-store");
    res.set_content(error.to_json(), "application/json");
}

}  // namespace es::server
