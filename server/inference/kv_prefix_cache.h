// kv_prefix_cache.h: KV caches kept after a sequence ends, keyed by the token
// ids they hold, so a follow-up request (OpenAI clients resend the whole
// conversation) continues from the longest kept prefix and prefills only its
// new tokens. Bounded by bytes and by age (bounded_lru.h).
// A kept cache that another one extends is dropped (the longer one serves
// every request the shorter one could).
//
// Keys are not the token ids alone: every image token stands for its image,
// so kv_cache_key() writes the image's content hash in its place. Two prompts
// that differ only in their image share no cache past the image's first token.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "inference/bounded_lru.h"
#include "inference/gemma3_model.h"

namespace es::server {

// The cache key of tokens[0, length): token ids, with each image token
// replaced by a negative number made from its image's key (content hash).
// image_keys: one per run of image tokens, in prompt order.
std::vector<int64_t> kv_cache_key(const std::vector<int>& tokens, size_t length, int image_token_id,
                                  const std::vector<std::string>& image_keys);

class KvPrefixCache {
public:
    KvPrefixCache(size_t max_bytes, double max_age_seconds) : lru_(max_bytes, max_age_seconds) {}

    struct Match {
        std::shared_ptr<const KvState> kv;  // null when nothing matches
        size_t length = 0;                  // matching tokens (<= kv->length)
    };
    // The kept cache of `model` sharing the longest prefix with `key` (kv_cache_key()).
    Match longest(const std::string& model, const std::vector<int64_t>& key);
    // Keeps `kv`, which holds the tokens `key` stands for (key.size() == kv->length).
    void put(const std::string& model, std::vector<int64_t> key, std::shared_ptr<const KvState> kv);
    size_t bytes() const { return lru_.bytes(); }
    size_t entries() const { return lru_.entries(); }
    void clear() { lru_.clear(); }

private:
    struct Entry {
        std::string model;
        std::vector<int64_t> tokens;
        std::shared_ptr<const KvState> kv;
    };
    BoundedLru<Entry> lru_;
};

}  // namespace es::server
