// image.h: decoded RGBA8 images and the decoders/resizers that make them.
// Pure functions over byte buffers; errors are values, never exceptions, so a
// bad file can never take the app down.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace es {

struct Image {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> rgba;  // width*height*4, row-major, top row first
    bool empty() const { return width <= 0 || height <= 0; }
    const uint8_t* pixel(int x, int y) const { return &rgba[(size_t(y) * width + x) * 4]; }
};

struct DecodeResult {
    bool ok = false;
    Image image;
    std::string format;  // "jpeg", "png", "bmp"
    std::string error;   // human-readable reason when !ok
};

// Hard limits on what we agree to decode (protects memory on hostile input).
struct DecodeLimits {
    int max_width = 16384;
    int max_height = 16384;
    uint64_t max_pixels = 100ull * 1000 * 1000;
};

// Decodes JPEG, PNG or BMP (detected from the bytes, not the name) to RGBA8.
DecodeResult decode_image(const uint8_t* data, size_t size, const DecodeLimits& limits = {});

}  // namespace es
