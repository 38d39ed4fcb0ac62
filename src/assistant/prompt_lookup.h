// prompt_lookup.h: draft tokens for a multi-token decode step, found by
// looking the latest tokens up earlier in the conversation (prompt lookup
// decoding). The runtime feeds the next token and its drafts in one model
// pass and keeps a draft only while the generator, given the row before it,
// picks that same token: the answer is exactly what one-token steps give, for
// greedy and seeded sampling alike, and a wrong draft costs one wider pass.
#pragma once
#include <vector>

namespace es {

struct PromptLookupConfig {
    int max_ngram = 3;  // the longest tail looked up
    int min_ngram = 2;  // the shortest (1 proposes often and is rarely right)
    int max_draft = 6;  // tokens proposed per step
};

// `tokens`: the conversation so far, ending with the token about to be fed.
// Returns the tokens that followed the most recent earlier occurrence of its
// longest matching tail (at most max_draft, never past the end of `tokens`,
// cut before any id in `never`: image slots and markers are never drafted);
// when that continuation is shorter than max_draft, the occurrence with the
// longest one.
// Empty when no tail of min_ngram tokens occurs earlier.
std::vector<int> prompt_lookup_draft(const std::vector<int>& tokens, const PromptLookupConfig& config,
                                     const std::vector<int>& never = {});

}  // namespace es
