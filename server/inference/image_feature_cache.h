// image_feature_cache.h: the vision encoder's output per image, keyed by the
// SHA-256 of the image file's bytes, so a follow-up that resends the same
// image never encodes it again. Bounded by bytes and age (least recently used
// first).
#pragma once
#include <chrono>
#include <list>
#include <memory>
#include <string>
#include <vector>

namespace es::server {

struct ImageFeatures {
    int crops = 0;                // pan-and-scan crops (features hold 1 + crops images)
    std::vector<float> features;  // [(1 + crops) * mm_tokens, hidden] float32
};

class ImageFeatureCache {
public:
    using Clock = std::chrono::steady_clock;
    ImageFeatureCache(size_t max_bytes, double max_age_seconds) : max_bytes_(max_bytes), max_age_(max_age_seconds) {}
    // key: model id + sha256 of the image bytes.
    std::shared_ptr<const ImageFeatures> get(const std::string& key);
    void put(const std::string& key, std::shared_ptr<const ImageFeatures> f);
    size_t bytes() const { return bytes_; }
    size_t entries() const { return entries_.size(); }

private:
    struct Entry {
        std::string key;
        std::shared_ptr<const ImageFeatures> f;
        size_t bytes;
        Clock::time_point used;
    };
    void evict();
    size_t max_bytes_;
    double max_age_;
    size_t bytes_ = 0;
    std::list<Entry> entries_;  // most recently used first
};

}  // namespace es::server
