// bleu.cpp: see bleu.h.
#include "metrics/bleu.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

namespace es {

namespace {

std::map<std::vector<std::string>, double> ngram_counts(const std::vector<std::string>& tokens, size_t n) {
    std::map<std::vector<std::string>, double> counts;
    for (size_t i = 0; i + n <= tokens.size(); ++i)
        counts[std::vector<std::string>(tokens.begin() + long(i), tokens.begin() + long(i + n))] += 1;
    return counts;
}

}  // namespace

BleuCounts bleu_counts(const std::vector<std::vector<std::string>>& references,
                       const std::vector<std::string>& generated) {
    BleuCounts out;
    for (size_t n = 1; n <= 4; ++n) {
        const auto gen = ngram_counts(generated, n);
        std::map<std::vector<std::string>, double> max_ref;
        for (const auto& ref : references)
            for (const auto& [gram, count] : ngram_counts(ref, n)) max_ref[gram] = std::max(max_ref[gram], count);
        double matches = 0, total = 0;
        for (const auto& [gram, count] : gen) {
            total += count;
            auto found = max_ref.find(gram);
            if (found != max_ref.end()) matches += std::min(count, found->second);
        }
        out.matches[n - 1] = matches;
        out.totals[n - 1] = std::max(total, 1.0);
    }
    out.generated_length = double(generated.size());
    bool first = true;
    for (const auto& ref : references) {
        const double len = double(ref.size());
        const double diff = std::fabs(len - out.generated_length);
        const double best = std::fabs(out.reference_length - out.generated_length);
        if (first || diff < best || (diff == best && len < out.reference_length)) out.reference_length = len;
        first = false;
    }
    return out;
}

Bleu corpus_bleu(const std::vector<BleuCounts>& items, const std::vector<double>& weights) {
    Bleu out;
    double matches[4] = {0, 0, 0, 0}, totals[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < items.size(); ++i) {
        const double w = weights.empty() ? 1.0 : weights[i];
        for (int n = 0; n < 4; ++n) {
            matches[n] += w * items[i].matches[n];
            totals[n] += w * items[i].totals[n];
        }
        out.generated_length += w * items[i].generated_length;
        out.reference_length += w * items[i].reference_length;
    }
    const double c = out.generated_length, r = out.reference_length;
    out.brevity_penalty = c > r ? 1.0 : (c == 0 ? 0.0 : std::exp(1.0 - r / c));
    bool all_match = true;
    double log_sum = 0;
    for (int n = 0; n < 4; ++n) {
        out.precisions[n] = totals[n] > 0 ? matches[n] / totals[n] : 0.0;
        if (matches[n] <= 0) all_match = false;
        else log_sum += 0.25 * std::log(out.precisions[n]);
    }
    out.bleu = all_match ? out.brevity_penalty * std::exp(log_sum) : 0.0;
    return out;
}

}  // namespace es
