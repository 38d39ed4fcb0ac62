#include "assistant/generation.h"

#include <algorithm>
#include <limits>

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
    error_.clear();
    reason_ = cfg.max_new_tokens <= 0 ? FinishReason::MaxTokens : FinishReason::None;
    if (cfg_.constraint) cfg_.constraint->reset();
}

// Disallowed tokens get -inf before the sampler sees the row; stop tokens are
// allowed only when the constrained output is complete.
int Generator::constrained_sample(const float* logits, int vocab) {
    TokenConstraint& c = *cfg_.constraint;
    const int remaining = cfg_.max_new_tokens - int(generated_.size());
    c.allowed_tokens(remaining, &mask_);
    const bool complete = c.complete();
    masked_.assign(size_t(vocab), -std::numeric_limits<float>::infinity());
    bool any = false;
    const size_t words = std::min(mask_.size(), (size_t(vocab) + 31) / 32);
    for (size_t w = 0; w < words; ++w) {
        for (uint32_t bits = mask_[w]; bits; bits &= bits - 1) {
            const size_t id = w * 32 + size_t(__builtin_ctz(bits));
            if (id < size_t(vocab)) { masked_[id] = logits[id]; any = true; }
        }
    }
    if (complete)
        for (int id : cfg_.stop_ids)
            if (id >= 0 && id < vocab) { masked_[size_t(id)] = logits[id]; any = true; }
    for (int id : cfg_.never_ids)
        if (id >= 0 && id < vocab) masked_[size_t(id)] = -std::numeric_limits<float>::infinity();
    if (any && !cfg_.never_ids.empty())
        any = std::any_of(masked_.begin(), masked_.end(), [](float v) { return v != -std::numeric_limits<float>::infinity(); });
    if (!any) {
        error_ = complete ? "The constrained answer is complete but the model has no stop token to end it."
                          : "No token can continue the constrained answer within the tokens left.";
        return -1;
    }
    return sampler_.sample(masked_.data(), vocab, history_);
}

// The row without the never-sampled tokens (a copy: the caller's logits are
// left as they are, e.g. for logprobs).
int Generator::unconstrained_sample(const float* logits, int vocab) {
    masked_.assign(logits, logits + vocab);
    for (int id : cfg_.never_ids)
        if (id >= 0 && id < vocab) masked_[size_t(id)] = -std::numeric_limits<float>::infinity();
    return sampler_.sample(masked_.data(), vocab, history_);
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
        const int tok = cfg_.constraint         ? constrained_sample(logits, vocab)
                        : cfg_.never_ids.empty() ? sampler_.sample(logits, vocab, history_)
                                                 : unconstrained_sample(logits, vocab);
        if (tok < 0) {
            reason_ = FinishReason::Error;
            r.finished = true;
            r.reason = reason_;
            return r;
        }
        const bool stop = std::find(cfg_.stop_ids.begin(), cfg_.stop_ids.end(), tok) != cfg_.stop_ids.end();
        if (cfg_.constraint && !stop && !cfg_.constraint->accept(tok)) {
            error_ = "The sampled token does not fit the constrained answer (internal error).";
            reason_ = FinishReason::Error;
            r.finished = true;
            r.reason = reason_;
            return r;
        }
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
