// image_levels.h: brightness, contrast and gamma - the CPU reference for the
// viewer's WGSL shader (shaders/), which must compute exactly this.
//
// THE FORMULA (per colour channel; alpha is never changed):
//   c   = stored channel value / 255, in [0, 1]. The value as stored in the file
//         (sRGB-encoded), i.e. what an rgba8unorm texture - NOT rgba8unorm-srgb -
//         returns from textureSample/textureLoad.
//   x   = (c - 0.5) * contrast + 0.5 + brightness
//   x   = clamp(x, 0, 1)
//   out = x ^ (1 / gamma)                   (and out = 0 when x == 0)
//   8-bit result = floor(out * 255 + 0.5)
// Parameters (defaults give the identity):
//   brightness in [-1, 1], default 0: added to every channel after contrast.
//   contrast   in [0, 4],  default 1: slope about mid-grey 0.5 (0 = flat grey).
//   gamma      in [0.1, 10], default 1: > 1 brightens mid-tones, < 1 darkens.
// Values outside these ranges, or NaN, are replaced by sanitized(): the UI must
// send the sanitized values to the shader so both sides agree.
//
// WGSL equivalent (rgb = textureSample(...).rgb of an rgba8unorm texture):
//   var x = clamp((rgb - vec3(0.5)) * contrast + vec3(0.5) + vec3(brightness), vec3(0.0), vec3(1.0));
//   x = select(pow(x, vec3(1.0 / gamma)), vec3(0.0), x <= vec3(0.0));
#pragma once
#include <array>
#include <cstdint>

#include "image/image.h"

namespace es {

struct Levels {
    float brightness = 0.0f;
    float contrast = 1.0f;
    float gamma = 1.0f;

    static constexpr float kMinBrightness = -1.0f, kMaxBrightness = 1.0f;
    static constexpr float kMinContrast = 0.0f, kMaxContrast = 4.0f;
    static constexpr float kMinGamma = 0.1f, kMaxGamma = 10.0f;

    bool is_identity() const { return brightness == 0.0f && contrast == 1.0f && gamma == 1.0f; }
    // Clamped into the documented ranges; NaN becomes the default.
    Levels sanitized() const;
};

// The formula above for one channel value c in [0, 1] (float arithmetic, as on the GPU).
float apply_levels(float c, const Levels& levels);

// The formula tabulated for every 8-bit input value.
std::array<uint8_t, 256> levels_lut(const Levels& levels);

// Applies the formula to the RGB channels of every pixel in place; alpha is kept.
void apply_levels(Image& image, const Levels& levels);

}  // namespace es
