// prompt_messages.cpp: see prompt_messages.h.
#include "api/prompt_messages.h"

namespace es::server {

using json = nlohmann::json;

ExtensionReply read_prompt_messages(const json& messages, const ImageLimits& limits, std::vector<ChatMessage>* out) {
    if (!messages.is_array() || messages.empty())
        return extension_error(400, "\"messages\" must be a list of one or more messages, e.g. [{\"role\": \"user\", "
                                    "\"content\": \"...\"}]", "messages");
    for (size_t i = 0; i < messages.size(); ++i) {
        const json& m = messages[i];
        const std::string where = "messages[" + std::to_string(i) + "]";
        if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
            return extension_error(400, where + " must be an object with a \"role\" and a \"content\"", "messages");
        ChatMessage msg;
        msg.role = m["role"].get<std::string>();
        if (msg.role != "system" && msg.role != "user" && msg.role != "assistant")
            return extension_error(400, where + ".role \"" + msg.role + "\" is not one of system, user, assistant",
                                   "messages");
        const json content = m.contains("content") ? m["content"] : json();
        if (content.is_string()) {
            msg.parts.push_back({ChatPart::Kind::Text, content.get<std::string>(), {}});
        } else if (content.is_array()) {
            for (size_t k = 0; k < content.size(); ++k) {
                const json& p = content[k];
                const std::string w = where + ".content[" + std::to_string(k) + "]";
                const std::string type = p.is_object() && p.contains("type") && p["type"].is_string() ? p["type"].get<std::string>() : "";
                if (type == "text" && p.contains("text") && p["text"].is_string()) {
                    msg.parts.push_back({ChatPart::Kind::Text, p["text"].get<std::string>(), {}});
                } else if (type == "image_url") {
                    const json iu = p.contains("image_url") ? p["image_url"] : json();
                    const json url = iu.is_object() && iu.contains("url") ? iu["url"] : iu;
                    if (!url.is_string())
                        return extension_error(400, w + ".image_url must be {\"url\": \"data:image/...;base64,...\"}", "messages");
                    if (msg.role != "user")
                        return extension_error(400, w + ": only user messages may carry images", "messages");
                    ImageInput in = read_image_data_url(url.get<std::string>(), w, limits);
                    if (!in.ok) {
                        ExtensionReply r = extension_error(in.status, in.message, "messages", in.status == 413 ? "image_too_large" : "image_unreadable");
                        if (!in.detail.empty()) r.body["error"]["detail"] = in.detail;
                        return r;
                    }
                    msg.parts.push_back({ChatPart::Kind::Image, "", std::move(in.bytes)});
                } else {
                    return extension_error(400, w + " must be {\"type\": \"text\", \"text\": ...} or {\"type\": "
                                                    "\"image_url\", \"image_url\": {\"url\": ...}}", "messages");
                }
            }
        } else {
            return extension_error(400, where + ".content must be a string or a list of text and image_url parts",
                                   "messages");
        }
        out->push_back(std::move(msg));
    }
    return {};
}

}  // namespace es::server
