// turn_queue.h: requests taking turns at one model (the SAM engine: one
// segments at a time, each encoder run takes every core). They wait in arrival
// order; a bounded number may wait (the rest are told to retry), and one whose
// client went away while it waited leaves the line at once - its work is never
// done and the requests behind it move up.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>

namespace es::server {

class TurnQueue {
public:
    // Why wait() gave no turn.
    enum class Refusal { None, Full, Gone };

    // One request's exclusive use of the model; the next in line gets it when
    // this is destroyed. Empty (false) when refused.
    class Turn {
    public:
        Turn() = default;
        Turn(Turn&& o) noexcept : queue_(o.queue_) { o.queue_ = nullptr; }
        Turn& operator=(Turn&&) = delete;
        ~Turn();
        explicit operator bool() const { return queue_ != nullptr; }

    private:
        friend class TurnQueue;
        explicit Turn(TurnQueue* q) : queue_(q) {}
        TurnQueue* queue_ = nullptr;
    };

    // Waits for this request's turn. Refused (Full) when max_waiting requests
    // wait already. `gone` (may be empty) is asked every `poll` while the
    // request waits, outside the lock; once it says true the request leaves
    // the line (Gone).
    Turn wait(int max_waiting, const std::function<bool()>& gone = {}, Refusal* refused = nullptr,
              std::chrono::milliseconds poll = std::chrono::milliseconds(50));

    int waiting() const;      // requests waiting now (not the one holding the turn)
    uint64_t dropped() const;  // waiting requests that left because their client went away

private:
    void release();
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<uint64_t> line_;  // tickets in arrival order; the front holds the turn once it is free
    bool held_ = false;
    uint64_t next_ticket_ = 0;
    uint64_t dropped_ = 0;
};

}  // namespace es::server
