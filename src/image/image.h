// image.h: decoded RGBA8 images and the decoder that makes them.
// Pure functions over byte buffers; errors are values, never exceptions, so a
// bad file can never take the app down.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace es {

struct Image {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> rgba;  // width*height*4, row-major, top row first, straight (not premultiplied) alpha
    bool empty() const { return width <= 0 || height <= 0; }
    const uint8_t* pixel(int x, int y) const { return &rgba[(size_t(y) * width + x) * 4]; }
    uint8_t* pixel(int x, int y) { return &rgba[(size_t(y) * width + x) * 4]; }
};

struct DecodeResult {
    bool ok = false;
    Image image;
    std::string format;  // "jpeg", "png", "bmp"; also set when decoding failed but the format was recognised
    std::string error;   // technical reason when !ok, e.g. "truncated JPEG: no end-of-image marker"
    std::string reason;  // the same for a clinician when !ok, e.g. "the file is damaged or not an image"
};

// Hard limits on what we agree to decode (protects memory on hostile input).
// They are checked against the header before any pixel memory is allocated.
struct DecodeLimits {
    int max_width = 16384;
    int max_height = 16384;
    uint64_t max_pixels = 100ull * 1000 * 1000;
};

// The container format recognised from the first bytes ("jpeg", "png", "bmp"),
// a name for a known but unsupported one ("gif", "tiff", "webp", ...), or ""
// when the bytes are not a known image format.
std::string sniff_image_format(const uint8_t* data, size_t size);

// Decodes JPEG, PNG or BMP (detected from the bytes, not the name) to RGBA8.
// Corrupt, truncated, unsupported, zero-size or over-limit input gives ok=false
// and an error that says which of these it was. Never throws.
DecodeResult decode_image(const uint8_t* data, size_t size, const DecodeLimits& limits = {});

}  // namespace es
