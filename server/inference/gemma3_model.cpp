// gemma3_model.cpp: see gemma3_model.h.
#include "inference/gemma3_model.h"

#include <algorithm>
#include <stdexcept>

#include "inference/ort_tensors.h"

namespace es::server {

namespace {

std::vector<std::string> input_names(Ort::Session& s) {
    Ort::AllocatorWithDefaultOptions a;
    std::vector<std::string> out;
    for (size_t i = 0; i < s.GetInputCount(); ++i) out.push_back(s.GetInputNameAllocated(i, a).get());
    return out;
}

// The output called `name`, else the first one (as runtime.js reads a public export).
std::string output_name(Ort::Session& s, const std::string& name) {
    Ort::AllocatorWithDefaultOptions a;
    for (size_t i = 0; i < s.GetOutputCount(); ++i)
        if (name == s.GetOutputNameAllocated(i, a).get()) return name;
    return s.GetOutputNameAllocated(0, a).get();
}

ONNXTensorElementDataType input_type(Ort::Session& s, const std::string& name, ONNXTensorElementDataType fallback) {
    Ort::AllocatorWithDefaultOptions a;
    for (size_t i = 0; i < s.GetInputCount(); ++i)
        if (name == s.GetInputNameAllocated(i, a).get())
            return s.GetInputTypeInfo(i).GetTensorTypeAndShapeInfo().GetElementType();
    return fallback;
}

// Runs a session through the C API, so inputs can be borrowed (a kept KV
// cache is fed without copying or moving it).
std::vector<Ort::Value> run(Ort::Session& s, const std::vector<std::string>& in_names,
                            const std::vector<const OrtValue*>& inputs, const std::vector<std::string>& out_names) {
    std::vector<const char*> in_c, out_c;
    for (const auto& n : in_names) in_c.push_back(n.c_str());
    for (const auto& n : out_names) out_c.push_back(n.c_str());
    std::vector<OrtValue*> outputs(out_names.size(), nullptr);
    Ort::ThrowOnError(Ort::GetApi().Run(s, nullptr, in_c.data(), inputs.data(), inputs.size(), out_c.data(),
                                        out_c.size(), outputs.data()));
    std::vector<Ort::Value> out;
    for (OrtValue* v : outputs) out.emplace_back(v);
    return out;
}

}  // namespace

Ort::Session Gemma3Model::open(Ort::Env& env, const Ort::SessionOptions& so, const std::string& rel) {
    const std::string problem = package_->check_graph_files(rel);
    if (!problem.empty()) throw std::runtime_error(problem);
    const std::filesystem::path path = dir_ / rel;
    try {
        return Ort::Session(env, path.c_str(), so);
    } catch (const Ort::Exception& e) {
        throw std::runtime_error(path.string() + ": ONNX Runtime could not load this graph (damaged file, or a " +
                                 "graph this ONNX Runtime cannot run). Details: " + e.what());
    }
}

Gemma3Model::Gemma3Model(Ort::Env& env, const OnnxRuntime& runtime, const Gemma3Package& package,
                         const std::string& variant)
    : facts_(package.facts), variant_(variant), dir_(package.dir), package_(&package) {
    const auto have = package.variants();
    if (std::find(have.begin(), have.end(), variant) == have.end()) {
        std::string list;
        for (const auto& v : have) list += (list.empty() ? "" : ", ") + v;
        throw std::runtime_error(package.dir.string() + ": has no complete " + variant + " variant (it has: " +
                                 (list.empty() ? "none" : list) + ")");
    }
    Ort::SessionOptions so = make_session_options(runtime);
    vision_ = std::make_unique<Ort::Session>(open(env, so, package.graph_path("vision_encoder", variant)));
    embed_ = std::make_unique<Ort::Session>(open(env, so, package.graph_path("embed_tokens", variant)));
    const bool cuda = runtime.provider == ExecutionProvider::Cuda;
    std::vector<std::string> order = cuda ? std::vector<std::string>{"decoder_token_types", "decoder_fused", "decoder"}
                                          : std::vector<std::string>{"decoder_fused", "decoder_token_types", "decoder"};
    std::string last_error;
    for (const auto& graph : order) {
        const std::string rel = package.graph_path(graph, variant);
        if (rel.empty()) continue;
        try {
            decoder_ = std::make_unique<Ort::Session>(open(env, so, rel));
            decoder_graph_ = graph;
            break;
        } catch (const std::exception& e) {
            last_error = e.what();
            // ONNX Runtime's message can run to a screen; its last "Error ..." part says why.
            std::string why = last_error;
            const size_t at = why.rfind(", Error ");
            if (at != std::string::npos) why = why.substr(at + 2);
            if (why.size() > 200) why = why.substr(0, 200) + "...";
            notices_.push_back(graph + " not used (" + why + ")");
            // A damaged or missing file is the user's to fix, not a reason to fall back.
            if (last_error.find("manifest") != std::string::npos || last_error.find("missing") != std::string::npos)
                throw;
        }
    }
    if (!decoder_) throw std::runtime_error(last_error.empty() ? package.dir.string() + ": no decoder graph" : last_error);
    if (decoder_graph_ == "decoder")
        notices_.push_back("decoder without token_type_ids: image tokens attend causally (answers can differ slightly "
                           "from transformers)");

    decoder_inputs_ = input_names(*decoder_);
    for (const auto& n : decoder_inputs_) {
        if (n.rfind("past_key_values.", 0) == 0) {
            past_names_.push_back(n);
            present_names_.push_back("present." + n.substr(std::string("past_key_values.").size()));
        } else if (n == "num_logits_to_keep" || n == "logits_to_keep") {
            keep_name_ = n;
        } else if (n == "token_type_ids") {
            has_token_types_ = true;
        } else if (n != "inputs_embeds" && n != "attention_mask" && n != "position_ids") {
            throw std::runtime_error(package.dir.string() + ": decoder input \"" + n + "\" is not in the package contract");
        }
    }
    if (past_names_.size() != size_t(2 * facts_.num_hidden_layers))
        throw std::runtime_error(package.dir.string() + ": the decoder has " + std::to_string(past_names_.size()) +
                                 " KV inputs, config.json says " + std::to_string(facts_.num_hidden_layers) + " layers");
    vision_output_ = output_name(*vision_, "image_features");
    embed_output_ = output_name(*embed_, "inputs_embeds");
    pixel_type_ = input_type(*vision_, "pixel_values", ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT);
    embeds_type_ = input_type(*decoder_, "inputs_embeds", ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT);
    kv_type_ = input_type(*decoder_, past_names_[0], ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT);
    package_ = nullptr;  // not needed after loading
}

std::vector<float> Gemma3Model::encode_images(const std::vector<float>& pixels, int n, int height, int width) {
    Ort::Value px = float_tensor(pixels.data(), pixels.size(), {n, 3, height, width}, pixel_type_);
    std::vector<Ort::Value> out = run(*vision_, {"pixel_values"}, {px}, {vision_output_});
    std::vector<float> f = to_float32(out[0]);
    const size_t want = size_t(n) * size_t(facts_.mm_tokens_per_image) * size_t(facts_.hidden_size);
    if (f.size() != want)
        throw std::runtime_error("the vision encoder returned " + std::to_string(f.size()) + " values, expected " +
                                 std::to_string(want) + " (mm_tokens_per_image x hidden_size per image)");
    return f;
}

std::vector<float> Gemma3Model::embed(const std::vector<int>& ids) {
    std::vector<int64_t> v(ids.begin(), ids.end());
    Ort::Value in = int64_tensor(v, {1, int64_t(v.size())});
    std::vector<Ort::Value> out = run(*embed_, {"input_ids"}, {in}, {embed_output_});
    return to_float32(out[0]);
}

Ort::Value Gemma3Model::empty_past(int batch) const {
    return zero_tensor({batch, facts_.num_key_value_heads, 0, facts_.head_dim}, kv_type_);
}

DecodeOutput Gemma3Model::decode(const DecodeInput& in) {
    const int B = in.batch, S = in.new_tokens, H = facts_.hidden_size, V = facts_.vocab_size;
    const int P = in.past ? in.past->length : 0, T = P + S;
    if (in.past && in.past->batch != B) throw std::runtime_error("decode: KV cache batch differs from the input batch");
    std::vector<Ort::Value> owned;
    owned.reserve(8);
    std::vector<const OrtValue*> inputs;
    Ort::Value empty = empty_past(B);
    for (const auto& name : decoder_inputs_) {
        if (name == "inputs_embeds") {
            owned.push_back(float_tensor(in.embeds.data(), in.embeds.size(), {B, S, H}, embeds_type_));
        } else if (name == "attention_mask") {
            owned.push_back(int64_tensor(in.attention_mask.empty() ? std::vector<int64_t>(size_t(B) * T, 1) : in.attention_mask,
                                         {B, T}));
        } else if (name == "position_ids") {
            owned.push_back(int64_tensor(in.positions, {B, S}));
        } else if (name == "token_type_ids") {
            owned.push_back(int64_tensor(in.token_types.empty() ? std::vector<int64_t>(size_t(B) * S, 0) : in.token_types,
                                         {B, S}));
        } else if (name == keep_name_) {
            owned.push_back(int64_tensor({int64_t(in.keep_rows)}, {}));
        } else {
            continue;
        }
        inputs.push_back(owned.back());
    }
    // Past tensors: borrowed from the cache, in input order.
    std::vector<const OrtValue*> ordered;
    size_t owned_i = 0, past_i = 0;
    for (const auto& name : decoder_inputs_) {
        if (name.rfind("past_key_values.", 0) == 0) {
            ordered.push_back(in.past ? static_cast<const OrtValue*>(in.past->tensors[past_i]) : static_cast<const OrtValue*>(empty));
            ++past_i;
        } else {
            ordered.push_back(inputs[owned_i++]);
        }
    }
    std::vector<std::string> outs{"logits"};
    if (in.want_present) outs.insert(outs.end(), present_names_.begin(), present_names_.end());
    std::vector<Ort::Value> result = run(*decoder_, decoder_inputs_, ordered, outs);

    DecodeOutput o;
    const std::vector<int64_t> ls = shape_of(result[0]);
    const int R = int(ls[1]);
    std::vector<float> all = to_float32(result[0]);
    const int want = in.keep_rows > 0 ? std::min(in.keep_rows, R) : R;
    o.rows = want;
    if (want == R) {
        o.logits = std::move(all);
    } else {
        o.logits.resize(size_t(B) * want * V);
        for (int b = 0; b < B; ++b)
            std::copy(all.begin() + (size_t(b) * R + (R - want)) * V, all.begin() + (size_t(b) * R + R) * V,
                      o.logits.begin() + size_t(b) * want * V);
    }
    if (in.want_present) {
        auto kv = std::make_shared<KvState>();
        kv->batch = B;
        kv->length = T;
        for (size_t i = 1; i < result.size(); ++i) {
            kv->bytes += tensor_bytes(result[i]);
            kv->tensors.push_back(std::move(result[i]));
        }
        o.present = std::move(kv);
    }
    return o;
}

}  // namespace es::server
