// rouge.cpp: see rouge.h.
#include "metrics/rouge.h"

#include <algorithm>
#include <map>

#include "metrics/text_tokens.h"

namespace es {

namespace {

std::map<std::vector<std::string>, int> ngram_counts(const std::vector<std::string>& tokens, int n) {
    std::map<std::vector<std::string>, int> counts;
    for (size_t i = 0; i + size_t(n) <= tokens.size(); ++i)
        ++counts[std::vector<std::string>(tokens.begin() + long(i), tokens.begin() + long(i) + n)];
    return counts;
}

RougeScore score(double overlap, double generated_count, double reference_count) {
    RougeScore s;
    s.precision = overlap / std::max(generated_count, 1.0);
    s.recall = overlap / std::max(reference_count, 1.0);
    s.f = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
    return s;
}

}  // namespace

RougeScore rouge_n(const std::vector<std::string>& reference, const std::vector<std::string>& generated, int n) {
    const auto ref = ngram_counts(reference, n);
    const auto gen = ngram_counts(generated, n);
    double overlap = 0, ref_total = 0, gen_total = 0;
    for (const auto& [gram, count] : ref) {
        ref_total += count;
        auto found = gen.find(gram);
        if (found != gen.end()) overlap += std::min(count, found->second);
    }
    for (const auto& entry : gen) gen_total += entry.second;
    return score(overlap, gen_total, ref_total);
}

RougeScore rouge_l(const std::vector<std::string>& reference, const std::vector<std::string>& generated) {
    if (reference.empty() || generated.empty()) return {};
    // One row of the LCS table at a time.
    std::vector<int> previous(generated.size() + 1, 0), current(generated.size() + 1, 0);
    for (size_t i = 1; i <= reference.size(); ++i) {
        for (size_t j = 1; j <= generated.size(); ++j)
            current[j] = reference[i - 1] == generated[j - 1] ? previous[j - 1] + 1
                                                               : std::max(previous[j], current[j - 1]);
        std::swap(previous, current);
    }
    const double lcs = previous[generated.size()];
    RougeScore s;
    s.precision = lcs / double(generated.size());
    s.recall = lcs / double(reference.size());
    s.f = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
    return s;
}

RougeScores rouge_scores(const std::vector<std::string>& references, const std::string& generated) {
    const std::vector<std::string> gen = text_tokens(generated);
    RougeScores best;
    bool first = true;
    for (const std::string& reference : references) {
        const std::vector<std::string> ref = text_tokens(reference);
        const RougeScore r1 = rouge_n(ref, gen, 1), r2 = rouge_n(ref, gen, 2), rl = rouge_l(ref, gen);
        // rouge_score's score_multi keeps the first reference on equal F.
        if (first || r1.f > best.rouge1.f) best.rouge1 = r1;
        if (first || r2.f > best.rouge2.f) best.rouge2 = r2;
        if (first || rl.f > best.rougeL.f) best.rougeL = rl;
        first = false;
    }
    return best;
}

}  // namespace es
