// turn_queue.cpp: see turn_queue.h.
#include "inference/turn_queue.h"

#include <algorithm>

namespace es::server {

TurnQueue::Turn::~Turn() {
    if (queue_) queue_->release();
}

TurnQueue::Turn TurnQueue::wait(int max_waiting, const std::function<bool()>& gone, Refusal* refused,
                                std::chrono::milliseconds poll) {
    auto refuse = [&](Refusal why) {
        if (refused) *refused = why;
        return Turn();
    };
    std::unique_lock<std::mutex> lock(mutex_);
    // As many as max_waiting may wait behind the one holding the turn.
    if (int64_t(line_.size()) + (held_ ? 1 : 0) > int64_t(max_waiting)) return refuse(Refusal::Full);
    const uint64_t ticket = next_ticket_++;
    line_.push_back(ticket);
    auto mine = [&] { return !held_ && line_.front() == ticket; };
    while (!mine()) {
        if (!gone) {
            changed_.wait(lock, mine);
            break;
        }
        if (changed_.wait_for(lock, poll, mine)) break;
        lock.unlock();
        const bool left = gone();
        lock.lock();
        if (left && !mine()) {
            line_.erase(std::find(line_.begin(), line_.end(), ticket));
            ++dropped_;
            lock.unlock();
            changed_.notify_all();  // the line moved up
            return refuse(Refusal::Gone);
        }
    }
    line_.pop_front();
    held_ = true;
    if (refused) *refused = Refusal::None;
    return Turn(this);
}

void TurnQueue::release() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        held_ = false;
    }
    changed_.notify_all();
}

int TurnQueue::waiting() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return int(line_.size());
}

uint64_t TurnQueue::dropped() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return dropped_;
}

}  // namespace es::server
