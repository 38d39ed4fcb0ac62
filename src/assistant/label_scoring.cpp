#include "assistant/label_scoring.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "assistant/sampler.h"

namespace es {

bool LabelScorer::begin(const Tokenizer& tok, const std::vector<std::string>& answers, int end_id,
                        std::string* error) {
    tokens_.clear();
    if (answers.size() < 2) {
        if (error) *error = "label scoring needs at least two labels";
        return false;
    }
    for (const auto& a : answers) {
        // Label names are data (a label-set file), not template text: a control-token
        // name inside one is spelled with ordinary pieces (Tokenizer::encode_as_text).
        std::vector<int> t = tok.encode_as_text(a);
        if (end_id >= 0) t.push_back(end_id);
        if (t.empty()) {
            if (error) *error = "label '" + a + "' has no tokens";
            return false;
        }
        tokens_.push_back(std::move(t));
    }
    first_.assign(tokens_.size(), 0.0);
    rest_.assign(tokens_.size(), 0.0);
    done_.assign(tokens_.size(), 0);
    have_prefix_ = false;
    return true;
}

std::vector<int> LabelScorer::run_tokens(size_t i) const {
    if (i >= tokens_.size() || tokens_[i].size() < 2) return {};
    return std::vector<int>(tokens_[i].begin(), tokens_[i].end() - 1);
}

void LabelScorer::set_prefix_logits(const float* row, int vocab) {
    const auto lp = log_softmax(row, vocab);
    for (size_t i = 0; i < tokens_.size(); ++i) {
        const int t = tokens_[i][0];
        first_[i] = t >= 0 && t < vocab ? lp[size_t(t)] : -INFINITY;
        if (tokens_[i].size() == 1) done_[i] = 1;  // nothing to run
    }
    have_prefix_ = true;
}

bool LabelScorer::add_label_logits(size_t i, const float* logits, int rows, int vocab, std::string* error) {
    if (i >= tokens_.size()) {
        if (error) *error = "no such label";
        return false;
    }
    const auto& t = tokens_[i];
    if (rows != int(t.size()) - 1) {
        if (error) *error = "label " + std::to_string(i) + ": expected " + std::to_string(t.size() - 1) + " logits rows, got " +
                            std::to_string(rows);
        return false;
    }
    double sum = 0;
    for (int r = 0; r < rows; ++r) {
        const auto lp = log_softmax(logits + size_t(r) * size_t(vocab), vocab);
        const int next = t[size_t(r) + 1];
        sum += next >= 0 && next < vocab ? lp[size_t(next)] : -INFINITY;
    }
    rest_[i] = sum;
    done_[i] = 1;
    return true;
}

bool LabelScorer::complete() const {
    return have_prefix_ && std::all_of(done_.begin(), done_.end(), [](char d) { return d != 0; });
}

std::vector<double> LabelScorer::log_likelihoods() const {
    std::vector<double> ll(tokens_.size());
    for (size_t i = 0; i < ll.size(); ++i) ll[i] = first_[i] + rest_[i];
    return ll;
}

std::vector<double> LabelScorer::probabilities() const {
    auto ll = log_likelihoods();
    if (ll.empty()) return ll;
    const double mx = *std::max_element(ll.begin(), ll.end());
    double sum = 0;
    for (double& x : ll) sum += (x = std::isfinite(x) ? std::exp(x - mx) : 0.0);
    for (double& x : ll) x /= sum;
    return ll;
}

std::vector<size_t> LabelScorer::ranking() const {
    auto ll = log_likelihoods();
    std::vector<size_t> idx(ll.size());
    std::iota(idx.begin(), idx.end(), size_t(0));
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return ll[a] > ll[b]; });
    return idx;
}

}  // namespace es
