// gemma3_package.h: a Gemma-3 / MedGemma package on disk in the transformers.js
// layout (tools/model_builder/PACKAGE.md): a model-builder package with its
// manifest.json, or a public export without one. Reads the configs the core
// needs and names the graph files of a variant; every file used is checked
// against the manifest (size, sha256) so a wrong, truncated or missing file is
// reported by name before ONNX Runtime sees it. The native counterpart of
// web/assistant/package.js.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "assistant/conversation.h"
#include "assistant/image_preprocess.h"

namespace es::server {

// What the runtime needs to know about the model (manifest.json "model", or
// config.json for a public export).
struct Gemma3Facts {
    int num_hidden_layers = 0;
    int num_key_value_heads = 0;
    int head_dim = 0;
    int hidden_size = 0;
    int vocab_size = 0;
    int image_size = 0;
    int mm_tokens_per_image = 0;
    int image_token_id = -1;
    int max_position_embeddings = 0;
    std::vector<int> eos_token_ids;
};

struct Gemma3Package {
    std::filesystem::path dir;
    bool has_manifest = false;
    nlohmann::json manifest;            // null without one
    nlohmann::json config;              // config.json
    Gemma3Facts facts;
    std::string preprocessor_config;    // JSON text (preprocessor_config.json or processor_config.json's image_processor)
    std::string tokenizer_config;       // tokenizer_config.json text
    std::vector<uint8_t> tokenizer_model;
    ConversationConfig chat;            // template, special tokens, stop ids (max_context left 0)
    bool test_model = false;            // config.json endoscribe.test_model (random weights)
    std::vector<std::string> notices;   // remarks for the start-up log

    // The graph file of `graph` ("vision_encoder", "embed_tokens", "decoder",
    // "decoder_token_types", "decoder_fused") in `variant`, relative to dir;
    // empty when the package does not have it.
    std::string graph_path(const std::string& graph, const std::string& variant) const;
    // Variants whose vision_encoder, embed_tokens and decoder are all present.
    std::vector<std::string> variants() const;
    // Checks a graph file and its external data against the manifest (size,
    // sha256) or, without a manifest, that they exist. "" when fine, else the
    // problem in plain words naming the file.
    std::string check_graph_files(const std::string& relative_path) const;
};

struct PackageOpenResult {
    bool ok = false;
    std::string error;  // plain words, naming the file
    Gemma3Package package;
};

// Reads and checks the configs and tokenizer of the package in `dir`.
PackageOpenResult open_gemma3_package(const std::filesystem::path& dir);

// The rule choosing the variant to load when none is asked for, shared with
// the app (web/assistant/variant_rule.json, compiled in; server/API.md).
struct VariantRule {
    uint64_t fp32_max_bytes = 512ull << 20;  // fp32 weights above this: q4
    std::map<std::string, std::string> f16_twin{{"q4", "q4f16"}, {"fp32", "fp16"}};  // float16-activation twin
};
VariantRule variant_rule();

// Bytes of a variant's weights: its manifest files, else its graph files on disk.
uint64_t variant_weight_bytes(const Gemma3Package& package, const std::string& variant);

// The variant to load when none is asked for, by the app's rule (webgpu_check.js
// defaultVariant + planExecution): fp32 when the package has it and its fp32
// weights are at most fp32_max_bytes, else q4 (else q4f16, fp16); then on CUDA
// the float16-activation twin, on the CPU the float32 one, when the package
// has it. Empty when the package has no complete variant.
std::string default_variant(const Gemma3Package& package, bool cuda);

// Lower-case hex SHA-256 of bytes (OpenSSL).
std::string sha256_hex(const uint8_t* data, size_t size);

}  // namespace es::server
