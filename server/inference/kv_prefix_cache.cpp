// kv_prefix_cache.cpp: see kv_prefix_cache.h.
#include "inference/kv_prefix_cache.h"

#include <algorithm>

namespace es::server {

std::vector<int64_t> kv_cache_key(const std::vector<int>& tokens, size_t length, int image_token_id,
                                  const std::vector<std::string>& image_keys) {
    std::vector<int64_t> key(tokens.begin(), tokens.begin() + std::ptrdiff_t(std::min(length, tokens.size())));
    size_t run = 0;
    int64_t mark = 0;
    for (size_t i = 0; i < key.size(); ++i) {
        if (key[i] != image_token_id) continue;
        if (i == 0 || tokens[i - 1] != image_token_id) {
            // FNV-1a over the image key, kept to 62 bits and made negative:
            // never a token id, and distinct images collide with odds ~2^-62.
            uint64_t h = 1469598103934665603ull;
            const std::string& k = run < image_keys.size() ? image_keys[run] : std::string();
            for (unsigned char c : k) h = (h ^ c) * 1099511628211ull;
            h ^= uint64_t(run) * 0x9E3779B97F4A7C15ull;  // a missing key still differs per run
            mark = -1 - int64_t(h >> 2);
            ++run;
        }
        key[i] = mark;
    }
    return key;
}

KvPrefixCache::Match KvPrefixCache::longest(const std::string& model, const std::vector<int64_t>& tokens) {
    lru_.evict();
    Match best;
    auto best_it = lru_.end();
    for (auto it = lru_.begin(); it != lru_.end(); ++it) {
        const Entry& e = it->value;
        if (e.model != model) continue;
        const size_t n = std::min(e.tokens.size(), tokens.size());
        size_t m = 0;
        while (m < n && e.tokens[m] == tokens[m]) ++m;
        if (m > best.length) {
            best.length = m;
            best.kv = e.kv;
            best_it = it;
        }
    }
    if (best_it != lru_.end()) lru_.touch(best_it);
    return best;
}

void KvPrefixCache::put(const std::string& model, std::vector<int64_t> tokens, std::shared_ptr<const KvState> kv) {
    if (!kv || tokens.empty() || !lru_.fits(kv->bytes)) return;
    // Entries this one extends (or repeats) serve nothing it does not.
    lru_.erase_if([&](const Entry& e) {
        return e.model == model && e.tokens.size() <= tokens.size() &&
               std::equal(e.tokens.begin(), e.tokens.end(), tokens.begin());
    });
    const size_t bytes = kv->bytes;
    lru_.put(Entry{model, std::move(tokens), std::move(kv)}, bytes);
}

}  // namespace es::server
