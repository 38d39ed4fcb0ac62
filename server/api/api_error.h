// api_error.h: errors in OpenAI's shape, always JSON:
//   {"error": {"message": "<plain words>", "type": "...", "param": <name or null>, "code": <short code or null>}}
// The message says what happened and what to do; param names the offending
// request field ("messages[1].content[0].image_url").
#pragma once
#include <string>

namespace httplib {
struct Response;
}

namespace es::server {

struct ApiError {
    int status = 400;
    std::string message;
    std::string param;  // "" = null
    std::string code;   // "" = null
    std::string type;   // "" = derived from status

    bool empty() const { return message.empty(); }
    // "invalid_request_error" (400/404/413), "authentication_error" (401/403),
    // "rate_limit_error" (429), "server_error" (5xx), unless type is set.
    std::string error_type() const;
    std::string to_json() const;
};

// Convenience constructors.
ApiError bad_request(std::string message, std::string param = "", std::string code = "");
ApiError too_large(std::string message, std::string param = "", std::string code = "");

// Writes the error as the response (status, JSON body, no-store).
void send_error(httplib::Response& res, const ApiError& error);

}  // namespace es::server
