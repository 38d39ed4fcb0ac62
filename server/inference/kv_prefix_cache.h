// kv_prefix_cache.h: KV caches kept after a sequence ends, keyed by the token
// ids they hold, so a follow-up request (OpenAI clients resend the whole
// conversation) continues from the longest kept prefix and prefills only its
// new tokens. Bounded by bytes and by age; the least recently used goes first.
// A kept cache that another one extends is dropped (the longer one serves
// every request the shorter one could).
#pragma once
#include <chrono>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "inference/gemma3_model.h"

namespace es::server {

class KvPrefixCache {
public:
    using Clock = std::chrono::steady_clock;
    KvPrefixCache(size_t max_bytes, double max_age_seconds) : max_bytes_(max_bytes), max_age_(max_age_seconds) {}

    struct Match {
        std::shared_ptr<const KvState> kv;  // null when nothing matches
        size_t length = 0;                  // matching tokens (<= kv->length)
    };
    // The kept cache of `model` sharing the longest prefix with `tokens`.
    Match longest(const std::string& model, const std::vector<int>& tokens);
    // Keeps `kv`, which holds `tokens` (tokens.size() == kv->length).
    void put(const std::string& model, std::vector<int> tokens, std::shared_ptr<const KvState> kv);
    size_t bytes() const { return bytes_; }
    size_t entries() const { return entries_.size(); }
    void clear();

private:
    struct Entry {
        std::string model;
        std::vector<int> tokens;
        std::shared_ptr<const KvState> kv;
        Clock::time_point used;
    };
    void evict();
    size_t max_bytes_;
    double max_age_;
    size_t bytes_ = 0;
    std::list<Entry> entries_;  // most recently used first
};

}  // namespace es::server
