// label_scoring.h: classification by likelihood. Every label of a label set is
// scored as the model's probability of answering exactly that label after one
// shared prompt prefix: log P(label tokens, then the end-of-answer token |
// prefix). The runtime computes the prefix once (KV cache) and runs each
// label's tokens on top of it; this class says which tokens to run, collects
// the logits, and turns the log-likelihoods into a probability vector over the
// label set (softmax), the full vector AUROC needs. Label sets themselves are
// label_set.h's (models/labels/*.json); this class only sees answer strings.
#pragma once
#include <string>
#include <vector>

#include "assistant/tokenizer.h"

namespace es {

class LabelScorer {
public:
    // end_id: appended to every label (e.g. <end_of_turn>) so "polyp" does not
    // also collect the mass of "polyps"; -1 to score the bare tokens.
    bool begin(const Tokenizer& tok, const std::vector<std::string>& answers, int end_id, std::string* error);

    size_t size() const { return tokens_.size(); }
    // Tokens to run on top of the prefix for label i: all of its tokens except
    // the last (whose probability the previous row gives).
    std::vector<int> run_tokens(size_t i) const;
    const std::vector<int>& label_tokens(size_t i) const { return tokens_[i]; }

    // The prefix's last logits row (predicts each label's first token).
    void set_prefix_logits(const float* row, int vocab);
    // logits: [rows, vocab] from running run_tokens(i); rows == run_tokens(i).size().
    bool add_label_logits(size_t i, const float* logits, int rows, int vocab, std::string* error);

    bool complete() const;
    std::vector<double> log_likelihoods() const;  // sum of token log-probs per label
    std::vector<double> probabilities() const;    // softmax over the label set, sums to 1
    std::vector<size_t> ranking() const;           // indices, most probable first

private:
    std::vector<std::vector<int>> tokens_;
    std::vector<double> first_;   // log p(first token | prefix), per label
    std::vector<double> rest_;    // sum of the other tokens' log-probs
    std::vector<char> done_;
    bool have_prefix_ = false;
};

}  // namespace es
