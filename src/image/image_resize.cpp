// image_resize.cpp: resize_image() and fit_to_max_dimension() over stb_image_resize.
#include "image/image_resize.h"

#include <cmath>
#include <utility>

#include "stb_image_resize.h"

namespace es {

Image resize_image(const Image& src, int width, int height) {
    Image out;
    if (src.empty() || width <= 0 || height <= 0 || src.rgba.size() != size_t(src.width) * src.height * 4)
        return out;
    if (width == src.width && height == src.height) return src;
    out.rgba.resize(size_t(width) * height * 4);
    int ok = stbir_resize_uint8_srgb(src.rgba.data(), src.width, src.height, 0, out.rgba.data(), width, height, 0,
                                     4, /*alpha_channel=*/3, /*flags=*/0);
    if (!ok) return Image{};
    out.width = width;
    out.height = height;
    return out;
}

FitResult fit_to_max_dimension(Image image, int max_dimension) {
    FitResult r;
    r.original_width = image.width;
    r.original_height = image.height;
    if (max_dimension <= 0 || image.empty() || (image.width <= max_dimension && image.height <= max_dimension)) {
        r.image = std::move(image);
        return r;
    }
    int w, h;
    if (image.width >= image.height) {
        w = max_dimension;
        h = int(std::lround(double(image.height) * max_dimension / image.width));
    } else {
        h = max_dimension;
        w = int(std::lround(double(image.width) * max_dimension / image.height));
    }
    if (w < 1) w = 1;
    if (h < 1) h = 1;
    r.image = resize_image(image, w, h);
    r.downscaled = true;
    return r;
}

}  // namespace es
