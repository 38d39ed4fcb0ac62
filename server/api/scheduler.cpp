// scheduler.cpp: see scheduler.h.
#include "api/scheduler.h"

#include <algorithm>
#include <cstdio>
#include <exception>


namespace es::server {

// ---- ChatJob ---------------------------------------------------------------

ChatJob::Update ChatJob::wait(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    auto has_news = [this] { return (started_ && !reported_start_) || !pending_.empty() || finished_ || failed_; };
    changed_.wait_for(lock, timeout, has_news);
    Update u;
    u.started = started_;
    u.start = start_;
    reported_start_ = started_;
    u.tokens.swap(pending_);
    u.finished = finished_;
    u.finish_reason = finish_reason_;
    u.failed = failed_;
    u.generated = generated_posted_;
    return u;
}

void ChatJob::cancel() {
    if (cancelled_.exchange(true)) return;
    std::function<void()> wake;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        wake = wake_scheduler_;
    }
    if (wake) wake();
    changed_.notify_all();
}

void ChatJob::post_start(const SequenceStart& s) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        start_ = s;
        started_ = true;
    }
    changed_.notify_all();
}

void ChatJob::post_tokens(std::vector<Token> tokens, int generated, bool finished, const std::string& reason) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        generated_posted_ = generated;
        for (auto& t : tokens) pending_.push_back(std::move(t));
        if (finished) {
            finished_ = true;
            finish_reason_ = reason;
        }
    }
    changed_.notify_all();
}

void ChatJob::post_failure(EngineError error, const std::string& message) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        start_.error = error;
        start_.message = message;
        failed_ = true;
        finished_ = true;
    }
    changed_.notify_all();
}

// ---- TaskJob ---------------------------------------------------------------

TaskJob::State TaskJob::wait(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, timeout, [this] { return state_ == State::Done || state_ == State::Dropped; });
    return state_;
}

void TaskJob::cancel() {
    if (cancelled_.exchange(true)) return;
    std::function<void()> wake;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        wake = wake_scheduler_;
    }
    if (wake) wake();
}

// ---- Scheduler -------------------------------------------------------------

Scheduler::Scheduler(SchedulerOptions options) : options_(options) {
    if (options_.max_queue < 0) options_.max_queue = 0;
    thread_ = std::thread([this] { run(); });
    thread_id_ = thread_.get_id();
}

Scheduler::~Scheduler() { stop(); }

void Scheduler::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    work_.notify_all();
    if (thread_id_ == std::this_thread::get_id()) return;  // a task that stops the server
    std::call_once(joined_, [this] { thread_.join(); });   // callers at once: one joins, the others wait
}

void Scheduler::wake() {
    {
        // A cancelled waiting job leaves the queue now, even while the model
        // thread is busy in a long prefill or step.
        std::lock_guard<std::mutex> lock(mutex_);
        purge_cancelled_waiting();
    }
    work_.notify_all();
}

void Scheduler::set_engine(std::shared_ptr<ChatEngine> engine) {
    std::lock_guard<std::mutex> lock(mutex_);
    models_ = engine ? engine->models() : std::vector<ModelInfo>{};
    engine_ = std::move(engine);
    work_.notify_all();
}

bool Scheduler::has_engine() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return engine_ != nullptr;
}

std::vector<ModelInfo> Scheduler::models() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return models_;
}

std::shared_ptr<ChatJob> Scheduler::make_chat_job(ChatRequest request) {
    auto job = std::shared_ptr<ChatJob>(new ChatJob(std::move(request)));
    job->wake_scheduler_ = [this] { wake(); };
    return job;
}

std::shared_ptr<TaskJob> Scheduler::make_task_job(std::function<void(ChatEngine*)> fn) {
    auto job = std::shared_ptr<TaskJob>(new TaskJob(std::move(fn)));
    job->wake_scheduler_ = [this] { wake(); };
    return job;
}

SubmitStatus Scheduler::submit_chat(const std::string& client, const std::shared_ptr<ChatJob>& job) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return SubmitStatus::Stopping;
    if (!engine_) return SubmitStatus::NoEngine;
    if (waiting_count_ >= options_.max_queue) {
        rejected_++;
        return SubmitStatus::QueueFull;
    }
    waiting_[client].push_back(Entry{job, nullptr});
    waiting_count_++;
    work_.notify_all();
    return SubmitStatus::Accepted;
}

SubmitStatus Scheduler::submit_task(const std::string& client, const std::shared_ptr<TaskJob>& job) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return SubmitStatus::Stopping;
    if (waiting_count_ >= options_.max_queue) {
        rejected_++;
        return SubmitStatus::QueueFull;
    }
    waiting_[client].push_back(Entry{nullptr, job});
    waiting_count_++;
    work_.notify_all();
    return SubmitStatus::Accepted;
}

