// bounded_lru.h: the eviction rule the server's caches share (the image
// feature cache, the KV prefix cache): entries bounded by their total bytes
// and by age. Evicting first drops every entry unused for longer than the age
// limit, then the least recently used ones until the rest fit the byte limit.
// An entry larger than the whole limit is never kept. Not thread-safe (each
// cache lives on the engine's one thread).
#pragma once
#include <chrono>
#include <cstddef>
#include <list>
#include <utility>

namespace es::server {

template <class Value>
class BoundedLru {
public:
    using Clock = std::chrono::steady_clock;
    struct Entry {
        Value value;
        size_t bytes = 0;
        Clock::time_point used;
    };
    using iterator = typename std::list<Entry>::iterator;

    BoundedLru(size_t max_bytes, double max_age_seconds) : max_bytes_(max_bytes), max_age_(max_age_seconds) {}

    bool fits(size_t bytes) const { return bytes <= max_bytes_; }

    // Keeps `value` as the most recent entry, then evicts; false (nothing
    // kept) when it alone is larger than the byte limit.
    bool put(Value value, size_t bytes, Clock::time_point now = Clock::now()) {
        if (!fits(bytes)) return false;
        entries_.push_front(Entry{std::move(value), bytes, now});
        bytes_ += bytes;
        evict(now);
        return true;
    }

    // Marks the entry used now and makes it the most recent.
    void touch(iterator it, Clock::time_point now = Clock::now()) {
        it->used = now;
        entries_.splice(entries_.begin(), entries_, it);
    }

    // The most recent entry whose value satisfies pred, touched; nullptr when none.
    template <class Pred>
    Value* find(Pred pred, Clock::time_point now = Clock::now()) {
        for (auto it = entries_.begin(); it != entries_.end(); ++it)
            if (pred(it->value)) {
                touch(it, now);
                return &entries_.front().value;
            }
        return nullptr;
    }

    template <class Pred>
    void erase_if(Pred pred) {
        for (auto it = entries_.begin(); it != entries_.end();) {
            if (pred(it->value)) {
                bytes_ -= it->bytes;
                it = entries_.erase(it);
            } else {
                ++it;
            }
        }
    }

    // The shared rule: too old first, then least recently used until within bytes.
    void evict(Clock::time_point now = Clock::now()) {
        erase_older_than(now);
        while (bytes_ > max_bytes_ && !entries_.empty()) {
            bytes_ -= entries_.back().bytes;
            entries_.pop_back();
        }
    }

    void clear() {
        entries_.clear();
        bytes_ = 0;
    }

    iterator begin() { return entries_.begin(); }  // most recently used first
    iterator end() { return entries_.end(); }
    size_t bytes() const { return bytes_; }
    size_t entries() const { return entries_.size(); }

private:
    void erase_older_than(Clock::time_point now) {
        for (auto it = entries_.begin(); it != entries_.end();) {
            if (std::chrono::duration<double>(now - it->used).count() > max_age_) {
                bytes_ -= it->bytes;
                it = entries_.erase(it);
            } else {
                ++it;
            }
        }
    }

    size_t max_bytes_;
    double max_age_;
    size_t bytes_ = 0;
    std::list<Entry> entries_;  // most recently used first
};

}  // namespace es::server
