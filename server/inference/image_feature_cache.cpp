// image_feature_cache.cpp: see image_feature_cache.h.
#include "inference/image_feature_cache.h"

namespace es::server {

std::shared_ptr<const ImageFeatures> ImageFeatureCache::get(const std::string& key) {
    lru_.evict();
    auto* hit = lru_.find([&](const auto& e) { return e.first == key; });
    return hit ? hit->second : nullptr;
}

void ImageFeatureCache::put(const std::string& key, std::shared_ptr<const ImageFeatures> f) {
    const size_t bytes = f->features.size() * sizeof(float);
    if (!lru_.fits(bytes)) return;
    lru_.erase_if([&](const auto& e) { return e.first == key; });
    lru_.put({key, std::move(f)}, bytes);
}

}  // namespace es::server
