// pil_resize.h: resampling 8-bit images exactly as Pillow's Image.resize does,
// byte for byte, because vision models were trained on Pillow's output
// (Hugging Face image processors resize with PIL): two separable passes
// (horizontal, then vertical) with the filter widened by the scale when
// shrinking (antialiasing), coefficients in 22-bit fixed point, and the
// intermediate image rounded to uint8 between the passes. NEAREST follows
// Pillow's affine nearest-neighbour path. Checked against Debian's python3-pil
// by tests/python/test_pil_preprocess.py.
#pragma once
#include <cstdint>
#include <vector>

namespace es {

// Pillow's resampling filter codes (PIL.Image.Resampling).
enum class PilFilter { Nearest = 0, Lanczos = 1, Bilinear = 2, Bicubic = 3, Box = 4, Hamming = 5 };

// Resizes `width` x `height` interleaved pixels of `channels` bytes each
// (1..4; channels are resampled independently, as Pillow does for L, RGB and
// RGBX) to out_width x out_height into *out. Returns false when a size is not
// positive or the input is too small.
bool pil_resize(const uint8_t* pixels, int width, int height, int channels, int out_width, int out_height,
                PilFilter filter, std::vector<uint8_t>* out);

}  // namespace es
