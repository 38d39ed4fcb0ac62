// view_transform.h: where the image sits in the viewer.
// screen = offset + scale * image, in canvas CSS pixels; image pixel (i, j)
// covers [i, i+1) x [j, j+1). Zoom keeps the image point under the cursor fixed.
#pragma once
#include <algorithm>
#include <cmath>

namespace esui {

struct Rect {
    float x = 0, y = 0, w = 0, h = 0;
    bool contains(float px, float py) const { return px >= x && py >= y && px < x + w && py < y + h; }
};

struct ViewTransform {
    double scale = 1.0;
    double offset_x = 0.0;
    double offset_y = 0.0;

    static constexpr double kMinScale = 1.0 / 64.0;
    static constexpr double kMaxScale = 64.0;

    double to_screen_x(double ix) const { return offset_x + scale * ix; }
    double to_screen_y(double iy) const { return offset_y + scale * iy; }
    double to_image_x(double sx) const { return (sx - offset_x) / scale; }
    double to_image_y(double sy) const { return (sy - offset_y) / scale; }

    // Multiplies the scale by `factor` (clamped) keeping (sx, sy) fixed.
    void zoom_at(double factor, double sx, double sy) {
        const double ix = to_image_x(sx), iy = to_image_y(sy);
        scale = std::clamp(scale * factor, kMinScale, kMaxScale);
        offset_x = sx - scale * ix;
        offset_y = sy - scale * iy;
    }
    void pan(double dx, double dy) {
        offset_x += dx;
        offset_y += dy;
    }
    // Whole image visible and centred in `area`.
    void fit(int image_w, int image_h, const Rect& area) {
        if (image_w <= 0 || image_h <= 0 || area.w <= 0 || area.h <= 0) return;
        scale = std::clamp(std::min(area.w / double(image_w), area.h / double(image_h)), kMinScale, kMaxScale);
        center(image_w, image_h, area);
    }
    // One image pixel per CSS pixel, centred; pixel-aligned so 1:1 is exact.
    void one_to_one(int image_w, int image_h, const Rect& area) {
        scale = 1.0;
        center(image_w, image_h, area);
        offset_x = std::round(offset_x);
        offset_y = std::round(offset_y);
    }
    void center(int image_w, int image_h, const Rect& area) {
        offset_x = area.x + (area.w - scale * image_w) / 2.0;
        offset_y = area.y + (area.h - scale * image_h) / 2.0;
    }
};

}  // namespace esui
