// image_feature_cache.cpp: see image_feature_cache.h.
#include "inference/image_feature_cache.h"

namespace es::server {

std::shared_ptr<const ImageFeatures> ImageFeatureCache::get(const std::string& key) {
    evict();
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
        if (it->key == key) {
            it->used = Clock::now();
            entries_.splice(entries_.begin(), entries_, it);
            return entries_.front().f;
        }
    return nullptr;
}

void ImageFeatureCache::put(const std::string& key, std::shared_ptr<const ImageFeatures> f) {
    const size_t bytes = f->features.size() * sizeof(float);
    if (bytes > max_bytes_) return;
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
        if (it->key == key) {
            bytes_ -= it->bytes;
            entries_.erase(it);
            break;
        }
    entries_.push_front(Entry{key, std::move(f), bytes, Clock::now()});
    bytes_ += bytes;
    evict();
}

void ImageFeatureCache::evict() {
    const auto now = Clock::now();
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (std::chrono::duration<double>(now - it->used).count() > max_age_) {
            bytes_ -= it->bytes;
            it = entries_.erase(it);
        } else {
            ++it;
        }
    }
    while (bytes_ > max_bytes_ && !entries_.empty()) {
        bytes_ -= entries_.back().bytes;
        entries_.pop_back();
    }
}

}  // namespace es::server
