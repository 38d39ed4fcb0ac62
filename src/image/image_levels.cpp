// image_levels.cpp: the CPU reference for brightness/contrast/gamma (see image_levels.h).
#include "image/image_levels.h"

#include <cmath>

namespace es {
namespace {
float clamp_or(float v, float lo, float hi, float fallback) {
    if (std::isnan(v)) return fallback;
    return v < lo ? lo : (v > hi ? hi : v);
}
}  // namespace

Levels Levels::sanitized() const {
    Levels s;
    s.brightness = clamp_or(brightness, kMinBrightness, kMaxBrightness, 0.0f);
    s.contrast = clamp_or(contrast, kMinContrast, kMaxContrast, 1.0f);
    s.gamma = clamp_or(gamma, kMinGamma, kMaxGamma, 1.0f);
    return s;
}

float apply_levels(float c, const Levels& levels) {
    const Levels l = levels.sanitized();
    float x = (c - 0.5f) * l.contrast + 0.5f + l.brightness;
    x = x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x);
    if (x <= 0.0f) return 0.0f;
    return std::pow(x, 1.0f / l.gamma);
}

std::array<uint8_t, 256> levels_lut(const Levels& levels) {
    std::array<uint8_t, 256> lut{};
    for (int i = 0; i < 256; ++i) {
        float out = apply_levels(float(i) / 255.0f, levels);
        lut[size_t(i)] = uint8_t(std::floor(out * 255.0f + 0.5f));
    }
    return lut;
}

void apply_levels(Image& image, const Levels& levels) {
    if (levels.sanitized().is_identity()) return;
    const auto lut = levels_lut(levels);
    for (size_t i = 0; i + 3 < image.rgba.size(); i += 4) {
        image.rgba[i + 0] = lut[image.rgba[i + 0]];
        image.rgba[i + 1] = lut[image.rgba[i + 1]];
        image.rgba[i + 2] = lut[image.rgba[i + 2]];
    }
}

}  // namespace es
