// report_fields.h: field-level precision, recall and F1 of structured reports
// (a drafted report against the reference one), both as JSON objects.
//
// Each report becomes a multiset of (field path, value) pairs: nested objects
// give dotted paths ("findings.location"), each element of an array is one pair
// under the array's path + "[]", strings are compared after normalise_answer
// (answer_accuracy.h), numbers and booleans as JSON writes them; null and ""
// are "not filled" and give no pair. A predicted pair is right when the
// reference has the same pair (each reference pair matches at most once).
// Precision = right / predicted pairs, recall = right / reference pairs,
// F1 = 2PR / (P + R); micro-averaged over all reports (pairs pooled), with the
// same per field path.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics/metric_value.h"

namespace es {

std::vector<std::pair<std::string, std::string>> report_field_pairs(const nlohmann::json& report);

struct FieldCounts {
    double right = 0, predicted = 0, reference = 0;
    double precision() const;  // 0 when nothing was predicted
    double recall() const;     // 0 when the reference has nothing
    double f1() const;
};

struct ReportFieldsReport {
    std::vector<MetricValue> metrics;            // precision, recall, f1 (micro)
    FieldCounts total;
    std::map<std::string, FieldCounts> per_field;
};

ReportFieldsReport report_fields_report(const std::vector<nlohmann::json>& references,
                                        const std::vector<nlohmann::json>& predictions,
                                        const BootstrapOptions& bootstrap);

}  // namespace es
