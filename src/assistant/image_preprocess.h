// image_preprocess.h: turns a decoded image into the vision encoder's
// pixel_values as transformers' Gemma3ImageProcessor (and SiglipImageProcessor)
// does from preprocessor_config.json: convert to RGB (alpha dropped), optional
// pan-and-scan crops of the original, each image resized with Pillow's filter
// (image/pil_resize.h, byte-exact), rescaled (x * rescale_factor, computed in
// float64 then stored as float32), normalised ((x - mean) / std in float32),
// channels first. Also the prompt-side image-token expansion that
// Gemma3Processor performs, pan-and-scan crops included.
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
    double rescale_factor = 1.0 / 255.0;
    bool do_normalize = true;
    float mean[3] = {0.5f, 0.5f, 0.5f};
    float std[3] = {0.5f, 0.5f, 0.5f};
    // Pan-and-scan: extra crops of a wide or tall image. Null values in the
    // config take Gemma3Processor's defaults (256, 4, 1.2).
    bool do_pan_and_scan = false;
    int pan_and_scan_min_crop_size = 256;
    int pan_and_scan_max_num_crops = 4;
    double pan_and_scan_min_ratio_to_activate = 1.2;
};

// Parses preprocessor_config.json. Missing keys keep the defaults above;
// wrong types or impossible values give false and a message.
bool parse_preprocessor_config(const std::string& json_text, ImagePreprocessConfig* out, std::string* error);

struct CropRect {
    int x = 0, y = 0, width = 0, height = 0;
};

// Gemma3ImageProcessor.pan_and_scan: the crops of a width x height image
// (empty when pan-and-scan is off, the image is not elongated enough, or the
// crops would be smaller than the minimum). Crops lie in a row (landscape) or
// a column (portrait); the last one is cut at the image edge, as numpy slicing is.
std::vector<CropRect> pan_and_scan_crops(int width, int height, const ImagePreprocessConfig& cfg);

struct PixelValues {
    int images = 1;  // the whole image, then its pan-and-scan crops
    int channels = 3, height = 0, width = 0;
    std::vector<float> data;  // [images, 3, height, width], row-major
};

// RGBA8 -> pixel_values for the image and its crops.
bool preprocess_image(const Image& image, const ImagePreprocessConfig& cfg, PixelValues* out, std::string* error);

// The uint8 RGB image the vision encoder sees before rescaling (for tests and
// for showing what the model sees): the crop of `image` resized per cfg.
bool resize_for_model(const Image& image, const CropRect& crop, const ImagePreprocessConfig& cfg,
                      std::vector<uint8_t>* rgb, int* width, int* height, std::string* error);

// Gemma3Processor's expansion: an image with crops first becomes
// "Here is the original image <boi> and here are some crops to help you see
// better <boi> <boi>..." (one <boi> per crop); then every `boi` in `text`
// becomes "\n\n" + boi + image_token x tokens_per_image + eoi + "\n\n".
// crops_per_image[i] is the crop count of the i-th image in the text (missing
// entries count as 0).
std::string expand_image_tokens(const std::string& text, const std::string& boi, const std::string& image_token,
                                const std::string& eoi, int tokens_per_image,
                                const std::vector<int>& crops_per_image = {});

}  // namespace es
