// rouge.h: ROUGE-1, ROUGE-2 and ROUGE-L of a generated text against its
// reference(s), as Google's rouge_score computes them (rouge_scorer with
// use_stemmer=False): tokens from text_tokens.h; ROUGE-N counts n-gram overlap
// clipped by the smaller count, precision = overlap / generated n-grams,
// recall = overlap / reference n-grams (each divided by at least 1); ROUGE-L
// uses the longest common subsequence of the whole texts (not the per-sentence
// "Lsum"), 0 when either text is empty; F = 2PR / (P + R), 0 when P + R = 0.
// With several references each ROUGE type takes the reference with the best F
// (rouge_score's score_multi). A corpus figure is the mean of the items' scores.
#pragma once
#include <string>
#include <vector>

namespace es {

struct RougeScore {
    double precision = 0, recall = 0, f = 0;
};

RougeScore rouge_n(const std::vector<std::string>& reference, const std::vector<std::string>& generated, int n);
RougeScore rouge_l(const std::vector<std::string>& reference, const std::vector<std::string>& generated);

struct RougeScores {
    RougeScore rouge1, rouge2, rougeL;
};

RougeScores rouge_scores(const std::vector<std::string>& references, const std::string& generated);

}  // namespace es
