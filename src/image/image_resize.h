// image_resize.h: resampling RGBA8 images (stb_image_resize), and fitting an
// image inside the GPU's maximum texture dimension.
#pragma once
#include "image/image.h"

namespace es {

// Resamples to width x height with stb_image_resize's default filters
// (Mitchell when shrinking, Catmull-Rom when enlarging), in linear light (the
// RGB channels are treated as sRGB) with alpha-weighted colour, so edges against
// transparent pixels do not darken. Returns an empty Image when src is empty or
// the size is not positive.
Image resize_image(const Image& src, int width, int height);

struct FitResult {
    Image image;              // the image, downscaled when needed
    bool downscaled = false;  // true when the original did not fit
    int original_width = 0;
    int original_height = 0;
};

// Returns the image unchanged when both sides are <= max_dimension; otherwise a
// copy scaled down, keeping the aspect ratio, so the longer side is exactly
// max_dimension (the shorter side is rounded, and at least 1). The caller shows
// a notice when downscaled is true. max_dimension <= 0 means "no limit".
FitResult fit_to_max_dimension(Image image, int max_dimension);

}  // namespace es
