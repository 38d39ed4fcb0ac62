#include "assistant/generation.h"

#include <algorithm>

namespace es {

const char* finish_reason_name(FinishReason r) {
    switch (r) {
        case FinishReason::None: return "none";
        case FinishReason::StopToken: return "stop";
        case FinishReason::MaxTokens: return "length";
        case FinishReason::Cancelled: return "cancelled";
        case FinishReason::Error: return "error";
    }
    return "?";
}

void Generator::start(const GenerationConfig& cfg, const std::vector<int>& context) {
    cfg_ = cfg;
    sampler_ = Sampler(cfg.sampler);
    history_ = context;
    generated_.clear();
    fed_ = 0;
    started_ = true;
    cancel_requested_ = false;
    reason_ = cfg.max_new_tokens <= 0 ? FinishReason::MaxTokens : FinishReason::None;
}

StepResult Generator::on_logits(const float* logits, int vocab) {
    StepResult r;
    if (!started_ || finished()) {
        r.finished = true;
        r.reason = started_ ? reason_ : FinishReason::Error;
        return r;
    }
    // These logits came from feeding the previous token (if any).
    fed_ = generated_.size();
    if (cancel_requested_) {
        reason_ = FinishReason::Cancelled;
    } else if (!logits || vocab <= 0) {
        reason_ = FinishReason::Error;
    } else {
        const int tok = sampler_.sample(logits, vocab, history_);
        generated_.push_back(tok);
        history_.push_back(tok);
        r.token = tok;
        if (std::find(cfg_.stop_ids.begin(), cfg_.stop_ids.end(), tok) != cfg_.stop_ids.end())
            reason_ = FinishReason::StopToken;
        else if (int(generated_.size()) >= cfg_.max_new_tokens)
            reason_ = FinishReason::MaxTokens;
    }
    r.finished = finished();
    r.reason = reason_;
    r.feed = !r.finished;
    return r;
}

}  // namespace es
