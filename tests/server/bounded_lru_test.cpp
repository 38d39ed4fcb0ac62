// The eviction rule the server's caches share (server/inference/bounded_lru.h):
// too old first, then least recently used until within the byte limit; an
// entry larger than the limit is never kept; a hit makes an entry young and
// recent. Then the same rule seen through both caches that use it.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "inference/bounded_lru.h"
#include "inference/image_feature_cache.h"
#include "inference/kv_prefix_cache.h"

using namespace es::server;
using Lru = BoundedLru<std::string>;
using std::chrono::seconds;

namespace {

std::vector<std::string> order(Lru& lru) {
    std::vector<std::string> out;
    for (auto it = lru.begin(); it != lru.end(); ++it) out.push_back(it->value);
    return out;
}

}  // namespace

TEST(BoundedLru, OverTheByteLimitTheLeastRecentlyUsedGoFirst) {
    const auto t0 = Lru::Clock::now();
    Lru lru(100, 60);
    EXPECT_TRUE(lru.put("a", 40, t0));
    EXPECT_TRUE(lru.put("b", 40, t0));
    ASSERT_NE(lru.find([](const std::string& v) { return v == "a"; }, t0), nullptr);  // a is now the most recent
    EXPECT_TRUE(lru.put("c", 40, t0));  // 120 > 100: b, the least recently used, goes
    EXPECT_EQ(order(lru), (std::vector<std::string>{"c", "a"}));
    EXPECT_EQ(lru.bytes(), 80u);
    EXPECT_TRUE(lru.put("d", 100, t0));  // exactly the limit: everything else goes
    EXPECT_EQ(order(lru), (std::vector<std::string>{"d"}));
    EXPECT_FALSE(lru.put("e", 101, t0));  // larger than the limit: not kept, nothing else lost
    EXPECT_EQ(order(lru), (std::vector<std::string>{"d"}));
    EXPECT_EQ(lru.bytes(), 100u);
}

TEST(BoundedLru, EntriesUnusedLongerThanTheAgeLimitGoFirstWhateverTheirOrder) {
    const auto t0 = Lru::Clock::now();
    Lru lru(1000, 10);
    lru.put("old", 10, t0);
    lru.put("young", 10, t0 + seconds(8));
    lru.put("used", 10, t0);
    lru.touch(lru.begin(), t0 + seconds(9));  // "used" is young again
    lru.evict(t0 + seconds(12));              // "old" is 12 s unused: gone, though bytes are far below the limit
    EXPECT_EQ(order(lru), (std::vector<std::string>{"used", "young"}));
    EXPECT_EQ(lru.bytes(), 20u);
    lru.evict(t0 + std::chrono::milliseconds(18500));  // 10.5 s since "young" was put: gone; "used" 9.5 s: kept
    EXPECT_EQ(order(lru), (std::vector<std::string>{"used"}));
    // Age first, then bytes: a put that overflows drops the stale entry, not the recent one.
    Lru both(30, 10);
    both.put("stale", 10, t0);
    both.put("recent", 10, t0 + seconds(5));
    both.put("new", 20, t0 + seconds(11));  // 40 > 30, and "stale" is 11 s old
    EXPECT_EQ(order(both), (std::vector<std::string>{"new", "recent"}));
}

TEST(BoundedLru, EraseIfAndClearKeepTheByteCountRight) {
    Lru lru(100, 60);
    lru.put("a", 10);
    lru.put("bb", 20);
    lru.put("ccc", 30);
    lru.erase_if([](const std::string& v) { return v.size() == 2; });
    EXPECT_EQ(lru.bytes(), 40u);
    EXPECT_EQ(lru.entries(), 2u);
    EXPECT_EQ(lru.find([](const std::string& v) { return v == "bb"; }), nullptr);
    lru.clear();
    EXPECT_EQ(lru.bytes(), 0u);
    EXPECT_EQ(lru.entries(), 0u);
}

// Both caches follow the rule: a byte limit of two entries keeps the two most recently used.
TEST(BoundedLru, TheImageFeatureCacheFollowsTheRule) {
    auto features = [](size_t floats) {
        auto f = std::make_shared<ImageFeatures>();
        f->features.assign(floats, 1.0f);
        return std::shared_ptr<const ImageFeatures>(f);
    };
    ImageFeatureCache cache(2 * 100 * sizeof(float), 60);
    cache.put("a", features(100));
    cache.put("b", features(100));
    EXPECT_NE(cache.get("a"), nullptr);  // a is the most recent now
    cache.put("c", features(100));
    EXPECT_EQ(cache.get("b"), nullptr);
    EXPECT_NE(cache.get("a"), nullptr);
    EXPECT_NE(cache.get("c"), nullptr);
    EXPECT_EQ(cache.bytes(), 2 * 100 * sizeof(float));
    cache.put("a", features(50));  // the same key again replaces it
    EXPECT_EQ(cache.entries(), 2u);
    EXPECT_EQ(cache.bytes(), 150 * sizeof(float));
    cache.put("huge", features(1000));  // larger than the limit: not kept, nothing lost
    EXPECT_EQ(cache.get("huge"), nullptr);
    EXPECT_EQ(cache.entries(), 2u);

    ImageFeatureCache aged(1 << 20, 0);  // age limit 0 s: nothing survives to the next look-up
    aged.put("a", features(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(aged.get("a"), nullptr);
    EXPECT_EQ(aged.bytes(), 0u);
}

TEST(BoundedLru, TheKvPrefixCacheFollowsTheRule) {
    auto kv = [](size_t bytes) {
        auto s = std::make_shared<KvState>();
        s->bytes = bytes;
        return std::shared_ptr<const KvState>(s);
    };
    KvPrefixCache cache(200, 60);
    cache.put("m", {1, 2, 3}, kv(100));
    cache.put("m", {7, 8, 9}, kv(100));
    EXPECT_EQ(cache.longest("m", {1, 2, 3, 4}).length, 3u);  // {1,2,3} is the most recent now
    cache.put("m", {5, 6}, kv(100));                         // {7,8,9} goes
    EXPECT_EQ(cache.longest("m", {7, 8, 9}).length, 0u);
    EXPECT_EQ(cache.longest("m", {1, 2, 3}).length, 3u);
    EXPECT_EQ(cache.longest("m", {5, 6}).length, 2u);
    EXPECT_EQ(cache.bytes(), 200u);
    // A cache that extends a kept one replaces it (the longer serves every request the shorter could).
    cache.put("m", {1, 2, 3, 4}, kv(100));
    EXPECT_EQ(cache.entries(), 2u);
    EXPECT_EQ(cache.longest("m", {1, 2, 3, 4, 5}).length, 4u);
    cache.put("m", {9}, kv(201));  // larger than the limit: not kept
    EXPECT_EQ(cache.entries(), 2u);
    cache.clear();
    EXPECT_EQ(cache.bytes(), 0u);
}
