// bleu.h: corpus-level BLEU-4 (Papineni et al. 2002) as NLTK's corpus_bleu
// computes it with its defaults (uniform weights 1/4, no smoothing):
// - tokens: text_tokens.h (lower-cased ASCII words, as for ROUGE);
// - modified n-gram precision for n = 1..4 pooled over the corpus: each
//   generated n-gram's count clipped by its largest count in any one
//   reference, summed, over the generated n-gram total of each item (at least 1
//   per item, as NLTK);
// - brevity penalty over the corpus: c = generated tokens, r = for each item
//   the reference length closest to its generated length (the shorter on
//   ties); BP = 1 if c > r, 0 if c = 0, else exp(1 - r / c);
// - BLEU = BP * exp(mean of log p_n); 0 when some order has no match (no
//   smoothing; NLTK returns a value below 1e-70 there).
#pragma once
#include <string>
#include <vector>

namespace es {

// The counts one item adds to the corpus.
struct BleuCounts {
    double matches[4] = {0, 0, 0, 0};
    double totals[4] = {0, 0, 0, 0};
    double generated_length = 0, reference_length = 0;
};

BleuCounts bleu_counts(const std::vector<std::vector<std::string>>& references,
                       const std::vector<std::string>& generated);

struct Bleu {
    double bleu = 0;
    double precisions[4] = {0, 0, 0, 0};
    double brevity_penalty = 0;
    double generated_length = 0, reference_length = 0;
};

// weights: per item (bootstrap multiplicities), empty = all 1.
Bleu corpus_bleu(const std::vector<BleuCounts>& items, const std::vector<double>& weights = {});

}  // namespace es
