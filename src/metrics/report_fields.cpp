// report_fields.cpp: see report_fields.h.
#include "metrics/report_fields.h"

#include "metrics/answer_accuracy.h"

namespace es {

namespace {

void flatten(const nlohmann::json& value, const std::string& path,
             std::vector<std::pair<std::string, std::string>>& out) {
    if (value.is_object()) {
        for (auto it = value.begin(); it != value.end(); ++it)
            flatten(it.value(), path.empty() ? it.key() : path + "." + it.key(), out);
    } else if (value.is_array()) {
        for (const auto& element : value) flatten(element, path + "[]", out);
    } else if (value.is_string()) {
        const std::string text = normalise_answer(value.get<std::string>());
        if (!text.empty()) out.emplace_back(path, text);
    } else if (!value.is_null()) {
        out.emplace_back(path, value.dump());
    }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> report_field_pairs(const nlohmann::json& report) {
    std::vector<std::pair<std::string, std::string>> out;
    flatten(report, "", out);
    return out;
}

double FieldCounts::precision() const { return predicted > 0 ? right / predicted : 0.0; }
double FieldCounts::recall() const { return reference > 0 ? right / reference : 0.0; }
double FieldCounts::f1() const {
    const double p = precision(), r = recall();
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

ReportFieldsReport report_fields_report(const std::vector<nlohmann::json>& references,
                                        const std::vector<nlohmann::json>& predictions,
                                        const BootstrapOptions& bootstrap) {
    ReportFieldsReport report;
    std::vector<FieldCounts> per_report;
    for (size_t i = 0; i < references.size() && i < predictions.size(); ++i) {
        std::map<std::pair<std::string, std::string>, int> remaining;
        FieldCounts counts;
        for (const auto& pair : report_field_pairs(references[i])) {
            ++remaining[pair];
            counts.reference += 1;
            report.per_field[pair.first].reference += 1;
        }
        for (const auto& pair : report_field_pairs(predictions[i])) {
            counts.predicted += 1;
            FieldCounts& field = report.per_field[pair.first];
            field.predicted += 1;
            auto found = remaining.find(pair);
            if (found != remaining.end() && found->second > 0) {
                --found->second;
                counts.right += 1;
                field.right += 1;
            }
        }
        report.total.right += counts.right;
        report.total.predicted += counts.predicted;
        report.total.reference += counts.reference;
        per_report.push_back(counts);
    }
    auto pooled = [&](const std::vector<double>& w) {
        FieldCounts t;
        for (size_t i = 0; i < per_report.size(); ++i) {
            const double k = w.empty() ? 1.0 : w[i];
            t.right += k * per_report[i].right;
            t.predicted += k * per_report[i].predicted;
            t.reference += k * per_report[i].reference;
        }
        return t;
    };
    report.metrics = {{"precision", report.total.precision(), {}},
                      {"recall", report.total.recall(), {}},
                      {"f1", report.total.f1(), {}}};
    attach_intervals(report.metrics, bootstrap_intervals(per_report.size(), bootstrap, 3,
                                                         [&](const std::vector<double>& w, double* out) {
                                                             const FieldCounts t = pooled(w);
                                                             out[0] = t.precision();
                                                             out[1] = t.recall();
                                                             out[2] = t.f1();
                                                         }));
    return report;
}

}  // namespace es
