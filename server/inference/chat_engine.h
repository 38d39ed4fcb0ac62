// chat_engine.h: the contract between the HTTP layer (server/api: OpenAI
// routes, scheduler, queue) and a model that chats (server/inference:
// a model-builder or transformers.js-layout package run by ONNX Runtime over
// the core's tokenizer, chat template, preprocessing, generator and sampler).
//
// Step-level on purpose: the scheduler owns fairness, the bounded queue,
// cancellation and continuous batching; the engine runs whatever set of
// sequences it is handed, together when the package's batched decoder allows.
// All calls come from the scheduler's one thread; nothing here blocks on HTTP.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace es {
struct CompiledSchema;  // constrained/json_schema.h
}

namespace es::server {

struct ModelInfo {
    std::string id;                         // the name clients send as "model"
    std::vector<std::string> input_modalities;  // "text", "image"
    std::string variant;                    // "fp32", "fp16", "q4", "q4f16"
    std::string execution_provider;         // "cpu", "cuda"
    int context_length = 0;                 // tokens (prompt + answer)
    int image_size = 0;                     // px the vision encoder sees; 0 = text only
    bool test_model = false;                // the package says random weights (config.json endoscribe.test_model)
};

// One OpenAI chat message, already parsed and checked by the HTTP layer.
struct ChatPart {
    enum class Kind { Text, Image } kind = Kind::Text;
    std::string text;                  // Kind::Text
    std::vector<uint8_t> image_bytes;  // Kind::Image: the encoded file (PNG/JPEG/BMP), not yet decoded
};
struct ChatMessage {
    std::string role;  // "system", "user", "assistant"
    std::vector<ChatPart> parts;
};

struct ChatRequest {
    std::string model;
    std::vector<ChatMessage> messages;
    int max_tokens = 256;
    float temperature = 1.0f;   // OpenAI's default; 0 = greedy
    float top_p = 1.0f;
    int top_k = 0;              // extension; 0 = off
    std::optional<uint64_t> seed;
    std::vector<std::string> stop;  // stop strings (not included in the answer)
    bool logprobs = false;
    int top_logprobs = 0;       // 0..20
    // Constrained answer (response_format json_schema, tools): every token is
    // one after which the answer can still become a value of this schema
    // (src/constrained), and the answer ends only when it is one. Null = free text.
    std::shared_ptr<const es::CompiledSchema> schema;
    // With `schema`: the answer may instead be free text, chosen by its first
    // token (tool_choice "auto"): a first token that starts a JSON value
    // (whitespace or '{') commits to the schema; any other starts free text.
    bool schema_optional = false;
};

enum class EngineError { None, BadRequest, UnknownModel, ContextTooLong, ImageUnreadable, Internal };

struct SequenceStart {
    EngineError error = EngineError::None;
    std::string message;        // plain words for the client when error != None
    uint64_t sequence = 0;      // handle for step()/finish()
    int prompt_tokens = 0;
    int cached_prompt_tokens = 0;  // reused from a kept KV cache / image cache
};

struct TopLogprob {
    std::string token;
    double logprob = 0;
};
struct TokenOut {
    uint64_t sequence = 0;
    int token = -1;
    std::string text;           // the text this token completes (UTF-8 safe; may be "" mid-character)
    double logprob = 0;
    std::vector<TopLogprob> top;
    bool finished = false;
    std::string finish_reason;  // "stop", "length" (max_tokens or context full), "error" when finished
    std::string error;          // finish_reason "error": why, in plain words (e.g. a constraint with no way on)
};

// Classification by label scoring (src/assistant/label_scoring.h): the
// probability of answering exactly each label after the prompt, in one
// batched pass over the labels where the package allows.
struct LabelScoreRequest {
    std::string model;
    std::vector<ChatMessage> messages;  // the prompt: image and question, as for chat
    std::vector<std::string> labels;    // answer strings, as the model should write them
    // true: each label is followed by the end-of-answer token (<end_of_turn>),
    // so "polyp" does not also collect the mass of "polyps" (the app's way);
    // false: the bare label tokens.
    bool end_of_answer = true;
};
struct LabelScoreResult {
    EngineError error = EngineError::None;
    std::string message;
    std::vector<double> probabilities;    // softmax over the labels, sums to 1
    std::vector<double> log_likelihoods;  // log P(label tokens, end of answer | prompt)
    int prompt_tokens = 0;
};

class ChatEngine {
public:
    virtual ~ChatEngine() = default;
    virtual std::vector<ModelInfo> models() const = 0;
    // Tokenises, preprocesses and encodes images (cached by content hash),
    // reuses the longest kept KV prefix, prefills. Heavy: runs on the
    // scheduler thread between steps.
    virtual SequenceStart start(const ChatRequest& request) = 0;
    // One decode step for each listed (started, unfinished) sequence; one
    // TokenOut per sequence, in the same order.
    virtual std::vector<TokenOut> step(const std::vector<uint64_t>& sequences) = 0;
    // Ends a sequence (finished, cancelled or client gone). Its KV cache may
    // be kept for a follow-up that repeats this conversation, within the
    // engine's memory bound (oldest evicted first).
    virtual void finish(uint64_t sequence) = 0;
    // Whole job, on the scheduler thread like start().
    virtual LabelScoreResult score_labels(const LabelScoreRequest& request) = 0;
    // Batched decode width the package allows (1 = one sequence per run).
    virtual int max_batch() const = 0;
    // Bytes held by kept KV caches and image features (for /metrics).
    virtual size_t cache_bytes() const = 0;
};

}  // namespace es::server
