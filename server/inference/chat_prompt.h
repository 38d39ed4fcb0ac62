// chat_prompt.h: OpenAI chat messages -> the token ids the model reads, through
// the core's es::Conversation (the package's chat template; typed text never
// becomes control tokens; each image expanded to its image tokens, with its
// pan-and-scan crops). Images are decoded by the core's decoder and
// preprocessed as the vision encoder expects, unless their features are
// already cached; answers the engine wrote come back as their own ids.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "assistant/conversation.h"
#include "assistant/image_preprocess.h"
#include "assistant/tokenizer.h"
#include "inference/chat_engine.h"
#include "inference/image_feature_cache.h"

namespace es::server {

// One image of a prompt: its features (cached) or, until they are needed, its pixels.
struct PromptImage {
    std::string key;  // model id + ':' + sha256 of the image file's bytes
    std::shared_ptr<const ImageFeatures> features;
    es::PixelValues pixels;
};

struct ChatPrompt {
    EngineError error = EngineError::None;
    std::string message;              // plain words when error != None
    std::vector<int> tokens;
    std::vector<PromptImage> images;  // in prompt order
};

struct ChatPromptModel {
    std::string id;
    const es::Tokenizer* tokenizer = nullptr;
    const es::ConversationConfig* chat = nullptr;  // max_context 0: too long is an error here, not a cut
    const es::ImagePreprocessConfig* preprocess = nullptr;
    int context = 0;                               // prompts must be shorter
};

// Features kept for an image key, or null.
using ImageLookup = std::function<std::shared_ptr<const ImageFeatures>(const std::string& key)>;
// The ids the engine generated for exactly this answer text (true), or false.
using AnswerLookup = std::function<bool(const std::string& text, std::vector<int>* ids)>;

// Roles system/developer (joined, first), user and assistant (alternating;
// consecutive user messages are one turn); one image per user turn; the last
// message must be the user's. False with error and message otherwise.
bool build_chat_prompt(const ChatPromptModel& model, const std::vector<ChatMessage>& messages,
                       const ImageLookup& cached_image, const AnswerLookup& answer_ids, ChatPrompt* out);

}  // namespace es::server
