// test_chat_engine.h: a deterministic ChatEngine for the scheduler and HTTP
// tests - no model, answers made from the prompt, one character per token.
//   prompt "fail"         -> start() refuses (BadRequest)
//   prompt "long ..."     -> never ends by itself (max_tokens or cancel ends it)
//   prompt "raw:TEXT"     -> TEXT (e.g. a tool call, for the response shapes)
//   anything else         -> "echo: <last user text>" then end of answer
// pause() makes start() and step() block until resume(), so a test can fill
// the queue or order submissions without racing the scheduler thread.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "inference/chat_engine.h"

namespace es::server::testing {

class TestChatEngine : public ChatEngine {
public:
    explicit TestChatEngine(int max_batch = 4, std::chrono::milliseconds step_delay = std::chrono::milliseconds(0))
        : max_batch_(max_batch), step_delay_(step_delay) {}

    std::vector<ModelInfo> models() const override {
        ModelInfo m;
        m.id = "test-model";
        m.input_modalities = {"text", "image"};
        m.variant = "fp32";
        m.execution_provider = "cpu";
        m.context_length = 4096;
        m.image_size = 32;
        return {m};
    }

    SequenceStart start(const ChatRequest& request) override {
        wait_unpaused();
        std::lock_guard<std::mutex> lock(mutex_);
        SequenceStart s;
        std::string prompt;
        int images = 0;
        for (const auto& m : request.messages)
            for (const auto& p : m.parts) {
                if (m.role == "user" && p.kind == ChatPart::Kind::Text) prompt = p.text;
                if (p.kind == ChatPart::Kind::Image) images++;
            }
        started_prompts_.push_back(prompt);
        starts_++;
        if (prompt == "fail") {
            s.error = EngineError::BadRequest;
            s.message = "the test engine refuses this prompt";
            return s;
        }
        Seq q;
        q.endless = prompt.rfind("long", 0) == 0;
        q.answer = "echo: " + prompt + (images ? " +" + std::to_string(images) + " image" : "");
        if (prompt.rfind("raw:", 0) == 0) q.answer = prompt.substr(4);  // plays a model that writes exactly this
        q.max_tokens = request.max_tokens;
        s.sequence = ++next_id_;
        s.prompt_tokens = int(prompt.size()) + 10 * images + 3;
        sequences_[s.sequence] = q;
        return s;
    }

    std::vector<TokenOut> step(const std::vector<uint64_t>& ids) override {
        wait_unpaused();
        if (step_delay_.count() > 0) std::this_thread::sleep_for(step_delay_);
        std::lock_guard<std::mutex> lock(mutex_);
        batch_sizes_.push_back(int(ids.size()));
        std::vector<TokenOut> out;
        for (uint64_t id : ids) {
            Seq& q = sequences_.at(id);
            TokenOut t;
            t.sequence = id;
            if (q.endless) {
                t.text = "x";
            } else if (q.pos < q.answer.size()) {
                t.text = q.answer.substr(q.pos, 1);
            } else {
                t.text = "";
                t.finished = true;
                t.finish_reason = "stop";
            }
            t.token = t.finished ? 1 : static_cast<unsigned char>(t.text[0]);
            t.logprob = -0.25;
            t.top = {{t.text, -0.25}, {"?", -2.0}};
            q.pos++;
            tokens_++;
            out.push_back(t);
        }
        return out;
    }

    void finish(uint64_t id) override {
        std::lock_guard<std::mutex> lock(mutex_);
        sequences_.erase(id);
        finished_.push_back(id);
    }

    LabelScoreResult score_labels(const LabelScoreRequest& r) override {
        LabelScoreResult out;
        for (size_t i = 0; i < r.labels.size(); ++i) out.probabilities.push_back(1.0 / double(r.labels.size()));
        return out;
    }
    int max_batch() const override { return max_batch_; }
    size_t cache_bytes() const override { return 1234; }

    void pause() {
        std::lock_guard<std::mutex> lock(pause_mutex_);
        paused_ = true;
    }
    void resume() {
        {
            std::lock_guard<std::mutex> lock(pause_mutex_);
            paused_ = false;
        }
        pause_changed_.notify_all();
    }
    // Blocks until the scheduler thread is waiting inside a paused call.
    bool wait_until_blocked(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
        std::unique_lock<std::mutex> lock(pause_mutex_);
        return pause_changed_.wait_for(lock, timeout, [this] { return blocked_; });
    }

    std::vector<std::string> started_prompts() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return started_prompts_;
    }
    std::vector<int> batch_sizes() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return batch_sizes_;
    }
    size_t live_sequences() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return sequences_.size();
    }
    size_t finished_count() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return finished_.size();
    }
    int tokens() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return tokens_;
    }

private:
    struct Seq {
        std::string answer;
        size_t pos = 0;
        bool endless = false;
        int max_tokens = 0;
    };
    void wait_unpaused() {
        std::unique_lock<std::mutex> lock(pause_mutex_);
        if (!paused_) return;
        blocked_ = true;
        pause_changed_.notify_all();
        pause_changed_.wait(lock, [this] { return !paused_; });
        blocked_ = false;
    }

    int max_batch_;
    std::chrono::milliseconds step_delay_;
    mutable std::mutex mutex_;
    std::map<uint64_t, Seq> sequences_;
    uint64_t next_id_ = 0;
    int starts_ = 0, tokens_ = 0;
    std::vector<std::string> started_prompts_;
    std::vector<int> batch_sizes_;
    std::vector<uint64_t> finished_;
    std::mutex pause_mutex_;
    std::condition_variable pause_changed_;
    bool paused_ = false, blocked_ = false;
};

}  // namespace es::server::testing
