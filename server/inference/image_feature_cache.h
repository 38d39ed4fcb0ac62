// image_feature_cache.h: the vision encoder's output per image, keyed by the
// SHA-256 of the image file's bytes, so a follow-up that resends the same
// image never encodes it again. Bounded by bytes and age (bounded_lru.h).
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "inference/bounded_lru.h"

namespace es::server {

struct ImageFeatures {
    int crops = 0;                // pan-and-scan crops (features hold 1 + crops images)
    std::vector<float> features;  // [(1 + crops) * mm_tokens, hidden] float32
};

class ImageFeatureCache {
public:
    ImageFeatureCache(size_t max_bytes, double max_age_seconds) : lru_(max_bytes, max_age_seconds) {}
    // key: model id + sha256 of the image bytes.
    std::shared_ptr<const ImageFeatures> get(const std::string& key);
    void put(const std::string& key, std::shared_ptr<const ImageFeatures> f);
    size_t bytes() const { return lru_.bytes(); }
    size_t entries() const { return lru_.entries(); }

private:
    BoundedLru<std::pair<std::string, std::shared_ptr<const ImageFeatures>>> lru_;  // (key, features)
};

}  // namespace es::server
