#include "segmentation/sam.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace es;

TEST(Sam, FrameRoundsLikeResizeLongestSide) {
    SamFrame f = sam_frame(622, 529);
    EXPECT_EQ(f.resized_width, 1024);
    EXPECT_EQ(f.resized_height, 871);  // 529 * 1024 / 622 = 870.9
    SamFrame g = sam_frame(384, 288);
    EXPECT_EQ(g.resized_width, 1024);
    EXPECT_EQ(g.resized_height, 768);
    SamFrame t = sam_frame(300, 1200);
    EXPECT_EQ(t.resized_width, 256);
    EXPECT_EQ(t.resized_height, 1024);
}

TEST(Sam, PreprocessNormalisesAndPadsBottomRight) {
    const int w = 8, h = 4;
    std::vector<uint8_t> rgba(size_t(w) * h * 4);
    for (size_t i = 0; i < rgba.size(); i += 4) {
        rgba[i] = 200;
        rgba[i + 1] = 100;
        rgba[i + 2] = 50;
        rgba[i + 3] = 255;
    }
    SamFrame f = sam_frame(w, h, 16);
    EXPECT_EQ(f.resized_height, 8);
    std::vector<float> t = sam_preprocess(rgba.data(), w, h, 4, f);
    ASSERT_EQ(t.size(), 3u * 16 * 16);
    for (int c = 0; c < 3; ++c) {
        float expect = ((c == 0 ? 200.f : c == 1 ? 100.f : 50.f) - kSamPixelMean[c]) / kSamPixelStd[c];
        EXPECT_NEAR(t[size_t(c) * 256 + 0], expect, 1e-5);            // inside
        EXPECT_NEAR(t[size_t(c) * 256 + 7 * 16 + 15], expect, 1e-5);  // last resized row, last column
        EXPECT_EQ(t[size_t(c) * 256 + 8 * 16 + 0], 0.0f);             // padding below
    }
}

TEST(Sam, ResizeKeepsFlatAndAveragesWhenShrinking) {
    // 4x1 shrunk to 2x1: the triangle filter widens to support 2 (PIL):
    // output 0 is centred at 1.0 and weighs inputs 0, 1, 2 by 3/7, 3/7, 1/7.
    std::vector<uint8_t> px{0, 100, 200, 255};
    auto out = resize_bilinear_antialias(px.data(), 4, 1, 1, 2, 1);
    EXPECT_EQ(out[0], 71);  // (0*3 + 100*3 + 200) / 7 = 71.4
    EXPECT_EQ(out[1], 209);  // (100 + 200*3 + 255*3) / 7 = 209.3
    std::vector<uint8_t> flat(30 * 20 * 3, 77);
    auto up = resize_bilinear_antialias(flat.data(), 30, 20, 3, 97, 61);
    for (uint8_t v : up) ASSERT_EQ(v, 77);
}

TEST(Sam, PromptEncoding) {
    SamFrame f = sam_frame(512, 256);  // scale 2
    SamPrompt p;
    p.points.push_back({{10.5, 20.5}, true});
    p.points.push_back({{100, 50}, false});
    SamDecoderPrompt d = sam_encode_prompt(f, p);
    ASSERT_EQ(d.count(), 3);
    EXPECT_EQ(d.coords, (std::vector<float>{21, 41, 200, 100, 0, 0}));
    EXPECT_EQ(d.labels, (std::vector<float>{1, 0, -1}));  // padding point without a box
    p.has_box = true;
    p.box = Box{10, 20, 30, 40};
    d = sam_encode_prompt(f, p);
    ASSERT_EQ(d.count(), 4);
    EXPECT_EQ(d.labels, (std::vector<float>{1, 0, 2, 3}));
    EXPECT_EQ(std::vector<float>(d.coords.begin() + 4, d.coords.end()), (std::vector<float>{20, 40, 80, 120}));
}

TEST(Sam, PostprocessCropsPaddingAndUpscales) {
    // Logits positive in the left half of the *resized* region only. The image
    // is 2:1, so the resized region is the top half of the 256 grid; the padded
    // bottom half holds +10 that must not leak into the mask.
    SamFrame f = sam_frame(200, 100);
    std::vector<float> low(256 * 256, -10.0f);
    for (int y = 0; y < 256; ++y)
        for (int x = 0; x < 256; ++x) {
            if (y >= 128) low[size_t(y) * 256 + x] = 10.0f;
            else if (x < 128) low[size_t(y) * 256 + x] = 10.0f;
        }
    Mask m = sam_postprocess(low.data(), 256, 256, f);
    ASSERT_EQ(m.width, 200);
    ASSERT_EQ(m.height, 100);
    for (int y = 0; y < 90; ++y) {  // bottom rows blend with the pad: skip them
        EXPECT_EQ(m.at(10, y), 1);
        EXPECT_EQ(m.at(150, y), 0) << y;
    }
    int edge = 0;
    while (edge < 200 && m.at(edge, 50)) ++edge;
    EXPECT_EQ(edge, 100);  // the boundary lands in the middle of the original width
}

TEST(Sam, SelectMask) {
    float iou[4] = {0.9f, 0.5f, 0.8f, 0.7f};
    EXPECT_EQ(sam_select_mask(iou, 4), 0);
    EXPECT_EQ(sam_select_mask(iou, 4, true), 2);
    EXPECT_EQ(sam_select_mask(iou, 1, true), 0);
    EXPECT_EQ(sam_select_mask(iou, 0), -1);
}
