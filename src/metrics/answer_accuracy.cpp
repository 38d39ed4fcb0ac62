// answer_accuracy.cpp: see answer_accuracy.h.
#include "metrics/answer_accuracy.h"

#include <map>

namespace es {

std::string normalise_answer(const std::string& text) {
    std::string out;
    bool space = false;
    for (char ch : text) {
        const unsigned char c = static_cast<unsigned char>(ch);
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            space = !out.empty();
            continue;
        }
        if (space) out += ' ';
        space = false;
        out += (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : ch;
    }
    while (!out.empty() && out.back() == '.') out.pop_back();
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

std::vector<MetricValue> proportion_metrics(const std::vector<double>& right, const std::vector<double>& missing,
                                            const BootstrapOptions& bootstrap) {
    std::vector<MetricValue> metrics = {{"accuracy", weighted_mean(right, {}), {}},
                                        {"missing_rate", weighted_mean(missing, {}), {}}};
    attach_intervals(metrics, bootstrap_intervals(right.size(), bootstrap, 2,
                                                  [&](const std::vector<double>& w, double* out) {
                                                      out[0] = weighted_mean(right, w);
                                                      out[1] = weighted_mean(missing, w);
                                                  }));
    return metrics;
}

MultipleChoiceReport multiple_choice_report(const std::vector<ChoiceItem>& items, const BootstrapOptions& bootstrap) {
    MultipleChoiceReport report;
    std::map<std::string, size_t> index;
    std::vector<double> answer_right, missing;
    for (const ChoiceItem& item : items) {
        const bool right = !item.predicted.empty() && normalise_answer(item.predicted) == normalise_answer(item.truth);
        answer_right.push_back(right ? 1.0 : 0.0);
        missing.push_back(item.predicted.empty() ? 1.0 : 0.0);
        auto found = index.find(item.question);
        if (found == index.end()) {
            index.emplace(item.question, report.question_ids.size());
            report.question_ids.push_back(item.question);
            report.question_right.push_back(right ? 1.0 : 0.0);
        } else if (!right) {
            report.question_right[found->second] = 0.0;
        }
    }
    report.questions = report.question_ids.size();
    // Answers resample by item, questions by question (a question's rotations stay together).
    std::vector<MetricValue> by_answer = proportion_metrics(answer_right, missing, bootstrap);
    std::vector<MetricValue> circular = {{"circular_accuracy", weighted_mean(report.question_right, {}), {}}};
    attach_intervals(circular, bootstrap_intervals(report.questions, bootstrap, 1,
                                                   [&](const std::vector<double>& w, double* out) {
                                                       out[0] = weighted_mean(report.question_right, w);
                                                   }));
    report.metrics = {by_answer[0], circular[0], by_answer[1]};
    return report;
}

}  // namespace es
