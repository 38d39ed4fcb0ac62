// Tests for the brightness/contrast/gamma reference formula (image_levels.h).
// The expected numbers are worked out by hand from the documented formula, so
// the WGSL shader's end-to-end test can use the same ones.
#include <gtest/gtest.h>

#include <cmath>

#include "image/image_levels.h"

namespace {

es::Levels levels(float b, float c, float g) {
    es::Levels l;
    l.brightness = b;
    l.contrast = c;
    l.gamma = g;
    return l;
}

TEST(Levels, DefaultIsIdentity) {
    es::Levels l;
    EXPECT_TRUE(l.is_identity());
    auto lut = es::levels_lut(l);
    for (int i = 0; i < 256; ++i) EXPECT_EQ(lut[size_t(i)], i);
}

TEST(Levels, BrightnessAdds) {
    EXPECT_NEAR(es::apply_levels(0.5f, levels(0.1f, 1, 1)), 0.6f, 1e-6);
    EXPECT_NEAR(es::apply_levels(0.5f, levels(-0.25f, 1, 1)), 0.25f, 1e-6);
    EXPECT_EQ(es::apply_levels(0.95f, levels(0.2f, 1, 1)), 1.0f);  // clamped
    EXPECT_EQ(es::apply_levels(0.05f, levels(-0.2f, 1, 1)), 0.0f);
}

TEST(Levels, ContrastPivotsAroundMidGrey) {
    EXPECT_NEAR(es::apply_levels(0.5f, levels(0, 3, 1)), 0.5f, 1e-6);
    EXPECT_NEAR(es::apply_levels(0.6f, levels(0, 2, 1)), 0.7f, 1e-6);
    EXPECT_NEAR(es::apply_levels(0.4f, levels(0, 2, 1)), 0.3f, 1e-6);
    EXPECT_NEAR(es::apply_levels(0.9f, levels(0, 0, 1)), 0.5f, 1e-6);  // flat grey
}

TEST(Levels, GammaAboveOneBrightensMidTones) {
    EXPECT_NEAR(es::apply_levels(0.25f, levels(0, 1, 2)), 0.5f, 1e-6);
    EXPECT_NEAR(es::apply_levels(0.25f, levels(0, 1, 0.5f)), 0.0625f, 1e-6);
    EXPECT_EQ(es::apply_levels(0.0f, levels(0, 1, 0.1f)), 0.0f);
    EXPECT_EQ(es::apply_levels(1.0f, levels(0, 1, 5)), 1.0f);
}

TEST(Levels, OrderIsContrastThenBrightnessThenGamma) {
    // c = 0.3: (0.3 - 0.5) * 1.5 + 0.5 + 0.1 = 0.3, then 0.3^(1/2)
    EXPECT_NEAR(es::apply_levels(0.3f, levels(0.1f, 1.5f, 2)), std::sqrt(0.3f), 1e-6);
    auto lut = es::levels_lut(levels(0.1f, 1.5f, 2));
    // Worked values for the shader test: 0 -> 0, 51 (0.2) -> 0.15^0.5 = 0.3873 -> 99,
    // 128 -> (0.50196*1.5-0.25+0.1... ) see below, 255 -> 255.
    EXPECT_EQ(lut[0], 0);
    EXPECT_EQ(lut[51], 99);
    EXPECT_EQ(lut[128], uint8_t(std::floor(std::sqrt((128 / 255.0f - 0.5f) * 1.5f + 0.6f) * 255 + 0.5f)));
    EXPECT_EQ(lut[255], 255);
}

TEST(Levels, OutOfRangeAndNanAreSanitized) {
    es::Levels s = levels(5, -1, 0).sanitized();
    EXPECT_EQ(s.brightness, 1.0f);
    EXPECT_EQ(s.contrast, 0.0f);
    EXPECT_EQ(s.gamma, 0.1f);
    s = levels(std::nanf(""), std::nanf(""), std::nanf("")).sanitized();
    EXPECT_TRUE(s.is_identity());
    EXPECT_TRUE(std::isfinite(es::apply_levels(0.5f, levels(0, 1, 0))));  // no division by zero
}

TEST(Levels, ImageKeepsAlpha) {
    es::Image img;
    img.width = 2;
    img.height = 1;
    img.rgba = {64, 128, 192, 10, 0, 255, 51, 200};
    es::apply_levels(img, levels(0, 1, 2));
    // 64/255 = 0.25098 -> sqrt = 0.50098 -> 128; 128 -> 0.70849 -> 181; 192 -> 0.86772 -> 221
    EXPECT_EQ(img.rgba, (std::vector<uint8_t>{128, 181, 221, 10, 0, 255, 114, 200}));
}

}  // namespace
