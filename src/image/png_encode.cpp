// png_encode.cpp: encode_png*() over stb_image_write's in-memory writer.
#include "image/png_encode.h"

#include "stb_image_write.h"

namespace es {
namespace {
void append(void* context, void* data, int size) {
    auto* out = static_cast<std::vector<uint8_t>*>(context);
    const auto* bytes = static_cast<const uint8_t*>(data);
    out->insert(out->end(), bytes, bytes + size);
}

std::vector<uint8_t> encode(const uint8_t* pixels, int width, int height, int channels) {
    std::vector<uint8_t> out;
    if (!pixels || width <= 0 || height <= 0) return out;
    if (!stbi_write_png_to_func(append, &out, width, height, channels, pixels, width * channels)) out.clear();
    return out;
}
}  // namespace

std::vector<uint8_t> encode_png(const Image& image) {
    if (image.empty() || image.rgba.size() != size_t(image.width) * image.height * 4) return {};
    return encode(image.rgba.data(), image.width, image.height, 4);
}

std::vector<uint8_t> encode_png_gray(const uint8_t* pixels, int width, int height) {
    return encode(pixels, width, height, 1);
}

}  // namespace es
