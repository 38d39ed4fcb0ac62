#include "label_scoring.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <nlohmann/json.hpp>

#include "sampler.h"

namespace es {

bool parse_label_set(const std::string& json_text, LabelSet* out, std::string* error) {
    auto fail = [&](const std::string& m) { if (error) *error = "label set: " + m; return false; };
    auto j = nlohmann::json::parse(json_text, nullptr, false);
    if (j.is_discarded()) return fail("not valid JSON");
    LabelSet s;
    const nlohmann::json* arr = nullptr;
    if (j.is_array()) arr = &j;
    else if (j.is_object()) {
        s.id = j.value("id", std::string());
        s.name = j.value("name", s.id);
        s.question = j.value("question", j.value("prompt", std::string()));
        for (const char* key : {"labels", "classes"})
            if (j.contains(key)) { arr = &j[key]; break; }
    }
    if (!arr || !arr->is_array()) return fail("no 'labels' list");
    for (const auto& e : *arr) {
        Label l;
        if (e.is_string()) {
            l.id = l.name = e.get<std::string>();
        } else if (e.is_object()) {
            for (const char* k : {"name", "label", "display_name", "display"})
                if (e.contains(k) && e[k].is_string()) { l.name = e[k].get<std::string>(); break; }
            l.id = e.contains("id") && e["id"].is_string() ? e["id"].get<std::string>() : l.name;
            for (const char* k : {"answer", "prompt", "text"})
                if (e.contains(k) && e[k].is_string()) { l.answer = e[k].get<std::string>(); break; }
        } else {
            return fail("a label is neither a string nor an object");
        }
        if (l.name.empty()) l.name = l.id;
        if (l.answer.empty()) l.answer = l.name;
        if (l.answer.empty()) return fail("a label has no name");
        s.labels.push_back(l);
    }
    if (s.labels.size() < 2) return fail("needs at least two labels");
    *out = std::move(s);
    return true;
}

bool LabelScorer::begin(const Tokenizer& tok, const std::vector<std::string>& answers, int end_id,
                        std::string* error) {
    tokens_.clear();
    if (answers.size() < 2) {
        if (error) *error = "label scoring needs at least two labels";
        return false;
    }
    for (const auto& a : answers) {
        std::vector<int> t = tok.encode(a);
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
