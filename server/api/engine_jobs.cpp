// engine_jobs.cpp: see engine_jobs.h.
#include "api/engine_jobs.h"

namespace es::server {

ExtensionReply engine_error_reply(EngineError error, const std::string& message) {
    switch (error) {
        case EngineError::UnknownModel: return extension_error(404, message, "model", "model_not_found");
        case EngineError::ContextTooLong: return extension_error(400, message, "messages", "context_length_exceeded");
        case EngineError::ImageUnreadable: return extension_error(400, message, "messages", "image_unreadable");
        case EngineError::BadRequest: return extension_error(400, message);
        case EngineError::Internal:
        case EngineError::None: break;
    }
    return extension_error(500, message.empty() ? "the model failed on this request; try again" : message);
}

}  // namespace es::server
