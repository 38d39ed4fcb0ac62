// answer_mapping.h: a generated free answer read as one of a fixed set of
// answers, for scoring classification by generation and multiple choice.
// Whatever cannot be read unambiguously is "unmapped" and counted as such
// (classification.h), never guessed.
//
// Labels: texts are compared as words (lower case; every run of characters
// other than letters and digits, including '-' and '_', is one space, so
// "ulcerative-colitis-grade-1" reads as "ulcerative colitis grade 1"). A label
// is named by its name or by one of its synonyms. The answer maps to a label
// when it is exactly one of these names, or when it contains, as whole words,
// names of exactly one label; if it names several labels, the label whose
// longest name contains every other found name (e.g. "colitis grade 1" over
// "colitis") wins, otherwise the answer is ambiguous and unmapped.
//
// Option letters (multiple choice, close to how VLMEvalKit reads answers): the
// answer starts with the letter alone or followed by '.', ')', ':' or ','
// ("B", "(B)", "B.", "B) polyp"); or else exactly one option letter stands
// alone as an upper-case word ("Answer: B"; an article "A" before a lower-case
// word does not count); or else exactly one option's text appears in it.
#pragma once
#include <string>
#include <vector>

namespace es {

std::string answer_words(const std::string& text);  // "Ulcerative-colitis, grade 1." -> "ulcerative colitis grade 1"

class LabelMapper {
public:
    // names[i]: label i's name followed by its synonyms.
    explicit LabelMapper(const std::vector<std::vector<std::string>>& names);
    int map(const std::string& answer) const;  // label index or -1 (unmapped)

private:
    std::vector<std::vector<std::string>> words_;  // answer_words of each name
};

// letters: the options' letters in order ("A", "B", ...); texts: their texts (may be empty).
// Returns the chosen letter or "" when none can be read.
std::string choice_letter(const std::string& answer, const std::vector<std::string>& letters,
                          const std::vector<std::string>& texts);

}  // namespace es
