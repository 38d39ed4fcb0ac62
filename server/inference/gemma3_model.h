// gemma3_model.h: one variant of a Gemma-3 package as three ONNX Runtime
// sessions (vision_encoder, embed_tokens, a decoder) and the tensor moves
// between them, as web/assistant/runtime.js does: pixel_values -> image
// features, ids -> embeddings (image features spliced over the image soft
// tokens by the caller), embeddings + KV cache -> logits + new KV cache.
// Decoder choice per provider: decoder_fused (onnxruntime's fused kernels) on
// the CPU, decoder_token_types on CUDA, decoder_model_merged (public exports:
// no token types, image tokens then attend causally) when neither is there.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "inference/gemma3_package.h"
#include "onnx/onnx_runtime.h"

namespace es::server {

// A KV cache: present.* tensors of one decoder run ([B, kv_heads, length,
// head_dim] each, in the decoder's past_key_values input order). Never
// changed after it is made, so one cache can serve several sequences.
struct KvState {
    std::vector<Ort::Value> tensors;
    int batch = 1;
    int length = 0;
    size_t bytes = 0;
};

struct DecodeInput {
    int batch = 1;
    int new_tokens = 0;                 // S
    std::vector<float> embeds;          // [B, S, hidden] float32
    std::vector<int64_t> positions;     // [B, S]
    std::vector<int64_t> token_types;   // [B, S]; empty = zeros (ignored by decoder_model_merged)
    std::vector<int64_t> attention_mask;  // [B, past + S]; empty = all ones
    const KvState* past = nullptr;      // null = empty cache
    int keep_rows = 1;                  // logits rows wanted per batch row (the last ones); 0 = all S
    bool want_present = true;           // false: KV outputs are not kept (label branches)
};

struct DecodeOutput {
    std::vector<float> logits;          // [B, rows, vocab] float32
    int rows = 0;
    std::shared_ptr<KvState> present;   // null when !want_present
};

class Gemma3Model {
public:
    // Loads `variant` (checked against the manifest first). Throws
    // std::runtime_error with plain words naming the file on failure.
    Gemma3Model(Ort::Env& env, const OnnxRuntime& runtime, const Gemma3Package& package, const std::string& variant);

    const Gemma3Facts& facts() const { return facts_; }
    const std::string& variant() const { return variant_; }
    const std::string& decoder_graph() const { return decoder_graph_; }
    bool has_token_types() const { return has_token_types_; }
    bool has_keep_rows() const { return !keep_name_.empty(); }
    const std::vector<std::string>& notices() const { return notices_; }

    // pixel_values [N, 3, H, W] -> image features [N, mm_tokens, hidden] float32.
    std::vector<float> encode_images(const std::vector<float>& pixels, int n, int height, int width);
    // ids -> embeddings [S, hidden] float32.
    std::vector<float> embed(const std::vector<int>& ids);
    DecodeOutput decode(const DecodeInput& in);

private:
    Ort::Session open(Ort::Env& env, const Ort::SessionOptions& so, const std::string& rel);
    Ort::Value empty_past(int batch) const;

    Gemma3Facts facts_;
    std::string variant_, decoder_graph_;
    std::vector<std::string> notices_;
    std::filesystem::path dir_;
    const Gemma3Package* package_ = nullptr;  // while loading only
    std::unique_ptr<Ort::Session> vision_, embed_, decoder_;
    std::vector<std::string> decoder_inputs_, past_names_, present_names_;
    std::string keep_name_;
    std::string vision_output_, embed_output_;
    bool has_token_types_ = false;
    ONNXTensorElementDataType pixel_type_ = ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    ONNXTensorElementDataType embeds_type_ = ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    ONNXTensorElementDataType kv_type_ = ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
};

}  // namespace es::server
