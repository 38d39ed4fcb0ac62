// Tests for resize_image() and fit_to_max_dimension().
#include <gtest/gtest.h>

#include "image/image_resize.h"

namespace {

es::Image solid(int w, int h, uint8_t r, uint8_t g, uint8_t b, uint8_t a = 255) {
    es::Image img;
    img.width = w;
    img.height = h;
    img.rgba.resize(size_t(w) * h * 4);
    for (size_t i = 0; i < img.rgba.size(); i += 4) {
        img.rgba[i] = r;
        img.rgba[i + 1] = g;
        img.rgba[i + 2] = b;
        img.rgba[i + 3] = a;
    }
    return img;
}

TEST(ResizeImage, UniformColourStaysUniform) {
    es::Image out = es::resize_image(solid(64, 48, 200, 90, 80), 16, 12);
    ASSERT_EQ(out.width, 16);
    ASSERT_EQ(out.height, 12);
    ASSERT_EQ(out.rgba.size(), 16u * 12 * 4);
    for (size_t i = 0; i < out.rgba.size(); i += 4) {
        EXPECT_NEAR(out.rgba[i], 200, 1);
        EXPECT_NEAR(out.rgba[i + 1], 90, 1);
        EXPECT_NEAR(out.rgba[i + 2], 80, 1);
        EXPECT_EQ(out.rgba[i + 3], 255);
    }
}

TEST(ResizeImage, HalvesKeepTheirSides) {
    // Left half black, right half white: after 4x shrink the sides stay dark/bright
    // and the middle column is in between (linear-light average is brighter than 128).
    es::Image img = solid(64, 8, 0, 0, 0);
    for (int y = 0; y < 8; ++y)
        for (int x = 32; x < 64; ++x) img.pixel(x, y)[0] = img.pixel(x, y)[1] = img.pixel(x, y)[2] = 255;
    es::Image out = es::resize_image(img, 16, 2);
    ASSERT_EQ(out.width, 16);
    EXPECT_LT(out.pixel(0, 0)[0], 5);
    EXPECT_GT(out.pixel(15, 1)[0], 250);
    EXPECT_LT(out.pixel(6, 0)[0], out.pixel(9, 0)[0]);
}

TEST(ResizeImage, TransparentPixelsDoNotBleedColour) {
    // Opaque red next to fully transparent green: the green must not tint the red.
    es::Image img = solid(32, 4, 0, 255, 0, 0);
    for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 16; ++x) {
            uint8_t* p = img.pixel(x, y);
            p[0] = 255, p[1] = 0, p[2] = 0, p[3] = 255;
        }
    es::Image out = es::resize_image(img, 8, 1);
    for (int x = 0; x < 8; ++x) {
        const uint8_t* p = out.pixel(x, 0);
        if (p[3] > 8) EXPECT_LT(p[1], 16) << "x=" << x;
    }
}

TEST(ResizeImage, BadArgumentsGiveEmpty) {
    EXPECT_TRUE(es::resize_image(es::Image{}, 4, 4).empty());
    EXPECT_TRUE(es::resize_image(solid(4, 4, 1, 2, 3), 0, 4).empty());
    EXPECT_TRUE(es::resize_image(solid(4, 4, 1, 2, 3), 4, -1).empty());
    es::Image broken = solid(4, 4, 1, 2, 3);
    broken.rgba.resize(10);
    EXPECT_TRUE(es::resize_image(broken, 2, 2).empty());
}

TEST(FitToMaxDimension, SmallImagesAreUntouched) {
    es::Image img = solid(300, 200, 9, 8, 7);
    es::FitResult r = es::fit_to_max_dimension(img, 300);
    EXPECT_FALSE(r.downscaled);
    EXPECT_EQ(r.image.rgba, img.rgba);
    EXPECT_EQ(r.original_width, 300);
    EXPECT_EQ(r.original_height, 200);
    EXPECT_FALSE(es::fit_to_max_dimension(img, 0).downscaled);  // no limit
}

TEST(FitToMaxDimension, WideAndTallImagesShrinkToTheLimit) {
    es::FitResult wide = es::fit_to_max_dimension(solid(5000, 100, 1, 2, 3), 4096);
    EXPECT_TRUE(wide.downscaled);
    EXPECT_EQ(wide.image.width, 4096);
    EXPECT_EQ(wide.image.height, 82);  // 100 * 4096 / 5000 = 81.92
    EXPECT_EQ(wide.original_width, 5000);
    EXPECT_EQ(wide.original_height, 100);

    es::FitResult tall = es::fit_to_max_dimension(solid(30, 900, 1, 2, 3), 300);
    EXPECT_TRUE(tall.downscaled);
    EXPECT_EQ(tall.image.width, 10);
    EXPECT_EQ(tall.image.height, 300);

    es::FitResult sliver = es::fit_to_max_dimension(solid(2000, 1, 1, 2, 3), 100);
    EXPECT_EQ(sliver.image.width, 100);
    EXPECT_EQ(sliver.image.height, 1);  // never 0
}

}  // namespace