int Scheduler::retry_after_seconds() const {
    // A rough wait: about one answer's time per batch of waiting jobs, at least 1 s.
    SchedulerStats s = stats();
    int per_batch = 2;
    int batch = std::max(1, s.active_sequences);
    return std::clamp(1 + per_batch * s.queue_length / batch, 1, 60);
}

SchedulerStats Scheduler::stats() const {
    SchedulerStats s;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        s.queue_length = waiting_count_;
        auto now = std::chrono::steady_clock::now();
        size_t n = 0;
        for (const auto& [t, k] : recent_tokens_)
            if (now - t <= std::chrono::seconds(10)) n += k;
        s.tokens_per_second = double(n) / 10.0;
    }
    s.active_sequences = active_count_.load();
    s.generated_tokens = generated_.load();
    s.cancelled = cancelled_.load();
    s.rejected = rejected_.load();
    s.cache_bytes = cache_bytes_.load();
    s.steps = steps_.load();
    s.max_step_batch = max_step_batch_.load();
    return s;
}

void Scheduler::count_tokens(size_t n) {
    generated_ += n;
    std::lock_guard<std::mutex> lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    if (!recent_tokens_.empty() && now - recent_tokens_.back().first < std::chrono::milliseconds(100))
        recent_tokens_.back().second += n;
    else
        recent_tokens_.emplace_back(now, n);
    while (!recent_tokens_.empty() && now - recent_tokens_.front().first > std::chrono::seconds(10))
        recent_tokens_.pop_front();
}

void Scheduler::purge_cancelled_waiting() {
    for (auto it = waiting_.begin(); it != waiting_.end();) {
        auto& q = it->second;
        for (auto e = q.begin(); e != q.end();) {
            if (e->is_cancelled()) {
                if (e->task) {
                    std::lock_guard<std::mutex> lock(e->task->mutex_);
                    e->task->state_ = TaskJob::State::Dropped;
                    e->task->changed_.notify_all();
                } else {
                    e->chat->post_failure(EngineError::None, "cancelled");
                }
                cancelled_++;
                waiting_count_--;
                e = q.erase(e);
            } else {
                ++e;
            }
        }
        it = q.empty() ? waiting_.erase(it) : std::next(it);
    }
}

bool Scheduler::pick_next(Entry* out, bool batch_has_room) {
    if (waiting_.empty()) return false;
    // Clients in turn: start after the one served last, wrap around.
    auto start = waiting_.upper_bound(turn_);
    for (size_t i = 0; i < waiting_.size(); ++i) {
        if (start == waiting_.end()) start = waiting_.begin();
        auto& q = start->second;
        if (!q.empty() && (q.front().task || batch_has_room)) {
            *out = q.front();
            q.pop_front();
            waiting_count_--;
            turn_ = start->first;
            if (q.empty()) waiting_.erase(start);
            return true;
        }
        ++start;
    }
    return false;
}

void Scheduler::start_chat(const std::shared_ptr<ChatJob>& job) {
    SequenceStart s;
    try {
        s = running_engine_->start(job->request());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "endoscribe-server: engine start failed: %s\n", e.what());
        s.error = EngineError::Internal;
        s.message = "the model failed to start this answer";
    }
    if (s.error != EngineError::None) {
        job->post_failure(s.error, s.message);
        return;
    }
    job->post_start(s);
    active_.push_back(Active{job, s.sequence});
    active_count_ = int(active_.size());
}

void Scheduler::end_active(size_t index) {
    try {
        running_engine_->finish(active_[index].sequence);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "endoscribe-server: engine finish failed: %s\n", e.what());
    }
    active_.erase(active_.begin() + long(index));
    active_count_ = int(active_.size());
}

