// Kept KV caches match on images as well as token ids: an image's soft tokens
// are the same ids for every image, so a cache made with one image must not
// continue a prompt with another (found by tests/node/server_extensions.test.mjs:
// a classify about one image answered from the previous image's cache).
#include <gtest/gtest.h>

#include "inference/kv_prefix_cache.h"

using namespace es::server;

namespace {

constexpr int kImg = 99;  // the image soft token id

std::shared_ptr<const KvState> kv(size_t length) {
    auto k = std::make_shared<KvState>();
    k->length = int(length);
    k->bytes = 100;
    return k;
}

// <bos> text <start_of_image> [4 soft tokens] <end_of_image> question...
std::vector<int> prompt(std::vector<int> question, bool with_image = true) {
    std::vector<int> t = {2, 10, 11, 255};
    if (with_image) t.insert(t.end(), {kImg, kImg, kImg, kImg, 256});
    t.insert(t.end(), question.begin(), question.end());
    return t;
}

}  // namespace

TEST(KvPrefixCache, AnotherImageMatchesOnlyUpToItsSoftTokens) {
    KvPrefixCache cache(1 << 20, 600);
    const auto a = prompt({30, 31, 32});
    cache.put("m", a, kv(a.size()), {"m:imageA"});
    // The same image and a longer conversation: the whole kept prompt is reused.
    auto follow = a;
    follow.insert(follow.end(), {40, 41});
    EXPECT_EQ(cache.longest("m", follow, {"m:imageA"}, kImg).length, a.size());
    // The same tokens about image B: only the text before its soft tokens.
    EXPECT_EQ(cache.longest("m", a, {"m:imageB"}, kImg).length, 4u);
    // A prompt whose image the cache never saw (text-only cache, image added later).
    const auto text = prompt({30, 31}, false);
    KvPrefixCache c2(1 << 20, 600);
    c2.put("m", text, kv(text.size()), {});
    EXPECT_EQ(c2.longest("m", text, {}, kImg).length, text.size());
    auto later = text;
    later.insert(later.end(), {255, kImg, kImg, kImg, kImg, 256, 50});
    EXPECT_EQ(c2.longest("m", later, {"m:imageA"}, kImg).length, text.size());  // all it holds
    // Another model never matches.
    EXPECT_EQ(cache.longest("other", a, {"m:imageA"}, kImg).length, 0u);
}
