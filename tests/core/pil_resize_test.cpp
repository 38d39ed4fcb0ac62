// pil_resize must give Pillow's bytes. The expected arrays below were printed
// by Debian's python3-pil 9.4.0 (Image.fromarray(src).resize((w, h), resample=f))
// for the 7x5 RGB image that source() builds; tests/python/test_pil_preprocess.py
// compares many more sizes, every filter and real endoscopy images.
#include <gtest/gtest.h>

#include <vector>

#include "image/pil_resize.h"

using namespace es;

static std::vector<uint8_t> source() {
    std::vector<uint8_t> a;
    for (int y = 0; y < 5; ++y)
        for (int x = 0; x < 7; ++x)
            for (int c = 0; c < 3; ++c) a.push_back(uint8_t((x * 37 + y * 11 + c * 50 + (x * y * 13) % 17) % 256));
    return a;
}

static std::vector<uint8_t> resized(int w, int h, PilFilter f) {
    std::vector<uint8_t> out;
    const auto src = source();
    EXPECT_TRUE(pil_resize(src.data(), 7, 5, 3, w, h, f, &out));
    return out;
}

TEST(PilResize, MatchesPillowBytes) {
    EXPECT_EQ(resized(3, 4, PilFilter::Bilinear),
              (std::vector<uint8_t>{37, 87, 137, 115, 162, 185, 195, 127, 81, 53, 103, 153, 133, 168, 158, 214, 63, 58,
                                    64, 114, 164, 148, 183, 111, 174, 75, 71, 75, 125, 175, 157, 192, 76, 146, 86, 81}));
    EXPECT_EQ(resized(11, 3, PilFilter::Bilinear),
              (std::vector<uint8_t>{5,   55,  105, 24,  74,  124, 50,  100, 150, 73,  123, 173, 95,  145, 195, 118, 168,
                                    218, 141, 191, 171, 165, 185, 115, 192, 142, 49,  215, 76,  59,  231, 25,  75,  22,
                                    72,  122, 43,  93,  143, 71,  121, 171, 92,  142, 192, 116, 166, 196, 143, 193, 186,
                                    161, 211, 78,  185, 165, 29,  214, 31,  58,  205, 30,  80,  194, 45,  95,  39,  89,
                                    139, 57,  107, 157, 82,  132, 182, 108, 158, 208, 133, 183, 140, 158, 208, 2,   179,
                                    229, 23,  201, 182, 45,  227, 44,  71,  112, 46,  96,  14,  64,  114}));
    EXPECT_EQ(resized(4, 9, PilFilter::Bicubic),
              (std::vector<uint8_t>{14,  64,  114, 75,  125, 181, 144, 208, 212, 205, 124, 48,  19,  69,  119, 82,  134,
                                    189, 149, 194, 167, 213, 90,  53,  30,  80,  130, 95,  151, 205, 158, 169, 84,  228,
                                    28,  63,  37,  87,  136, 100, 157, 216, 165, 169, 76,  241, 16,  66,  41,  91,  141,
                                    104, 160, 215, 173, 180, 88,  236, 27,  70,  46,  96,  152, 114, 170, 178, 186, 187,
                                    49,  164, 35,  84,  51,  101, 162, 122, 178, 147, 197, 193, 17,  104, 43,  97,  57,
                                    107, 167, 123, 179, 149, 201, 198, 22,  110, 47,  100, 60,  110, 170, 123, 179, 152,
                                    203, 201, 28,  117, 48,  101}));
    EXPECT_EQ(resized(3, 2, PilFilter::Lanczos),
              (std::vector<uint8_t>{37, 86, 149, 124, 179, 178, 215, 89, 60, 60, 113, 181, 165, 202, 93, 164, 70, 64}));
}

TEST(PilResize, SameSizeCopiesAndBadSizesFail) {
    const auto src = source();
    std::vector<uint8_t> out;
    ASSERT_TRUE(pil_resize(src.data(), 7, 5, 3, 7, 5, PilFilter::Bilinear, &out));
    EXPECT_EQ(out, src);
    EXPECT_FALSE(pil_resize(src.data(), 7, 5, 3, 0, 5, PilFilter::Bilinear, &out));
    EXPECT_FALSE(pil_resize(src.data(), 7, 5, 5, 3, 3, PilFilter::Bilinear, &out));
    EXPECT_FALSE(pil_resize(nullptr, 7, 5, 3, 3, 3, PilFilter::Bilinear, &out));
}
