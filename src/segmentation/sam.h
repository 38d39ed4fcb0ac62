// sam.h: pre- and post-processing for SAM-family promptable segmentation
// models in the standard ONNX split (image encoder + prompt decoder, as in
// segment-anything's scripts/export_onnx_model.py and the SAM web demo).
// Pure functions; the JS side only moves tensors in and out of onnxruntime.
//
// Encoder input:  "input"/"pixel_values"-style float32 [1, 3, T, T] (T = 1024):
//   the image resized so its longest side is T (aspect kept, bilinear with
//   antialiasing as PIL does), normalised per channel with SAM's pixel
//   mean/std (on 0..255 values), zero-padded at the right and bottom.
// Decoder inputs: image_embeddings [1,256,64,64], point_coords [1,N,2] in the
//   T frame, point_labels [1,N] (1 positive, 0 negative, 2/3 box corners,
//   -1 padding point when there is no box), mask_input [1,1,256,256] (the
//   previous low_res_masks logits), has_mask_input [1], orig_im_size [2] (h, w).
// Decoder outputs: masks (full size logits), iou_predictions [1,K],
//   low_res_masks [1,K,256,256].
#pragma once
#include <cstdint>
#include <vector>

#include "annotation/geometry.h"
#include "mask/mask.h"

namespace es {

constexpr int kSamTargetSize = 1024;
constexpr int kSamLowResSize = 256;
constexpr float kSamPixelMean[3] = {123.675f, 116.28f, 103.53f};
constexpr float kSamPixelStd[3] = {58.395f, 57.12f, 57.375f};

// Geometry of one image in the model frame.
struct SamFrame {
    int orig_width = 0, orig_height = 0;
    int resized_width = 0, resized_height = 0;  // longest side == target
    int target = kSamTargetSize;
};
// As segment-anything's ResizeLongestSide.get_preprocess_shape: round(side * target / longest).
SamFrame sam_frame(int width, int height, int target = kSamTargetSize);

// RGBA8 (or RGB8 with channels = 3) image → [3, target, target] float32, NCHW.
std::vector<float> sam_preprocess(const uint8_t* pixels, int width, int height, int channels,
                                  const SamFrame& frame);

// Image coordinates (pixel edges, so the centre of pixel (i, j) is (i+0.5, j+0.5))
// → model frame, scaling x and y separately as ResizeLongestSide.apply_coords.
Point sam_to_model(const SamFrame& f, Point p);

struct SamPoint {
    Point p;              // image coordinates
    bool positive = true;
};
struct SamPrompt {
    std::vector<SamPoint> points;
    bool has_box = false;
    Box box;              // image coordinates
};
struct SamDecoderPrompt {
    std::vector<float> coords;  // [N, 2] in the model frame
    std::vector<float> labels;  // [N]
    int count() const { return int(labels.size()); }
};
// Points first, then the box as two corner points (labels 2 and 3); without a
// box a padding point (0, 0) with label -1 is appended, as the ONNX decoder
// expects.
SamDecoderPrompt sam_encode_prompt(const SamFrame& f, const SamPrompt& prompt);

// Low-resolution logits [lh, lw] (256x256 for SAM) → binary mask at the
// original size: upscale to target x target (bilinear, align_corners=False),
// crop the unpadded resized_width x resized_height region, upscale to the
// original size, threshold (> threshold, 0 for logits).
Mask sam_postprocess(const float* low_res_logits, int low_res_width, int low_res_height, const SamFrame& f,
                     float threshold = 0.0f);

// Index of the best of K candidate masks by predicted IoU. With
// skip_first_when_multimask (SAM's multimask output for a single click has
// the single-mask answer at index 0) the first is skipped when K > 1.
int sam_select_mask(const float* iou_predictions, int count, bool skip_first_when_multimask = false);

// Resize RGBA/RGB 8-bit images with a separable triangle (bilinear) filter
// whose support widens when shrinking, like PIL's BILINEAR resize.
std::vector<uint8_t> resize_bilinear_antialias(const uint8_t* pixels, int width, int height, int channels,
                                               int new_width, int new_height);

}  // namespace es
