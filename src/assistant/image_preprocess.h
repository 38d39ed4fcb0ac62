// image_preprocess.h: turns a decoded image into the vision encoder's
// pixel_values, as a Hugging Face image processor described by
// preprocessor_config.json would (Gemma3ImageProcessor / SiglipImageProcessor:
// convert to RGB, resize, rescale, normalise, channels first). Pan-and-scan is
// never applied: one image is one crop. Also the prompt-side image-token
// expansion that Gemma3Processor performs.
#pragma once
#include <string>
#include <vector>

#include "image/image.h"

namespace es {

struct ImagePreprocessConfig {
    bool do_resize = true;
    int width = 896, height = 896;
    int resample = 2;  // PIL codes: 0 nearest, 1 lanczos, 2 bilinear, 3 bicubic, 4 box, 5 hamming
    bool do_rescale = true;
    float rescale_factor = 1.0f / 255.0f;
    bool do_normalize = true;
    float mean[3] = {0.5f, 0.5f, 0.5f};
    float std[3] = {0.5f, 0.5f, 0.5f};
    bool pan_and_scan_requested = false;  // the config asked for it; we still do not
};

// Parses preprocessor_config.json. Missing keys keep the defaults above;
// wrong types or impossible values give false and a message.
bool parse_preprocessor_config(const std::string& json_text, ImagePreprocessConfig* out, std::string* error);

struct PixelValues {
    int channels = 3, height = 0, width = 0;
    std::vector<float> data;  // [3, height, width], row-major
};

// RGBA8 (alpha dropped, as PIL's convert("RGB") does) -> [3, H, W] float.
// The resize filter follows `resample` (bilinear = triangle, bicubic =
// Catmull-Rom, box, lanczos/hamming approximated by Catmull-Rom) in sRGB byte
// space like PIL; exact PIL parity is only guaranteed when no resize happens.
bool preprocess_image(const Image& image, const ImagePreprocessConfig& cfg, PixelValues* out, std::string* error);

// Gemma3Processor's expansion: every `boi` in `text` becomes
// "\n\n" + boi + image_token x tokens_per_image + eoi + "\n\n".
std::string expand_image_tokens(const std::string& text, const std::string& boi, const std::string& image_token,
                                const std::string& eoi, int tokens_per_image);

}  // namespace es
