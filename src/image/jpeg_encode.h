// jpeg_encode.h: baseline JPEG encoding to a byte buffer (stb_image_write), for
// embedding images in PDFs (libharu takes JPEG bytes as they are, with no
// image library in the WebAssembly build). Deterministic.
#pragma once
#include <cstdint>
#include <vector>

#include "image/image.h"

namespace es {

// RGBA8 image -> JPEG bytes (RGB; transparent pixels composited over white).
// quality 1..100. Empty result when the image is empty.
std::vector<uint8_t> encode_jpeg(const Image& image, int quality = 88);

}  // namespace es
