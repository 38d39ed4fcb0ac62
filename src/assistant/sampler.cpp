#include "assistant/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace es {

uint64_t Rng::next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double Rng::uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }

int argmax(const float* v, int n) {
    int best = 0;
    for (int i = 1; i < n; ++i)
        if (v[i] > v[best]) best = i;
    return best;
}

std::vector<double> log_softmax(const float* logits, int n) {
    std::vector<double> out(size_t(std::max(n, 0)));
    if (n <= 0) return out;
    double mx = logits[argmax(logits, n)];
    double sum = 0;
    for (int i = 0; i < n; ++i) sum += std::exp(double(logits[i]) - mx);
    const double lse = mx + std::log(sum);
    for (int i = 0; i < n; ++i) out[size_t(i)] = double(logits[i]) - lse;
    return out;
}

int Sampler::sample(const float* logits, int vocab, const std::vector<int>& history) {
    if (vocab <= 0) return -1;
    std::vector<float> l(logits, logits + vocab);
    if (cfg_.repetition_penalty != 1.0f && cfg_.repetition_penalty > 0.0f) {
        std::vector<char> seen(size_t(vocab), 0);
        for (int id : history)
            if (id >= 0 && id < vocab && !seen[size_t(id)]) {
                seen[size_t(id)] = 1;
                float& x = l[size_t(id)];
                x = x > 0 ? x / cfg_.repetition_penalty : x * cfg_.repetition_penalty;
            }
    }
    if (cfg_.temperature <= 0.0f) return argmax(l.data(), vocab);

    for (float& x : l) x /= cfg_.temperature;
    std::vector<int> idx(static_cast<size_t>(vocab));
    std::iota(idx.begin(), idx.end(), 0);
    // Sorted by logit, descending, ties by id; with top-k only the k best are
    // sorted (a 262k vocabulary makes a full sort per token noticeable).
    auto better = [&](int a, int b) { return l[size_t(a)] > l[size_t(b)] || (l[size_t(a)] == l[size_t(b)] && a < b); };
    size_t keep = idx.size();
    if (cfg_.top_k > 0) keep = std::min(keep, size_t(cfg_.top_k));
    std::partial_sort(idx.begin(), idx.begin() + std::ptrdiff_t(keep), idx.end(), better);
    const double mx = l[size_t(idx[0])];
    std::vector<double> p(keep);
    double sum = 0;
    for (size_t i = 0; i < keep; ++i) sum += (p[i] = std::exp(double(l[size_t(idx[i])]) - mx));
    for (double& x : p) x /= sum;
    if (cfg_.top_p < 1.0f) {
        // Smallest prefix whose mass reaches top_p (always at least one token).
        double acc = 0;
        size_t n = 0;
        while (n < keep) {
            acc += p[n++];
            if (acc >= double(cfg_.top_p)) break;
        }
        keep = n;
        p.resize(keep);
        sum = std::accumulate(p.begin(), p.end(), 0.0);
        for (double& x : p) x /= sum;
    }
    const double u = rng_.uniform();
    double acc = 0;
    for (size_t i = 0; i < keep; ++i) {
        acc += p[i];
        if (u < acc) return idx[i];
    }
    return idx[keep - 1];
}

}  // namespace es
