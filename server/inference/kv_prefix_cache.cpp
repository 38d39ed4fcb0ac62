// kv_prefix_cache.cpp: see kv_prefix_cache.h.
#include "inference/kv_prefix_cache.h"

#include <algorithm>

namespace es::server {

KvPrefixCache::Match KvPrefixCache::longest(const std::string& model, const std::vector<int>& tokens) {
    evict();
    Match best;
    auto best_it = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->model != model) continue;
        const size_t n = std::min(it->tokens.size(), tokens.size());
        size_t m = 0;
        while (m < n && it->tokens[m] == tokens[m]) ++m;
        if (m > best.length) {
            best.length = m;
            best.kv = it->kv;
            best_it = it;
        }
    }
    if (best_it != entries_.end()) {
        best_it->used = Clock::now();
        entries_.splice(entries_.begin(), entries_, best_it);
    }
    return best;
}

void KvPrefixCache::put(const std::string& model, std::vector<int> tokens, std::shared_ptr<const KvState> kv) {
    if (!kv || tokens.empty() || kv->bytes > max_bytes_) return;
    // Entries this one extends (or repeats) serve nothing it does not.
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->model == model && it->tokens.size() <= tokens.size() &&
            std::equal(it->tokens.begin(), it->tokens.end(), tokens.begin())) {
            bytes_ -= it->kv->bytes;
            it = entries_.erase(it);
        } else {
            ++it;
        }
    }
    bytes_ += kv->bytes;
    entries_.push_front(Entry{model, std::move(tokens), std::move(kv), Clock::now()});
    evict();
}

void KvPrefixCache::evict() {
    const auto now = Clock::now();
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (std::chrono::duration<double>(now - it->used).count() > max_age_) {
            bytes_ -= it->kv->bytes;
            it = entries_.erase(it);
        } else {
            ++it;
        }
    }
    while (bytes_ > max_bytes_ && !entries_.empty()) {
        bytes_ -= entries_.back().kv->bytes;
        entries_.pop_back();
    }
}

void KvPrefixCache::clear() {
    entries_.clear();
    bytes_ = 0;
}

}  // namespace es::server
