// generation.h: the token-by-token generation loop as a state machine that
// never blocks. The caller owns the model: it runs a step, hands the last
// position's logits to on_logits(), and feeds the returned token to the next
// step, until the generator says it is finished. cancel() may be called at any
// time (e.g. the Stop button); the next on_logits() then finishes without
// sampling, so a pending model step is the only work ever wasted.
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "assistant/sampler.h"
#include "constrained/token_constraint.h"

namespace es {

enum class FinishReason { None, StopToken, MaxTokens, Cancelled, Error };
const char* finish_reason_name(FinishReason r);

struct GenerationConfig {
    int max_new_tokens = 256;
    std::vector<int> stop_ids;  // e.g. eos and <end_of_turn>
    // Never sampled: the image markers, <bos>, <pad> (conversation.h's
    // never_generated_ids). One of them in an answer would become an image
    // slot or a second sequence start when the answer is fed back as context.
    std::vector<int> never_ids;
    SamplerConfig sampler;
    // Optional: only tokens it allows are sampled, and a stop token only once
    // the output is complete (constrained/json_constraint.h). Reset by start().
    std::shared_ptr<TokenConstraint> constraint;
};

struct StepResult {
    int token = -1;           // the sampled token, -1 when none was sampled
    bool finished = false;
    FinishReason reason = FinishReason::None;
    bool feed = false;        // true: run the model on `token` and call on_logits again
};

class Generator {
public:
    Generator() = default;
    // `context`: the prompt ids (for the repetition penalty).
    void start(const GenerationConfig& cfg, const std::vector<int>& context);
    StepResult on_logits(const float* logits, int vocab);
    void cancel() { cancel_requested_ = true; }

    bool running() const { return started_ && reason_ == FinishReason::None; }
    bool finished() const { return reason_ != FinishReason::None; }
    FinishReason reason() const { return reason_; }
    // Generated ids, including a final stop token when that ended the answer.
    const std::vector<int>& generated() const { return generated_; }
    // Of generated(), how many have been fed through the model (are in the KV cache).
    size_t fed() const { return fed_; }
    // How many more tokens the answer may still get (0 once finished).
    int tokens_left() const { return running() ? std::max(0, cfg_.max_new_tokens - int(generated_.size())) : 0; }
    // Why the answer ended with FinishReason::Error, in plain words.
    const std::string& error() const { return error_; }

private:
    GenerationConfig cfg_;
    Sampler sampler_;
    std::vector<int> history_;
    std::vector<int> generated_;
    size_t fed_ = 0;
    bool started_ = false;
    bool cancel_requested_ = false;
    FinishReason reason_ = FinishReason::None;
    std::string error_;
    std::vector<uint32_t> mask_;
    std::vector<float> masked_;
    int constrained_sample(const float* logits, int vocab);
    int unconstrained_sample(const float* logits, int vocab);
};

}  // namespace es
