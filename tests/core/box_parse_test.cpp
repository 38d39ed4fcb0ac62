#include <gtest/gtest.h>

#include "assistant/box_parse.h"

using namespace es;

static BoxParseOptions opts(BoxFormat f, int w = 800, int h = 600, BoxOrder o = BoxOrder::XYXY) {
    BoxParseOptions p;
    p.format = f;
    p.image_width = w;
    p.image_height = h;
    p.order = o;
    return p;
}

TEST(BoxParse, Normalised01) {
    auto b = parse_boxes("The polyp is at [0.25, 0.5, 0.75, 1.0].", opts(BoxFormat::Auto));
    ASSERT_EQ(b.size(), 1u);
    EXPECT_FLOAT_EQ(b[0].x1, 200); EXPECT_FLOAT_EQ(b[0].y1, 300);
    EXPECT_FLOAT_EQ(b[0].x2, 600); EXPECT_FLOAT_EQ(b[0].y2, 600);
    EXPECT_EQ(b[0].format, BoxFormat::Normalized1);
    EXPECT_EQ(b[0].begin, 16u);
}

TEST(BoxParse, Normalised1000YFirstWithJsonLabel) {
    const std::string t = R"([{"box_2d": [100, 250, 500, 750], "label": "polyp"}])";
    auto b = parse_boxes(t, opts(BoxFormat::Normalized1000, 800, 600, BoxOrder::YXYX));
    ASSERT_EQ(b.size(), 1u);
    EXPECT_FLOAT_EQ(b[0].x1, 200); EXPECT_FLOAT_EQ(b[0].x2, 600);
    EXPECT_FLOAT_EQ(b[0].y1, 60);  EXPECT_FLOAT_EQ(b[0].y2, 300);
    EXPECT_EQ(b[0].label, "polyp");
}

TEST(BoxParse, PixelsClampedAndSwapped) {
    auto b = parse_boxes("box: [700, 500, 100, 900]", opts(BoxFormat::Pixels));
    ASSERT_EQ(b.size(), 1u);
    EXPECT_FLOAT_EQ(b[0].x1, 100); EXPECT_FLOAT_EQ(b[0].x2, 700);
    EXPECT_FLOAT_EQ(b[0].y1, 500); EXPECT_FLOAT_EQ(b[0].y2, 600);  // clamped to the image
}

TEST(BoxParse, PaliGemmaLocTokens) {
    auto b = parse_boxes("<loc0256><loc0128><loc0768><loc0896> polyp ; <loc0000><loc0000><loc0512><loc0512> ulcer",
                         opts(BoxFormat::Auto, 1024, 512));
    ASSERT_EQ(b.size(), 2u);
    EXPECT_FLOAT_EQ(b[0].y1, 128); EXPECT_FLOAT_EQ(b[0].x1, 128);
    EXPECT_FLOAT_EQ(b[0].y2, 384); EXPECT_FLOAT_EQ(b[0].x2, 896);
    EXPECT_EQ(b[0].label, "polyp");
    EXPECT_EQ(b[1].label, "ulcer");
    EXPECT_EQ(b[1].format, BoxFormat::PaliGemmaLoc);
}

TEST(BoxParse, IgnoresNonBoxesAndBadValues) {
    auto o = opts(BoxFormat::Auto);
    EXPECT_TRUE(parse_boxes("see [1] and [a, b, c, d] and [1, 2, 3]", o).empty());
    EXPECT_TRUE(parse_boxes("[0.5, 0.5, 0.5, 0.9]", o).empty());  // zero width
    EXPECT_TRUE(parse_boxes("[-5, 2, 30, 40]", o).empty());
    EXPECT_TRUE(parse_boxes("[0.1, 0.2, 0.3, 0.4]", opts(BoxFormat::Auto, 0, 0)).empty());
    EXPECT_TRUE(parse_boxes("<loc0012><loc0013> half", o).empty());
    // Declared 0-1 but the numbers are not: refused, not silently rescaled.
    EXPECT_TRUE(parse_boxes("[10, 20, 30, 40]", opts(BoxFormat::Normalized1)).empty());
}

TEST(BoxParse, FormatRoundTrips) {
    for (BoxFormat f : {BoxFormat::Normalized1, BoxFormat::Normalized1000, BoxFormat::Pixels, BoxFormat::PaliGemmaLoc}) {
        auto o = opts(f, 1000, 500);
        std::string s = format_box(100, 50, 600, 400, o);
        auto b = parse_boxes(s, o);
        ASSERT_EQ(b.size(), 1u) << s;
        const float tol = f == BoxFormat::PaliGemmaLoc ? 1.0f : 0.6f;
        EXPECT_NEAR(b[0].x1, 100, tol) << s; EXPECT_NEAR(b[0].y1, 50, tol) << s;
        EXPECT_NEAR(b[0].x2, 600, tol) << s; EXPECT_NEAR(b[0].y2, 400, tol) << s;
    }
    EXPECT_EQ(format_box(100, 50, 600, 400, opts(BoxFormat::Normalized1000, 1000, 500, BoxOrder::YXYX)), "[100, 100, 800, 600]");
    BoxFormat f;
    EXPECT_TRUE(parse_box_format("paligemma_loc", &f));
    EXPECT_EQ(f, BoxFormat::PaliGemmaLoc);
    EXPECT_FALSE(parse_box_format("furlongs", &f));
}
