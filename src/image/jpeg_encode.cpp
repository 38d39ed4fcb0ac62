// jpeg_encode.cpp: encode_jpeg() over stb_image_write's in-memory writer.
#include "image/jpeg_encode.h"

#include <algorithm>

#include "stb_image_write.h"

namespace es {
namespace {
void append(void* context, void* data, int size) {
    auto* out = static_cast<std::vector<uint8_t>*>(context);
    const auto* bytes = static_cast<const uint8_t*>(data);
    out->insert(out->end(), bytes, bytes + size);
}
}  // namespace

std::vector<uint8_t> encode_jpeg(const Image& image, int quality) {
    if (image.empty() || image.rgba.size() != size_t(image.width) * image.height * 4) return {};
    std::vector<uint8_t> rgb(size_t(image.width) * image.height * 3);
    for (size_t i = 0, n = size_t(image.width) * image.height; i < n; ++i) {
        const uint8_t* p = &image.rgba[i * 4];
        const unsigned a = p[3];
        for (int c = 0; c < 3; ++c) rgb[i * 3 + c] = uint8_t((p[c] * a + 255 * (255 - a) + 127) / 255);
    }
    std::vector<uint8_t> out;
    if (!stbi_write_jpg_to_func(append, &out, image.width, image.height, 3, rgb.data(), std::clamp(quality, 1, 100)))
        out.clear();
    return out;
}

}  // namespace es
