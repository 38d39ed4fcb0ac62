// answer_accuracy.h: tasks scored right or wrong per answer.
//
// - Region naming (REG: box -> label) and any answer compared as a label: right
//   when the normalised texts are equal (normalise_answer: lower case, outer
//   spaces and a final full stop removed, inner runs of white space made one space).
// - Counting: right when the predicted count equals the true count exactly; no
//   count in the answer is wrong.
// - Multiple choice: right when the chosen option letter equals the key. With
//   CircularEval (MMBench, VLMEvalKit) each question is asked once per rotation
//   of its options and counts as right only if every rotation was answered right.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "metrics/metric_value.h"

namespace es {

std::string normalise_answer(const std::string& text);

// accuracy (+ missing_rate when some answers are absent): right[i] in {0, 1}.
std::vector<MetricValue> proportion_metrics(const std::vector<double>& right, const std::vector<double>& missing,
                                            const BootstrapOptions& bootstrap);

struct ChoiceItem {
    std::string question;  // questions with the same id are rotations of one another
    std::string truth;     // the key's letter ("A")
    std::string predicted; // the chosen letter; "" when none was found
};

struct MultipleChoiceReport {
    // accuracy (every answer on its own), circular_accuracy (per question, all rotations right), missing_rate
    std::vector<MetricValue> metrics;
    size_t questions = 0;
    std::vector<std::string> question_ids;  // first-seen order
    std::vector<double> question_right;     // per question: all rotations right
};

MultipleChoiceReport multiple_choice_report(const std::vector<ChoiceItem>& items, const BootstrapOptions& bootstrap);

}  // namespace es
