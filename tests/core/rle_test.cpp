#include "mask/rle.h"

#include <gtest/gtest.h>

#include <random>

using namespace es;

TEST(Rle, ColumnMajorCountsStartWithZeros) {
    // 2 rows x 3 columns; column-major pixels [0,0, 1,1, 1,0]
    Mask m(3, 2);
    m.at(1, 0) = m.at(1, 1) = m.at(2, 0) = 1;
    Rle r = rle_encode(m);
    EXPECT_EQ(r.height, 2);
    EXPECT_EQ(r.width, 3);
    EXPECT_EQ(r.counts, (std::vector<uint32_t>{2, 3, 1}));
    Mask full(2, 2, 1);
    EXPECT_EQ(rle_encode(full).counts, (std::vector<uint32_t>{0, 4}));
    EXPECT_EQ(rle_area(r), 3u);
    double box[4];
    rle_bbox(r, box);
    EXPECT_EQ(box[0], 1);
    EXPECT_EQ(box[1], 0);
    EXPECT_EQ(box[2], 2);
    EXPECT_EQ(box[3], 2);
}

TEST(Rle, CompressedStringByHand) {
    // Counts after the second are stored as differences to the count two before:
    // [0,5,10,2,1] -> 0, 5, 10 (':' = 48+10), 2-5 = -3 -> 29 -> 'M', 1-10 = -9 -> 23 -> 'G'.
    EXPECT_EQ(rle_to_string(Rle{2, 3, {2, 3, 1}}), "231");
    Rle d{3, 6, {0, 5, 10, 2, 1}};
    EXPECT_EQ(rle_to_string(d), "05:MG");
    // A count of 40 needs two 5-bit groups: 40 = 8 + 1*32 -> (8|0x20)+48 = 'X', 1+48 = '1'.
    EXPECT_EQ(rle_to_string(Rle{40, 1, {40}}), "X1");
    Rle back;
    ASSERT_TRUE(rle_from_string("05:MG", 3, 6, back));
    EXPECT_EQ(back, d);
}

TEST(Rle, PycocotoolsStringRoundTrip) {
    // An RLE written by pycocotools (50 x 70 mask, as quoted in the README of
    // armengot/COCOtoolsFORK). pycocotools' output is canonical, so decoding
    // and re-encoding must give the same bytes.
    const std::string s =
        "0g05b08J4M2N2NA^O1`0OCO=0E090H080IO68DH;>@C>a0_O_O`0j0OWOF<:CM72I24NL43JM92FN;1ENKO72L0LO91J0MO92INO0NO122OO0"
        "M031O000NO31OO11MO40N011MO41MO21L06OL021L06OL021L06OL021L060J040L060J040L060J040L060J040L060J040L060J040L060KO31"
        "L060KO31L06OL021L06OL021L06OL021MO41MO21MO40N100NO310O00M0310O00NO1220NO92IONO91KOMO72M0<1EO:2GN63KM34OLM73JF<;"
        "=1G_O_Ob0=AC`07EH=1IO71H090F0:1DO>1_O1b0>2N2N3L6H]O";
    Rle r;
    std::string err;
    ASSERT_TRUE(rle_from_string(s, 50, 70, r, &err)) << err;
    Mask m;
    ASSERT_TRUE(rle_decode(r, m));
    EXPECT_GT(m.count(), 500u);
    EXPECT_EQ(rle_encode(m), r);
    EXPECT_EQ(rle_to_string(r), s);
}

TEST(Rle, RandomMasksRoundTrip) {
    std::mt19937 rng(7);
    for (int t = 0; t < 50; ++t) {
        int w = 1 + int(rng() % 70), h = 1 + int(rng() % 70);
        Mask m(w, h);
        int p = int(rng() % 100);
        for (auto& v : m.data) v = int(rng() % 100) < p;
        Rle r = rle_encode(m);
        EXPECT_EQ(rle_area(r), m.count());
        Mask back;
        ASSERT_TRUE(rle_decode(r, back));
        EXPECT_EQ(back, m);
        Rle parsed;
        std::string err;
        ASSERT_TRUE(rle_from_string(rle_to_string(r), h, w, parsed, &err)) << err;
        EXPECT_EQ(parsed, r);
    }
    // Long runs (> 2^16) survive too.
    Mask big(700, 300);
    for (int y = 0; y < 300; ++y)
        for (int x = 350; x < 700; ++x) big.at(x, y) = 1;
    Rle rb;
    ASSERT_TRUE(rle_from_string(rle_to_string(rle_encode(big)), 300, 700, rb));
    EXPECT_EQ(rb.counts, (std::vector<uint32_t>{105000, 105000}));
}

TEST(Rle, HostileInputIsRejected) {
    Rle r;
    std::string err;
    EXPECT_FALSE(rle_from_string("231", 2, 2, r, &err));  // covers 6 pixels, not 4
    EXPECT_NE(err.find("height*width"), std::string::npos);
    EXPECT_FALSE(rle_from_string("2 3", 2, 3, r, &err));  // space is outside the alphabet
    EXPECT_FALSE(rle_from_string("X", 2, 3, r, &err));    // ends inside a count
    EXPECT_FALSE(rle_from_string("oooooooooooooo0", 2, 3, r, &err));  // count too long
    EXPECT_FALSE(rle_from_string("0M", 2, 3, r, &err));  // negative count
    EXPECT_FALSE(rle_from_string("2", -1, 3, r, &err));
    Mask m;
    EXPECT_FALSE(rle_decode(Rle{2, 2, {4294967295u, 4294967295u}}, m, &err));
    EXPECT_FALSE(rle_decode(Rle{2, 2, {1, 1}}, m, &err));
    EXPECT_TRUE(rle_decode(Rle{2, 2, {1, 3}}, m, &err));
    EXPECT_EQ(m.count(), 3u);
}
