// classification_report.cpp: see classification_report.h.
#include "metrics/classification_report.h"

#include <memory>

namespace es {

namespace {

// The figures of one weighting of the items (the data: empty weights; a resample: multiplicities),
// in the order of ClassificationReport::metrics followed by each group's metrics.
std::vector<double> figures(const ClassificationInput& in, const std::vector<int>& predicted,
                            const OneVsRestAuroc* auroc, const std::vector<ClassGroup>& groups,
                            const std::vector<double>& weights) {
    std::vector<double> out;
    const ClassificationCounts counts = count_classifications(in.truth, predicted, in.num_classes, weights);
    const std::vector<ClassScores> scores = class_scores(counts);
    const double total = counts.total();
    out.push_back(accuracy(counts));
    out.push_back(macro_f1(scores));
    out.push_back(total > 0 ? counts.unmapped() / total : std::numeric_limits<double>::quiet_NaN());
    std::vector<double> per_class_auroc;
    if (auroc) {
        per_class_auroc = auroc->all_auroc(weights);
        out.push_back(mean_defined(per_class_auroc));
        out.push_back(brier_score(in.probabilities, in.truth, in.num_classes, weights));
        out.push_back(expected_calibration_error(in.probabilities, in.truth, in.num_classes, in.calibration_bins,
                                                 weights).ece);
    }
    for (const ClassGroup& g : groups) {
        out.push_back(accuracy_within(counts, g.classes));
        out.push_back(macro_f1(scores, g.classes));
        if (auroc) out.push_back(g.classes.empty() ? std::numeric_limits<double>::quiet_NaN()
                                                   : mean_defined(per_class_auroc, g.classes));
    }
    return out;
}

}  // namespace

ClassificationReport classification_report(const ClassificationInput& in) {
    ClassificationReport report;
    const bool has_probabilities = !in.probabilities.empty();
    std::vector<int> predicted = in.predicted;
    if (predicted.empty() && has_probabilities) {
        predicted.resize(in.truth.size());
        for (size_t i = 0; i < in.truth.size(); ++i)
            predicted[i] = arg_max(&in.probabilities[i * size_t(in.num_classes)], in.num_classes);
    }
    std::unique_ptr<OneVsRestAuroc> auroc;
    if (has_probabilities) auroc = std::make_unique<OneVsRestAuroc>(in.probabilities, in.truth, in.num_classes);

    if (!in.train_counts.empty()) {
        ClassGroup frequent, rare;
        frequent.name = "frequent";
        rare.name = "rare";
        for (int c = 0; c < in.num_classes; ++c)
            (in.train_counts[size_t(c)] >= in.frequency_threshold ? frequent : rare).classes.push_back(c);
        report.groups = {frequent, rare};
    }

    report.counts = count_classifications(in.truth, predicted, in.num_classes);
    report.per_class = class_scores(report.counts);
    if (auroc) {
        for (int c = 0; c < in.num_classes; ++c) {
            report.per_class_auroc.push_back(auroc->auroc(c));
            if (in.roc_curves) report.roc_curves.push_back(auroc->roc_curve(c));
        }
        report.calibration = expected_calibration_error(in.probabilities, in.truth, in.num_classes,
                                                        in.calibration_bins);
    }

    const std::vector<double> values = figures(in, predicted, auroc.get(), report.groups, {});
    std::vector<MetricValue> all;
    std::vector<std::string> names = {"accuracy", "macro_f1", "unmapped_rate"};
    if (auroc) names.insert(names.end(), {"macro_auroc", "brier", "ece"});
    for (const ClassGroup& g : report.groups) {
        names.push_back(g.name + ".accuracy");
        names.push_back(g.name + ".macro_f1");
        if (auroc) names.push_back(g.name + ".macro_auroc");
    }
    for (size_t i = 0; i < names.size(); ++i) all.push_back({names[i], values[i], {}});
    const std::vector<BootstrapInterval> intervals = bootstrap_intervals(
        in.truth.size(), in.bootstrap, int(all.size()), [&](const std::vector<double>& counts, double* out) {
            const std::vector<double> v = figures(in, predicted, auroc.get(), report.groups, counts);
            for (size_t i = 0; i < v.size(); ++i) out[i] = v[i];
        });
    attach_intervals(all, intervals);

    // Split the flat list back into the overall figures and each group's.
    size_t next = 3 + (auroc ? 3 : 0);
    report.metrics.assign(all.begin(), all.begin() + long(next));
    for (ClassGroup& g : report.groups) {
        const size_t per_group = auroc ? 3 : 2;
        for (size_t j = 0; j < per_group; ++j) {
            MetricValue m = all[next + j];
            m.name = m.name.substr(g.name.size() + 1);
            g.metrics.push_back(m);
        }
        next += per_group;
        for (int c : g.classes) g.items += report.counts.support(c);
    }
    return report;
}

}  // namespace es
