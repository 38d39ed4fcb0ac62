// image_input.h: an image sent to an EndoScribe extension route - a data: URL
// (PNG, JPEG or BMP, base64) - checked against the size limits and decoded by
// the core's decoder (the fuzzed one the app uses). Plain-words errors with the
// HTTP status they deserve: 400 for what is not an image, 413 for too large.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "image/image.h"

namespace es::server {

struct ImageLimits {
    size_t max_encoded_bytes = size_t(20) << 20;  // 20 MiB, as server/API.md says
    uint64_t max_pixels = 40ull * 1000 * 1000;    // 40 Mpx decoded
};

struct ImageInput {
    bool ok = false;
    int status = 400;          // when !ok: 400 or 413
    std::string message;       // when !ok: plain words (what happened, what to do)
    std::string detail;        // technical reason, when there is one
    std::vector<uint8_t> bytes;  // the encoded file
    Image image;                 // decoded RGBA8 (only when decoded)
};

// Only the bytes of a data: URL (not decoded). `what` names the field in messages.
ImageInput read_image_data_url(const std::string& url, const std::string& what, const ImageLimits& limits = {});
// The bytes, then the decoded image.
ImageInput decode_image_data_url(const std::string& url, const std::string& what, const ImageLimits& limits = {});
// Decodes bytes already read (e.g. from a case bundle).
ImageInput decode_image_bytes(std::vector<uint8_t> bytes, const std::string& what, const ImageLimits& limits = {});

}  // namespace es::server
