// Preprocessing must reproduce the oracle's pixel_values.npy from image.png.
#include <gtest/gtest.h>

#include <cmath>

#include "assistant/image_preprocess.h"
#include "image/npy.h"
#include "test_files.h"

using namespace es;

TEST(ImagePreprocess, ParsesTinyConfig) {
    ImagePreprocessConfig c;
    std::string err;
    ASSERT_TRUE(parse_preprocessor_config(es_test::read_text(es_test::tiny_dir() + "/checkpoint/preprocessor_config.json"),
                                          &c, &err)) << err;
    EXPECT_EQ(c.width, 64);
    EXPECT_EQ(c.height, 64);
    EXPECT_EQ(c.resample, 2);
    EXPECT_NEAR(c.rescale_factor, 1.0 / 255, 1e-9);
    EXPECT_FLOAT_EQ(c.mean[1], 0.5f);
    EXPECT_FALSE(c.do_pan_and_scan);
}

TEST(ImagePreprocess, RejectsBadConfig) {
    ImagePreprocessConfig c;
    std::string err;
    EXPECT_FALSE(parse_preprocessor_config("{not json", &c, &err));
    EXPECT_NE(err.find("preprocessor_config.json"), std::string::npos);
    EXPECT_FALSE(parse_preprocessor_config(R"({"size": {"height": -3, "width": 5}})", &c, &err));
    EXPECT_FALSE(parse_preprocessor_config(R"({"image_std": [0.5, 0, 0.5]})", &c, &err));
    EXPECT_FALSE(parse_preprocessor_config(R"({"do_resize": "yes"})", &c, &err));
    EXPECT_NE(err.find("type"), std::string::npos);
}

TEST(ImagePreprocess, ReproducesGoldenPixelValues) {
    auto png = es_test::read_bytes(es_test::tiny_dir() + "/golden/image.png");
    auto decoded = decode_image(png.data(), png.size());
    ASSERT_TRUE(decoded.ok) << decoded.error;
    ImagePreprocessConfig c;
    std::string err;
    ASSERT_TRUE(parse_preprocessor_config(
        es_test::read_text(es_test::tiny_dir() + "/checkpoint/preprocessor_config.json"), &c, &err));
    PixelValues pv;
    ASSERT_TRUE(preprocess_image(decoded.image, c, &pv, &err)) << err;

    auto npy_bytes = es_test::read_bytes(es_test::tiny_dir() + "/golden/pixel_values.npy");
    NpyArray golden;
    ASSERT_TRUE(parse_npy(npy_bytes.data(), npy_bytes.size(), &golden, &err)) << err;
    ASSERT_EQ(golden.shape, (std::vector<int64_t>{1, 3, 64, 64}));
    ASSERT_EQ(pv.data.size(), golden.f32.size());
    double max_diff = 0;
    for (size_t i = 0; i < pv.data.size(); ++i) max_diff = std::max(max_diff, double(std::fabs(pv.data[i] - golden.f32[i])));
    // The oracle computed (x/255 - 0.5)/0.5 in float32; we compute x*(1/255) then
    // normalise: at most a couple of float32 ulps apart.
    EXPECT_LE(max_diff, 1e-6) << "max |diff| = " << max_diff;
}

TEST(ImagePreprocess, ResizesAndDropsAlpha) {
    Image img;
    img.width = 10;
    img.height = 6;
    img.rgba.assign(10 * 6 * 4, 0);
    for (size_t i = 0; i < img.rgba.size(); i += 4) {
        img.rgba[i] = 255; img.rgba[i + 1] = 0; img.rgba[i + 2] = 0; img.rgba[i + 3] = 7;  // alpha ignored
    }
    ImagePreprocessConfig c;
    c.width = c.height = 4;
    PixelValues pv;
    std::string err;
    ASSERT_TRUE(preprocess_image(img, c, &pv, &err)) << err;
    ASSERT_EQ(pv.data.size(), 3u * 16);
    for (int i = 0; i < 16; ++i) {
        EXPECT_NEAR(pv.data[i], 1.0f, 1e-6);        // red plane
        EXPECT_NEAR(pv.data[16 + i], -1.0f, 1e-6);  // green plane
    }
    Image empty;
    EXPECT_FALSE(preprocess_image(empty, c, &pv, &err));
}

