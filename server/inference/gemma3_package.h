// gemma3_package.h: a Gemma-3 / MedGemma package on disk in the transformers.js
// layout (tools/model_builder/PACKAGE.md): a model-builder package with its
// manifest.json, or a public export without one. Reads the configs the core
// needs and names the graph files of a variant; every file used is checked
// against the manifest (size, sha256) so a wrong, truncated or missing file is
// reported by name before ONNX Runtime sees it. The native counterpart of
// web/assistant/package.js.
#pragma once
#include <filesystem>
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

// The variant to load when none is asked for: 4-bit with float32 activations
// on the CPU (as web/assistant/package.js chooseVariant), float16 activations
// first on CUDA. Empty when the package has no complete variant.
std::string default_variant(const Gemma3Package& package, bool cuda);

// Lower-case hex SHA-256 of bytes (OpenSSL).
std::string sha256_hex(const uint8_t* data, size_t size);

}  // namespace es::server
