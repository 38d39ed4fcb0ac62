// mask.h: a binary mask (one byte per pixel, 0 or 1) and the pixel operations
// that annotation and segmentation share: set algebra, thresholding, painting.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace es {

struct Mask {
    int width = 0;
    int height = 0;
    std::vector<uint8_t> data;  // width*height, row-major, values 0 or 1

    Mask() = default;
    Mask(int w, int h, uint8_t value = 0);
    bool empty() const { return width <= 0 || height <= 0; }
    uint8_t at(int x, int y) const { return data[size_t(y) * width + x]; }
    uint8_t& at(int x, int y) { return data[size_t(y) * width + x]; }
    bool inside(int x, int y) const { return x >= 0 && y >= 0 && x < width && y < height; }
    size_t count() const;  // number of set pixels
    bool same_size(const Mask& o) const { return width == o.width && height == o.height; }
    bool operator==(const Mask& o) const { return same_size(o) && data == o.data; }
    bool operator!=(const Mask& o) const { return !(*this == o); }
};

// Set algebra; both masks must have the same size (else an empty mask).
Mask mask_and(const Mask& a, const Mask& b);
Mask mask_or(const Mask& a, const Mask& b);
Mask mask_xor(const Mask& a, const Mask& b);
Mask mask_subtract(const Mask& a, const Mask& b);  // a and not b
Mask mask_not(const Mask& a);
size_t mask_intersection_count(const Mask& a, const Mask& b);

// value > threshold → 1. Used for model logits (threshold 0) and 8-bit masks (127).
Mask mask_from_floats(const float* values, int width, int height, float threshold);
// One channel of an interleaved 8-bit image (e.g. channel 0 of RGBA, or of a gray PNG).
Mask mask_from_bytes(const uint8_t* pixels, int width, int height, int channels, int channel, uint8_t threshold);
// 0/255 gray for PNG export or display.
std::vector<uint8_t> mask_to_gray(const Mask& m);

// Nearest-neighbour resize (pixel centres), for display-size changes.
Mask mask_resize_nearest(const Mask& m, int width, int height);

// Brush and eraser: a disc of radius r centred at (cx, cy) (pixel centre test),
// and a stroke of discs along a segment so fast drags leave no gaps.
void mask_paint_disc(Mask& m, double cx, double cy, double radius, uint8_t value);
void mask_paint_stroke(Mask& m, double x0, double y0, double x1, double y1, double radius, uint8_t value);

// Tight pixel bounds of the set pixels: false when the mask is empty.
bool mask_bounds(const Mask& m, int& x0, int& y0, int& x1, int& y1);  // inclusive

}  // namespace es