TEST(ImagePreprocess, ExpandsImageTokensLikeGolden) {
    auto g = es_test::golden();
    std::string prompt = "<start_of_turn>user\n<start_of_image>What is shown in this image?<end_of_turn>\n<start_of_turn>model\n";
    EXPECT_EQ(expand_image_tokens(prompt, "<start_of_image>", "<image_soft_token>", "<end_of_image>", 16),
              g["turn1_text"].get<std::string>());
    EXPECT_EQ(expand_image_tokens("no image", "<start_of_image>", "x", "y", 3), "no image");
}

TEST(ImagePreprocess, PanAndScanCropsFollowTransformers) {
    ImagePreprocessConfig c;
    EXPECT_TRUE(pan_and_scan_crops(622, 530, c).empty());  // off unless the config enables it
    std::string err;
    ASSERT_TRUE(parse_preprocessor_config(
        R"({"do_pan_and_scan": true, "pan_and_scan_min_crop_size": null, "pan_and_scan_max_num_crops": null,
            "pan_and_scan_min_ratio_to_activate": null, "size": {"height": 32, "width": 32}})", &c, &err)) << err;
    EXPECT_TRUE(c.do_pan_and_scan);
    EXPECT_EQ(c.pan_and_scan_min_crop_size, 256);  // nulls take Gemma3Processor's defaults
    EXPECT_EQ(c.pan_and_scan_max_num_crops, 4);
    EXPECT_DOUBLE_EQ(c.pan_and_scan_min_ratio_to_activate, 1.2);
    EXPECT_TRUE(pan_and_scan_crops(622, 530, c).empty());  // ratio 1.17 < 1.2
    EXPECT_TRUE(pan_and_scan_crops(384, 288, c).empty());  // 2 crops of 192 < 256
    // Portrait 421x547 (a kvasir-seg size): two crops of 421x274, the last cut at the edge.
    auto crops = pan_and_scan_crops(421, 547, c);
    ASSERT_EQ(crops.size(), 2u);
    EXPECT_EQ(crops[1].y, 274);
    EXPECT_EQ(crops[1].height, 273);
    EXPECT_EQ(crops[1].width, 421);
    // Wide: round(2000 / 500) = 4 crops of 500.
    crops = pan_and_scan_crops(2000, 500, c);
    ASSERT_EQ(crops.size(), 4u);
    EXPECT_EQ(crops[3].x, 1500);
    c.pan_and_scan_max_num_crops = 3;
    EXPECT_EQ(pan_and_scan_crops(2000, 500, c).size(), 3u);

    // pixel_values hold the image, then each crop.
    Image img;
    img.width = 90;
    img.height = 30;
    img.rgba.assign(size_t(90) * 30 * 4, 200);
    c.pan_and_scan_min_crop_size = 20;
    PixelValues pv;
    ASSERT_TRUE(preprocess_image(img, c, &pv, &err)) << err;
    EXPECT_EQ(pv.images, 4);  // the image and floor(90 / 30 + 0.5) = 3 crops of 30x30
    EXPECT_EQ(pv.data.size(), size_t(4) * 3 * 32 * 32);
    EXPECT_FALSE(parse_preprocessor_config(R"({"do_pan_and_scan": true, "pan_and_scan_min_crop_size": 0})", &c, &err));
    EXPECT_NE(err.find("pan-and-scan"), std::string::npos);
}

TEST(ImagePreprocess, ExpandsPanAndScanCropsLikeGemma3Processor) {
    const std::string out = expand_image_tokens("A<boi>B", "<boi>", "x", "<eoi>", 2, {2});
    EXPECT_EQ(out, "AHere is the original image \n\n<boi>xx<eoi>\n\n and here are some crops to help you see better "
                   "\n\n<boi>xx<eoi>\n\n \n\n<boi>xx<eoi>\n\nB");
}
