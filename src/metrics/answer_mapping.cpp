// answer_mapping.cpp: see answer_mapping.h.
#include "metrics/answer_mapping.h"

#include <algorithm>

namespace es {

namespace {

bool is_word_char(unsigned char c) {
    // ASCII letters and digits, and every byte of a multi-byte UTF-8 character
    // (accented letters stay part of their word).
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

// Whole-word occurrence of `phrase` in `text` (both answer_words forms).
bool contains_words(const std::string& text, const std::string& phrase) {
    if (phrase.empty()) return false;
    for (size_t at = text.find(phrase); at != std::string::npos; at = text.find(phrase, at + 1)) {
        const bool starts = at == 0 || text[at - 1] == ' ';
        const size_t end = at + phrase.size();
        const bool ends = end == text.size() || text[end] == ' ';
        if (starts && ends) return true;
    }
    return false;
}

}  // namespace

std::string answer_words(const std::string& text) {
    std::string out;
    bool gap = false;
    for (char ch : text) {
        const unsigned char c = static_cast<unsigned char>(ch);
        if (!is_word_char(c)) {
            gap = !out.empty();
            continue;
        }
        if (gap) out += ' ';
        gap = false;
        out += (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : ch;
    }
    return out;
}

LabelMapper::LabelMapper(const std::vector<std::vector<std::string>>& names) {
    for (const auto& list : names) {
        std::vector<std::string> w;
        for (const std::string& n : list) {
            const std::string a = answer_words(n);
            if (!a.empty()) w.push_back(a);
        }
        words_.push_back(w);
    }
}

int LabelMapper::map(const std::string& answer) const {
    const std::string text = answer_words(answer);
    if (text.empty()) return -1;
    for (size_t i = 0; i < words_.size(); ++i)
        for (const std::string& n : words_[i])
            if (n == text) return int(i);
    // Labels named somewhere in the answer, with their longest name found.
    std::vector<std::pair<int, std::vector<std::string>>> found;
    for (size_t i = 0; i < words_.size(); ++i) {
        std::vector<std::string> hits;
        for (const std::string& n : words_[i])
            if (contains_words(text, n)) hits.push_back(n);
        if (!hits.empty()) found.emplace_back(int(i), hits);
    }
    if (found.empty()) return -1;
    if (found.size() == 1) return found[0].first;
    for (const auto& [label, hits] : found) {
        const std::string longest = *std::max_element(
            hits.begin(), hits.end(), [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
        bool covers_all = true;
        for (const auto& [other, other_hits] : found) {
            if (other == label) continue;
            for (const std::string& h : other_hits)
                if (!contains_words(longest, h)) covers_all = false;
        }
        if (covers_all) return label;
    }
    return -1;
}

std::string choice_letter(const std::string& answer, const std::vector<std::string>& letters,
                          const std::vector<std::string>& texts) {
    // 1. The answer is the letter: alone, in brackets, or followed by '.', ')', ':' or ','
    //    ("B", "(B)", "B.", "B) polyp"); "A polyp" is an article, not option A.
    size_t i = 0;
    while (i < answer.size() && (answer[i] == ' ' || answer[i] == '(' || answer[i] == '\n' || answer[i] == '\t')) ++i;
    for (const std::string& l : letters) {
        if (l.empty() || answer.compare(i, l.size(), l) != 0) continue;
        const size_t end = i + l.size();
        if (end == answer.size() || std::string(".):,").find(answer[end]) != std::string::npos ||
            answer.find_first_not_of(" \t\r\n", end) == std::string::npos)
            return l;
    }
    // 2. The only option letter standing alone as an upper-case word ("Answer: B", "I choose (C)"),
    //    not counting an article "A" before a lower-case word.
    std::vector<std::string> standalone;
    for (const std::string& l : letters) {
        if (l.empty()) continue;
        for (size_t at = answer.find(l); at != std::string::npos; at = answer.find(l, at + 1)) {
            const bool starts = at == 0 || !is_word_char(static_cast<unsigned char>(answer[at - 1]));
            const size_t end = at + l.size();
            const bool ends = end == answer.size() || !is_word_char(static_cast<unsigned char>(answer[end]));
            const bool article = l == "A" && end + 1 < answer.size() && answer[end] == ' ' &&
                                 answer[end + 1] >= 'a' && answer[end + 1] <= 'z';
            if (starts && ends && !article) {
                standalone.push_back(l);
                break;
            }
        }
    }
    if (standalone.size() == 1) return standalone[0];
    if (standalone.size() > 1) return "";
    // 3. The only option whose text appears in the answer.
    const std::string words = answer_words(answer);
    std::string chosen;
    int count = 0;
    for (size_t k = 0; k < letters.size() && k < texts.size(); ++k) {
        if (contains_words(words, answer_words(texts[k]))) {
            chosen = letters[k];
            ++count;
        }
    }
    return count == 1 ? chosen : "";
}

}  // namespace es
