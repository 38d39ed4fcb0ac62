#include "assistant/prompt_lookup.h"

#include <algorithm>

namespace es {

std::vector<int> prompt_lookup_draft(const std::vector<int>& tokens, const PromptLookupConfig& config,
                                     const std::vector<int>& never) {
    std::vector<int> best, draft;
    const size_t len = tokens.size();
    if (config.max_draft <= 0 || config.min_ngram <= 0) return best;
    for (int n = std::min<int>(config.max_ngram, int(len) - 1); n >= config.min_ngram; --n) {
        const size_t tail = len - size_t(n);
        // The most recent occurrence first (the nearer text is the likelier continuation), unless its
        // continuation runs into the end: inside a repeated run the earlier occurrences propose more.
        for (size_t start = tail; start-- > 0;) {
            if (!std::equal(tokens.begin() + long(start), tokens.begin() + long(start) + n, tokens.begin() + long(tail)))
                continue;
            draft.clear();
            for (size_t i = start + size_t(n); i < len && draft.size() < size_t(config.max_draft); ++i) {
                if (std::find(never.begin(), never.end(), tokens[i]) != never.end()) break;
                draft.push_back(tokens[i]);
            }
            if (draft.size() > best.size()) best = draft;
            if (best.size() == size_t(config.max_draft)) return best;
        }
        if (!best.empty()) return best;
    }
    return best;
}

}  // namespace es
