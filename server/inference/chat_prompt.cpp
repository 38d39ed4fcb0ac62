// chat_prompt.cpp: see chat_prompt.h.
#include "inference/chat_prompt.h"

#include "image/image.h"
#include "inference/gemma3_package.h"

namespace es::server {

bool build_chat_prompt(const ChatPromptModel& m, const std::vector<ChatMessage>& messages, const ImageLookup& cached_image,
                       const AnswerLookup& answer_ids, ChatPrompt* p) {
    auto fail = [&](EngineError e, const std::string& msg) {
        p->error = e;
        p->message = msg;
        return false;
    };
    if (messages.empty()) return fail(EngineError::BadRequest, "The request has no messages.");
    es::Conversation conv;
    std::string err;
    if (!conv.init(m.tokenizer, *m.chat, &err)) return fail(EngineError::Internal, err);

    std::string system;
    struct Turn {
        std::string text;
        bool has_text = false;
        int image = -1;  // index into p->images
    };
    std::vector<std::pair<Turn, std::string>> turns;  // user turn, assistant answer text
    std::vector<bool> answered;
    bool last_user = false;
    for (size_t i = 0; i < messages.size(); ++i) {
        const ChatMessage& msg = messages[i];
        std::string text;
        bool has_text = false;
        int image = -1;
        for (const ChatPart& part : msg.parts) {
            if (part.kind == ChatPart::Kind::Text) {
                if (has_text) text += "\n";
                text += part.text;
                has_text = true;
                continue;
            }
            if (msg.role != "user")
                return fail(EngineError::BadRequest, "Images can only be sent in user messages (message " +
                                                         std::to_string(i) + " is a " + msg.role + " message).");
            if (image >= 0)
                return fail(EngineError::BadRequest,
                            "Message " + std::to_string(i) +
                                " has more than one image; this model reads one image per user message. Send each image "
                                "in its own message.");
            PromptImage img;
            img.key = m.id + ":" + sha256_hex(part.image_bytes.data(), part.image_bytes.size());
            img.features = cached_image(img.key);
            if (!img.features) {
                es::DecodeResult d = es::decode_image(part.image_bytes.data(), part.image_bytes.size());
                if (!d.ok)
                    return fail(EngineError::ImageUnreadable, "The image in message " + std::to_string(i) +
                                                                  " could not be read: " + d.reason + " (" + d.error + ").");
                if (!es::preprocess_image(d.image, *m.preprocess, &img.pixels, &err))
                    return fail(EngineError::ImageUnreadable,
                                "The image in message " + std::to_string(i) + " could not be prepared: " + err);
            }
            image = int(p->images.size());
            p->images.push_back(std::move(img));
        }
        if (msg.role == "system" || msg.role == "developer") {
            if (!system.empty()) system += "\n\n";
            system += text;
        } else if (msg.role == "user") {
            if (last_user) {  // consecutive user messages: one turn
                Turn& t = turns.back().first;
                if (has_text) t.text += (t.has_text ? "\n\n" : "") + text, t.has_text = true;
                if (image >= 0) {
                    if (t.image >= 0)
                        return fail(EngineError::BadRequest,
                                    "Two images in one user turn; this model reads one image per user message. Put an "
                                    "assistant reply between them or send them separately.");
                    t.image = image;
                }
            } else {
                turns.push_back({Turn{text, has_text, image}, std::string()});
                answered.push_back(false);
            }
            last_user = true;
        } else if (msg.role == "assistant") {
            if (turns.empty())
                return fail(EngineError::BadRequest, "Message " + std::to_string(i) +
                                                         " is an assistant message before any user message; the "
                                                         "conversation must start with the user.");
            if (answered.back()) turns.back().second += "\n\n";
            turns.back().second += text;
            answered.back() = true;
            last_user = false;
        } else {
            return fail(EngineError::BadRequest, "Message " + std::to_string(i) + " has the role \"" + msg.role +
                                                     "\"; use system, user or assistant.");
        }
    }
    if (!last_user)
        return fail(EngineError::BadRequest, "The last message must be the user's (the model answers it).");
    if (!system.empty() && !conv.set_system_prompt(system, &err)) return fail(EngineError::BadRequest, err);
    for (size_t t = 0; t < turns.size(); ++t) {
        const Turn& u = turns[t].first;
        const int crops = u.image >= 0 ? (p->images[size_t(u.image)].features ? p->images[size_t(u.image)].features->crops
                                                                               : p->images[size_t(u.image)].pixels.images - 1)
                                       : 0;
        if (!conv.ask(u.text, u.image >= 0, &err, crops)) return fail(EngineError::BadRequest, err);
        if (t + 1 == turns.size()) break;
        // The answer: the ids this engine wrote for exactly this text, else the text as typed text.
        std::vector<int> ids;
        if (!answer_ids(turns[t].second, &ids)) ids = m.tokenizer->encode_as_text(turns[t].second);
        for (int id : ids) conv.on_answer_token(id);
        conv.finish_answer();
    }
    p->tokens = conv.tokens();
    if (int(p->tokens.size()) >= m.context)
        return fail(EngineError::ContextTooLong,
                    "The conversation is " + std::to_string(p->tokens.size()) + " tokens long and this model reads at most " +
                        std::to_string(m.context) + " (prompt and answer together). Shorten it or start a new conversation.");
    return true;
}

}  // namespace es::server