void Scheduler::decode_step() {
    // Cancelled sequences end first, so they cost no more decoding.
    for (size_t i = active_.size(); i-- > 0;)
        if (active_[i].job->cancelled()) {
            cancelled_++;
            active_[i].job->post_failure(EngineError::None, "cancelled");
            end_active(i);
        }
    if (active_.empty()) return;
    std::vector<uint64_t> sequences;
    for (const auto& a : active_) sequences.push_back(a.sequence);
    std::vector<TokenOut> outs;
    try {
        outs = running_engine_->step(sequences);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "endoscribe-server: engine step failed: %s\n", e.what());
        outs.clear();
    }
    steps_++;
    if (int(sequences.size()) > max_step_batch_.load()) max_step_batch_ = int(sequences.size());
    if (outs.size() != sequences.size()) {
        // The engine broke its contract or failed: end every running answer.
        for (size_t i = active_.size(); i-- > 0;) {
            active_[i].job->post_failure(EngineError::Internal, "the model failed while writing the answer");
            end_active(i);
        }
        return;
    }
    count_tokens(outs.size());
    std::vector<size_t> done;
    for (size_t i = 0; i < outs.size(); ++i) {
        ChatJob& job = *active_[i].job;
        TokenOut& out = outs[i];
        job.generated_++;
        if (out.finished && out.finish_reason == "error" && !out.error.empty()) {
            // e.g. a constrained answer with no token to go on with: the client gets the reason.
            job.post_failure(EngineError::Internal, out.error);
            done.push_back(i);
            continue;
        }
        // Stop strings: the filter holds back text that may begin one.
        if (!job.stop_filter_) job.stop_filter_ = std::make_unique<EngineStopFilter>(job.request().stop);
        EngineStopFilter& filter = *job.stop_filter_;
        std::string text = filter.push(out.text);
        bool finished = out.finished || filter.stopped();
        std::string reason = filter.stopped() ? "stop" : out.finish_reason;
        if (finished && !filter.stopped()) text += filter.flush();
        if (finished && reason.empty()) reason = "stop";
        if (!finished && job.generated_ >= job.request().max_tokens) {
            finished = true;
            reason = "length";
            text += filter.flush();
        }
        std::vector<ChatJob::Token> tokens;
        if (filter.stopped()) {
            job.held_tokens_.clear();  // they spelled the stop string, which is left out
            if (!text.empty()) tokens.push_back(ChatJob::Token{text, std::move(out)});
        } else if (!finished && text.empty()) {
            // No text yet (held back as a possible stop string, or half a
            // character): the token goes out with the text it turns out to be.
            job.held_tokens_.push_back(std::move(out));
        } else {
            for (auto& h : job.held_tokens_) tokens.push_back(ChatJob::Token{"", std::move(h)});
            job.held_tokens_.clear();
            tokens.push_back(ChatJob::Token{text, std::move(out)});
        }
        if (!tokens.empty() || finished) job.post_tokens(std::move(tokens), job.generated_, finished, reason);
        if (finished) done.push_back(i);
    }
    for (size_t k = done.size(); k-- > 0;) end_active(done[k]);
    cache_bytes_ = running_engine_->cache_bytes();
}

void Scheduler::run() {
    for (;;) {
        Entry next;
        bool have = false;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            work_.wait(lock, [&] {
                purge_cancelled_waiting();
                return stopping_ || !active_.empty() || !waiting_.empty();
            });
            if (stopping_) break;
            // Running answers finish on the engine that started them; a new
            // engine (set_engine) takes new chats once they are done.
            if (active_.empty()) running_engine_ = engine_;
            int cap = running_engine_ ? running_engine_->max_batch() : 1;
            if (options_.max_batch > 0) cap = std::min(cap, options_.max_batch);
            cap = std::max(cap, 1);
            bool room = int(active_.size()) < cap && running_engine_ == engine_;
            have = pick_next(&next, room);
        }
        if (have && next.task) {
            {
                std::lock_guard<std::mutex> lock(next.task->mutex_);
                next.task->state_ = TaskJob::State::Running;
            }
            try {
                next.task->fn_(running_engine_.get());
            } catch (const std::exception& e) {
                std::fprintf(stderr, "endoscribe-server: job failed: %s\n", e.what());
            }
            {
                std::lock_guard<std::mutex> lock(next.task->mutex_);
                next.task->state_ = TaskJob::State::Done;
            }
            next.task->changed_.notify_all();
        } else if (have && next.chat) {
            if (!running_engine_) {
                next.chat->post_failure(EngineError::Internal, "no model is loaded");
            } else {
                start_chat(next.chat);
                continue;  // admit more before the next step, while the batch has room
            }
        }
        if (running_engine_) decode_step();
    }
    // Stopping: everything waiting or running ends.
    std::unique_lock<std::mutex> lock(mutex_);
    for (auto& [client, q] : waiting_)
        for (auto& e : q) {
            if (e.task) {
                std::lock_guard<std::mutex> tl(e.task->mutex_);
                e.task->state_ = TaskJob::State::Dropped;
                e.task->changed_.notify_all();
            } else {
                e.chat->post_failure(EngineError::Internal, "the server is shutting down");
            }
        }
    waiting_.clear();
    waiting_count_ = 0;
    lock.unlock();
    for (size_t i = active_.size(); i-- > 0;) {
        active_[i].job->post_failure(EngineError::Internal, "the server is shutting down");
        end_active(i);
    }
}

}  // namespace es::server
