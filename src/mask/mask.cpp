#include "mask/mask.h"

#include <algorithm>
#include <cmath>

namespace es {

Mask::Mask(int w, int h, uint8_t value)
    : width(w > 0 ? w : 0), height(h > 0 ? h : 0), data(size_t(width) * height, value ? 1 : 0) {}

size_t Mask::count() const {
    size_t n = 0;
    for (uint8_t v : data) n += v != 0;
    return n;
}

template <class F>
static Mask combine(const Mask& a, const Mask& b, F f) {
    if (!a.same_size(b)) return Mask();
    Mask r(a.width, a.height);
    for (size_t i = 0; i < r.data.size(); ++i) r.data[i] = f(a.data[i] != 0, b.data[i] != 0) ? 1 : 0;
    return r;
}

Mask mask_and(const Mask& a, const Mask& b) { return combine(a, b, [](bool x, bool y) { return x && y; }); }
Mask mask_or(const Mask& a, const Mask& b) { return combine(a, b, [](bool x, bool y) { return x || y; }); }
Mask mask_xor(const Mask& a, const Mask& b) { return combine(a, b, [](bool x, bool y) { return x != y; }); }
Mask mask_subtract(const Mask& a, const Mask& b) { return combine(a, b, [](bool x, bool y) { return x && !y; }); }

Mask mask_not(const Mask& a) {
    Mask r(a.width, a.height);
    for (size_t i = 0; i < r.data.size(); ++i) r.data[i] = a.data[i] ? 0 : 1;
    return r;
}

size_t mask_intersection_count(const Mask& a, const Mask& b) {
    if (!a.same_size(b)) return 0;
    size_t n = 0;
    for (size_t i = 0; i < a.data.size(); ++i) n += (a.data[i] && b.data[i]);
    return n;
}

Mask mask_from_floats(const float* values, int width, int height, float threshold) {
    Mask m(width, height);
    for (size_t i = 0; i < m.data.size(); ++i) m.data[i] = values[i] > threshold ? 1 : 0;
    return m;
}

Mask mask_from_bytes(const uint8_t* pixels, int width, int height, int channels, int channel, uint8_t threshold) {
    Mask m(width, height);
    if (channels <= 0 || channel < 0 || channel >= channels) return m;
    for (size_t i = 0; i < m.data.size(); ++i) m.data[i] = pixels[i * channels + channel] > threshold ? 1 : 0;
    return m;
}

std::vector<uint8_t> mask_to_gray(const Mask& m) {
    std::vector<uint8_t> g(m.data.size());
    for (size_t i = 0; i < g.size(); ++i) g[i] = m.data[i] ? 255 : 0;
    return g;
}

Mask mask_resize_nearest(const Mask& m, int width, int height) {
    Mask r(width, height);
    if (m.empty() || r.empty()) return r;
    for (int y = 0; y < r.height; ++y) {
        int sy = std::min(m.height - 1, int((y + 0.5) * m.height / r.height));
        for (int x = 0; x < r.width; ++x) {
            int sx = std::min(m.width - 1, int((x + 0.5) * m.width / r.width));
            r.at(x, y) = m.at(sx, sy);
        }
    }
    return r;
}

void mask_paint_disc(Mask& m, double cx, double cy, double radius, uint8_t value) {
    if (m.empty() || !(radius > 0) || !std::isfinite(cx) || !std::isfinite(cy)) return;
    int y0 = std::max(0, int(std::floor(cy - radius)));
    int y1 = std::min(m.height - 1, int(std::ceil(cy + radius)));
    int x0 = std::max(0, int(std::floor(cx - radius)));
    int x1 = std::min(m.width - 1, int(std::ceil(cx + radius)));
    double r2 = radius * radius;
    for (int y = y0; y <= y1; ++y)
        for (int x = x0; x <= x1; ++x) {
            double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
            if (dx * dx + dy * dy <= r2) m.at(x, y) = value ? 1 : 0;
        }
}

void mask_paint_stroke(Mask& m, double x0, double y0, double x1, double y1, double radius, uint8_t value) {
    double len = std::hypot(x1 - x0, y1 - y0);
    if (!std::isfinite(len)) return;
    // Steps of at most half a radius keep the swept band free of gaps.
    int steps = std::max(1, int(std::ceil(len / std::max(0.5, radius * 0.5))));
    steps = std::min(steps, 100000);
    for (int i = 0; i <= steps; ++i) {
        double t = double(i) / steps;
        mask_paint_disc(m, x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, radius, value);
    }
}

bool mask_bounds(const Mask& m, int& x0, int& y0, int& x1, int& y1) {
    x0 = m.width; y0 = m.height; x1 = -1; y1 = -1;
    for (int y = 0; y < m.height; ++y)
        for (int x = 0; x < m.width; ++x)
            if (m.at(x, y)) {
                x0 = std::min(x0, x); x1 = std::max(x1, x);
                y0 = std::min(y0, y); y1 = std::max(y1, y);
            }
    return x1 >= 0;
}

}  // namespace es
