// Requests taking turns at the segmentation model (server/inference/turn_queue.h):
// arrival order, a bounded line, and a waiting request whose client went away
// leaves the line without ever getting the model (its work is not done) while
// the ones behind it move up.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "inference/turn_queue.h"

using namespace es::server;
using namespace std::chrono_literals;

namespace {

template <class F>
bool eventually(F f, std::chrono::milliseconds limit = 5000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (f()) return true;
        std::this_thread::sleep_for(1ms);
    }
    return f();
}

}  // namespace

TEST(TurnQueue, TurnsGoInArrivalOrder) {
    TurnQueue q;
    std::mutex m;
    std::vector<int> order;
    std::vector<std::thread> threads;
    {
        TurnQueue::Turn first = q.wait(8);
        ASSERT_TRUE(first);
        for (int i = 0; i < 4; ++i) {
            threads.emplace_back([&, i] {
                TurnQueue::Turn t = q.wait(8);
                std::lock_guard<std::mutex> lock(m);
                order.push_back(i);
            });
            ASSERT_TRUE(eventually([&] { return q.waiting() == i + 1; }));  // each is in line before the next comes
        }
    }  // the first turn ends
    for (auto& t : threads) t.join();
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
    EXPECT_EQ(q.waiting(), 0);
}

TEST(TurnQueue, AFullLineRefusesAtOnce) {
    TurnQueue q;
    TurnQueue::Turn held = q.wait(1);
    ASSERT_TRUE(held);
    std::thread waiter([&] { TurnQueue::Turn t = q.wait(1); });
    ASSERT_TRUE(eventually([&] { return q.waiting() == 1; }));
    TurnQueue::Refusal why = TurnQueue::Refusal::None;
    TurnQueue::Turn refused = q.wait(1, {}, &why);
    EXPECT_FALSE(refused);
    EXPECT_EQ(why, TurnQueue::Refusal::Full);
    { TurnQueue::Turn done = std::move(held); }
    waiter.join();
}

TEST(TurnQueue, AWaitingRequestWhoseClientLeftNeverGetsTheModel) {
    TurnQueue q;
    std::atomic<bool> client_gone{false};
    std::atomic<bool> ran{false}, behind_ran{false};
    TurnQueue::Refusal why = TurnQueue::Refusal::None;
    auto held = std::make_unique<TurnQueue::Turn>(q.wait(8));
    ASSERT_TRUE(*held);
    std::thread leaver([&] {
        TurnQueue::Turn t = q.wait(8, [&] { return client_gone.load(); }, &why, 5ms);
        if (t) ran = true;  // the work a turn would do
    });
    ASSERT_TRUE(eventually([&] { return q.waiting() == 1; }));
    std::thread behind([&] {
        TurnQueue::Turn t = q.wait(8);
        behind_ran = true;
    });
    ASSERT_TRUE(eventually([&] { return q.waiting() == 2; }));
    client_gone = true;
    // It leaves the line while the model is still busy: no need to wait for the turn.
    ASSERT_TRUE(eventually([&] { return q.waiting() == 1; })) << "the request stayed in line after its client left";
    leaver.join();
    EXPECT_FALSE(ran);
    EXPECT_EQ(why, TurnQueue::Refusal::Gone);
    EXPECT_EQ(q.dropped(), 1u);
    held.reset();  // the turn passes to the request behind it
    behind.join();
    EXPECT_TRUE(behind_ran);
    EXPECT_EQ(q.waiting(), 0);
    // A request whose client is still there is never dropped.
    TurnQueue::Turn again = q.wait(8, [] { return false; }, &why);
    EXPECT_TRUE(again);
    EXPECT_EQ(why, TurnQueue::Refusal::None);
}
