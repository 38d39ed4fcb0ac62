#include <gtest/gtest.h>

#include "image/npy.h"
#include "test_files.h"

using namespace es;

TEST(Npy, ReadsGoldenArrays) {
    auto b = es_test::read_bytes(es_test::tiny_dir() + "/golden/turn1_logits.npy");
    NpyArray a;
    std::string err;
    ASSERT_TRUE(parse_npy(b.data(), b.size(), &a, &err)) << err;
    EXPECT_EQ(a.dtype, "<f4");
    EXPECT_EQ(a.shape, (std::vector<int64_t>{1, 41, 1024}));
    EXPECT_EQ(a.f32.size(), a.count());
}

TEST(Npy, RejectsBadInput) {
    auto b = es_test::read_bytes(es_test::tiny_dir() + "/golden/pixel_values.npy");
    NpyArray a;
    std::string err;
    EXPECT_FALSE(parse_npy(b.data(), 5, &a, &err));
    EXPECT_FALSE(parse_npy(b.data(), b.size() - 1, &a, &err));
    EXPECT_NE(err.find("truncated"), std::string::npos) << err;
    std::vector<uint8_t> junk(64, 'x');
    EXPECT_FALSE(parse_npy(junk.data(), junk.size(), &a, &err));
    EXPECT_NE(err.find("not a .npy"), std::string::npos);
}
