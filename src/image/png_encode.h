// png_encode.h: PNG encoding to a byte buffer (stb_image_write). Deterministic:
// the same pixels always give the same bytes.
#pragma once
#include <cstdint>
#include <vector>

#include "image/image.h"

namespace es {

// RGBA8 image -> PNG bytes (colour type 6). Empty result when the image is empty.
std::vector<uint8_t> encode_png(const Image& image);

// 8-bit single-channel pixels (width*height bytes, row-major) -> greyscale PNG
// bytes (colour type 0), e.g. a lesion mask with 0 = background, 255 = lesion.
std::vector<uint8_t> encode_png_gray(const uint8_t* pixels, int width, int height);

}  // namespace es
