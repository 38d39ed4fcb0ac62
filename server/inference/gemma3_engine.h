// gemma3_engine.h: ChatEngine for Gemma-3 / MedGemma packages (model-builder
// packages and public transformers.js exports) on ONNX Runtime, over the same
// core as the app: the package's chat template and tokenizer build the prompt
// (es::Conversation), images are decoded and preprocessed by the core,
// es::Generator / es::Sampler pick the tokens, es::LabelScorer scores labels.
//
// Caches: KV caches of finished sequences are kept by token prefix
// (kv_prefix_cache.h), image features by the image's SHA-256
// (image_feature_cache.h), both bounded; the ids of answers this engine wrote
// are remembered by their text, so a client that resends an answer as text
// gets the same tokens back (and so the kept cache) rather than a
// re-tokenisation that may split the text differently.
//
// step(): sequences waiting for a decode run together in one batched decoder
// run (left-padded KV cache, attention_mask 0 on the padding, positions
// counting real tokens: PACKAGE.md) when the package's decoder allows and
// EngineOptions::batched_decode is on; otherwise one after another, each
// listed sequence one token per call (round robin).
#pragma once
#include <atomic>
#include <filesystem>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "inference/chat_engine.h"
#include "inference/image_feature_cache.h"
#include "inference/kv_prefix_cache.h"
#include "onnx/onnx_runtime.h"

namespace es::server {

struct ModelSpec {
    std::filesystem::path dir;
    std::string name;     // empty: the folder's name
    std::string variant;  // empty: default_variant()
};

struct EngineOptions {
    size_t kv_cache_bytes = size_t(2) << 30;     // kept KV caches
    double kv_cache_age_seconds = 1800;
    size_t image_cache_bytes = size_t(512) << 20;
    double image_cache_age_seconds = 3600;
    int context_limit = 8192;                    // tokens, capped by the model's max_position_embeddings
    size_t label_logits_budget = size_t(128) << 20;  // bytes of logits per label-scoring pass
    bool batched_decode = true;
    int max_batch = 16;
};

struct EngineStats {
    uint64_t image_encodes = 0;      // vision encoder runs (one per image not in the cache)
    uint64_t image_cache_hits = 0;
    uint64_t prefilled_tokens = 0;   // prompt tokens run through the decoder
    uint64_t cached_tokens = 0;      // prompt tokens served from kept KV caches
    uint64_t decoder_runs = 0;
    uint64_t batched_runs = 0;       // decoder runs with more than one sequence
    uint64_t generated_tokens = 0;
};

class Gemma3Engine : public ChatEngine {
public:
    // Loads every model (the ONNX Runtime must be loaded). On failure returns
    // null and sets *error (plain words naming the folder or file).
    static std::unique_ptr<Gemma3Engine> load(const OnnxRuntime& runtime, const std::vector<ModelSpec>& specs,
                                              const EngineOptions& options, std::string* error);
    ~Gemma3Engine() override;

    std::vector<ModelInfo> models() const override;
    SequenceStart start(const ChatRequest& request) override;
    std::vector<TokenOut> step(const std::vector<uint64_t>& sequences) override;
    void finish(uint64_t sequence) override;
    LabelScoreResult score_labels(const LabelScoreRequest& request) override;
    int max_batch() const override;
    size_t cache_bytes() const override { return cache_bytes_.load(); }

    // For the start-up log: one line per model (variant, provider, decoder graph, notices).
    std::vector<std::string> describe() const;
    const EngineStats& stats() const { return stats_; }

    struct Model;
    struct Sequence;
    struct Prompt;

private:
    Gemma3Engine(const OnnxRuntime& runtime, const EngineOptions& options);
    Model* find_model(const std::string& name, std::string* error);
    bool build_prompt(Model& m, const std::vector<ChatMessage>& messages, Prompt* out);
    // Runs the prompt's tokens not in a kept cache; returns the last logits row.
    bool prefill(Model& m, Prompt& p, std::vector<float>* last_row, std::shared_ptr<const KvState>* kv,
                 int* cached, std::string* error);
    void run_single(Sequence& s);
    void run_batch(const std::vector<Sequence*>& group);
    TokenOut emit(Sequence& s);
    void update_cache_bytes();

    const OnnxRuntime& runtime_;
    EngineOptions options_;
    std::unique_ptr<Ort::Env> env_;
    std::vector<std::unique_ptr<Model>> models_;
    std::map<uint64_t, std::unique_ptr<Sequence>> sequences_;
    uint64_t next_sequence_ = 1;
    KvPrefixCache kv_cache_;
    ImageFeatureCache image_cache_;
    std::list<std::pair<std::string, std::vector<int>>> answers_;  // model + '\0' + text -> ids, newest first
    EngineStats stats_;
    std::atomic<size_t> cache_bytes_{0};
};

}  // namespace es::server
