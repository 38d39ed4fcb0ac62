// image_input.h: the images of chat requests. OpenAI's image_url part carries a
// `data:` URL (base64 PNG/JPEG/BMP) or, only for hosts the config lists in
// "image_url_hosts", an http(s) URL the server fetches. Every image goes through
// the core's decoder (src/image, fuzzed) before the model sees it, so a broken
// or hostile file is a 400 in plain words, never a crash in the engine.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "api/api_error.h"

namespace es::server {

struct ImageLimits {
    size_t max_encoded_bytes = 20u << 20;  // 20 MiB per image file
    uint64_t max_pixels = 40'000'000;      // 40 Mpx decoded
};

struct ImageInput {
    ApiError error;               // empty() when the image is good
    std::vector<uint8_t> bytes;   // the encoded file, as the engine wants it
    std::string format;           // "png", "jpeg", "bmp"
    int width = 0, height = 0;
};

// `param` names the field for error messages ("messages[0].content[1].image_url").
// `allowed_hosts`: host names (lower case) whose http(s) URLs may be fetched.
ImageInput read_image_url(const std::string& url, const std::string& param, const ImageLimits& limits,
                          const std::vector<std::string>& allowed_hosts);

// Decodes a data: URL's payload ("data:image/png;base64,...."). False and a
// plain-words *error when it is not one.
bool decode_data_url(const std::string& url, std::vector<uint8_t>* bytes, std::string* error);

// Checks encoded image bytes with the core's decoder (format, damage, size).
ImageInput check_image_bytes(std::vector<uint8_t> bytes, const std::string& param, const ImageLimits& limits);

}  // namespace es::server
