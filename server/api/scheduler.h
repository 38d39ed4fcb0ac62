// scheduler.h: the one thread that owns the model. HTTP handler threads hand
// it chat generations and other jobs (label scoring, segmentation, report
// drafting); it runs them fairly, batches decoding, and drops the work of
// clients that went away.
//
//   - Bounded: at most max_queue jobs wait; submit() refuses more (HTTP 429).
//   - Fair: one FIFO queue per client (remote address or token); admission takes
//     the clients in turn, so one client's hundred requests do not starve
//     another's one.
//   - Continuously batched: between decode steps, waiting chats start (prefill)
//     while fewer than engine.max_batch() sequences run; every step decodes all
//     running sequences together. Other jobs run between steps, one at a time.
//   - Cancellable: cancel() (the client disconnected) ends a running sequence
//     at the next step and removes a waiting job at once.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/stop_strings.h"
#include "inference/chat_engine.h"

namespace es::server {

struct SchedulerOptions {
    int max_queue = 256;   // jobs waiting (not yet started) before submit() says QueueFull
    int max_batch = 0;     // cap on sequences decoded together; 0 = engine.max_batch()
};

enum class SubmitStatus { Accepted, QueueFull, NoEngine, Stopping };

// What the HTTP side sees of one chat generation. Filled by the scheduler
// thread; read by the handler thread through wait().
class ChatJob {
public:
    struct Token {
        std::string text;       // text to send (stop strings already cut; may be "")
        TokenOut out;           // the engine's token, logprobs included
    };
    // Blocks until something new happened or `timeout` passed; returns what is
    // new since the last call. started/finished/error reflect the latest state.
    struct Update {
        bool started = false;
        SequenceStart start;          // valid once started (or failed to start)
        std::vector<Token> tokens;
        bool finished = false;
        std::string finish_reason;    // "stop" or "length"
        bool failed = false;          // start() refused or the engine failed; start.error/message say why
        int generated = 0;            // tokens generated so far (usage.completion_tokens)
    };
    Update wait(std::chrono::milliseconds timeout);

    // The client went away (or gave up): end the generation soon. Safe from any thread.
    void cancel();
    bool cancelled() const { return cancelled_.load(); }

    const ChatRequest& request() const { return request_; }

private:
    friend class Scheduler;
    explicit ChatJob(ChatRequest request) : request_(std::move(request)) {}
    void post_start(const SequenceStart& s);
    void post_tokens(std::vector<Token> tokens, int generated, bool finished, const std::string& reason);
    void post_failure(EngineError error, const std::string& message);

    ChatRequest request_;
    std::atomic<bool> cancelled_{false};
    std::function<void()> wake_scheduler_;

    std::mutex mutex_;
    std::condition_variable changed_;
    bool started_ = false, finished_ = false, failed_ = false, reported_start_ = false;
    SequenceStart start_;
    std::vector<Token> pending_;
    std::string finish_reason_;
    int generated_posted_ = 0;
    // Scheduler-thread only: stop-string state.
    std::unique_ptr<StopStringFilter> stop_filter_;
    std::vector<TokenOut> held_tokens_;
    int generated_ = 0;
};

// Any other work for the model thread (srv-ext's classify/segment/report).
class TaskJob {
public:
    enum class State { Waiting, Running, Done, Dropped };
    // Blocks until the task ran (Done) or was dropped before it started
    // (Dropped: cancelled, or the scheduler stopped), or the timeout passed.
    State wait(std::chrono::milliseconds timeout);
    void cancel();  // drops it if it has not started; a running task runs to its end
    bool cancelled() const { return cancelled_.load(); }

private:
    friend class Scheduler;
    explicit TaskJob(std::function<void(ChatEngine*)> fn) : fn_(std::move(fn)) {}
    std::function<void(ChatEngine*)> fn_;
    std::atomic<bool> cancelled_{false};
    std::function<void()> wake_scheduler_;
    std::mutex mutex_;
    std::condition_variable changed_;
    State state_ = State::Waiting;
};

struct SchedulerStats {
    int queue_length = 0;         // waiting jobs
    int active_sequences = 0;     // sequences being decoded
    uint64_t generated_tokens = 0;
    uint64_t cancelled = 0;       // jobs cancelled (client gone) before finishing
    uint64_t rejected = 0;        // submit() refused: queue full
    double tokens_per_second = 0; // over the last few seconds
    size_t cache_bytes = 0;
    uint64_t steps = 0;           // engine.step() calls
    int max_step_batch = 0;       // the most sequences one step() decoded
};

class Scheduler {
public:
    explicit Scheduler(SchedulerOptions options);
    ~Scheduler();  // stops the thread; waiting and running jobs end (failed / dropped)
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Installs (or replaces) the engine; it is then used only on the
    // scheduler thread. Models/info are copied for other threads.
    void set_engine(std::shared_ptr<ChatEngine> engine);
    bool has_engine() const;
    std::vector<ModelInfo> models() const;

    // `client` names who asked (fairness key). The job is returned even when
    // refused (then it never runs).
    SubmitStatus submit_chat(const std::string& client, const std::shared_ptr<ChatJob>& job);
    std::shared_ptr<ChatJob> make_chat_job(ChatRequest request);
    // Runs fn(engine) on the scheduler thread; engine is null when no chat
    // model is loaded (a task that needs none can still run).
    SubmitStatus submit_task(const std::string& client, const std::shared_ptr<TaskJob>& job);
    std::shared_ptr<TaskJob> make_task_job(std::function<void(ChatEngine*)> fn);

    SchedulerStats stats() const;
    // Seconds a refused client should wait before retrying (Retry-After).
    int retry_after_seconds() const;

    void stop();

private:
    struct Entry {
        std::shared_ptr<ChatJob> chat;
        std::shared_ptr<TaskJob> task;
        bool is_cancelled() const { return chat ? chat->cancelled() : task->cancelled(); }
    };
    struct Active {
        std::shared_ptr<ChatJob> job;
        uint64_t sequence = 0;
    };
    void run();
    void wake();
    bool pick_next(Entry* out, bool batch_has_room);  // under mutex_
    void purge_cancelled_waiting();                    // under mutex_
    void start_chat(const std::shared_ptr<ChatJob>& job);
    void decode_step();
    void end_active(size_t index);
    void count_tokens(size_t n);

    SchedulerOptions options_;
    mutable std::mutex mutex_;
    std::condition_variable work_;
    bool stopping_ = false;
    std::shared_ptr<ChatEngine> engine_;         // replaced under mutex_, used on the thread
    std::vector<ModelInfo> models_;
    // Fair queue: per-client FIFOs, taken in turn from `turn_`.
    std::map<std::string, std::deque<Entry>> waiting_;
    std::string turn_;  // the client served last; the next is the one after it
    int waiting_count_ = 0;
    std::vector<Active> active_;                 // scheduler thread only
    std::shared_ptr<ChatEngine> running_engine_; // scheduler thread only: the engine of active_
    std::atomic<int> active_count_{0};
    // stats
    std::atomic<uint64_t> generated_{0}, cancelled_{0}, rejected_{0}, steps_{0};
    std::atomic<int> max_step_batch_{0};
    std::atomic<size_t> cache_bytes_{0};
    std::deque<std::pair<std::chrono::steady_clock::time_point, size_t>> recent_tokens_;  // under mutex_
    std::thread thread_;
};

}  // namespace es::server
