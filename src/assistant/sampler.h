// sampler.h: picks the next token from a row of logits. Greedy when
// temperature is 0; otherwise repetition penalty -> temperature -> top-k ->
// top-p -> draw, the order Hugging Face's generate() applies them. The RNG is
// seeded and its numbers are computed here, not by <random>'s distributions,
// so a seed gives the same tokens natively and in WebAssembly.
#pragma once
#include <cstdint>
#include <vector>

namespace es {

struct SamplerConfig {
    float temperature = 0.0f;         // 0 = greedy (argmax; ties -> lowest id)
    int top_k = 0;                    // 0 = off
    float top_p = 1.0f;               // 1 = off
    float repetition_penalty = 1.0f;  // 1 = off; HF/CTRL rule: logit>0 ? l/p : l*p
    uint64_t seed = 0;
};

// Deterministic 64-bit generator (splitmix64): tiny, seedable, identical everywhere.
class Rng {
public:
    explicit Rng(uint64_t seed = 0) : state_(seed) {}
    uint64_t next();
    double uniform();  // [0, 1), 53 random bits
private:
    uint64_t state_;
};

class Sampler {
public:
    explicit Sampler(const SamplerConfig& cfg = {}) : cfg_(cfg), rng_(cfg.seed) {}
    const SamplerConfig& config() const { return cfg_; }
    // `history`: ids the repetition penalty applies to (prompt + generated so far).
    int sample(const float* logits, int vocab, const std::vector<int>& history);
private:
    SamplerConfig cfg_;
    Rng rng_;
};

int argmax(const float* v, int n);
// Numerically stable log-softmax of one row (double accumulation).
std::vector<double> log_softmax(const float* logits, int n);

}  // namespace es
