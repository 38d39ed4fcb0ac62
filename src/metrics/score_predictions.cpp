// score_predictions.cpp: see score_predictions.h and README.md (formats).
#include "metrics/score_predictions.h"

#include <cmath>
#include <map>
#include <optional>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "json/json_syntax.h"
#include "annotation/coco.h"
#include "mask/rle.h"
#include "metrics/annotation_agreement.h"
#include "metrics/agreement.h"
#include "metrics/answer_mapping.h"
#include "metrics/answer_accuracy.h"
#include "metrics/bleu.h"
#include "metrics/classification_report.h"
#include "metrics/generation_speed.h"
#include "metrics/grounding.h"
#include "metrics/paired_difference.h"
#include "metrics/report_fields.h"
#include "metrics/rouge.h"
#include "metrics/text_tokens.h"

namespace es {

namespace {

using nlohmann::json;

struct InputError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] void bad(const std::string& message) { throw InputError(message); }

// Bounds that keep a hostile or mistaken file from exhausting memory (the
// confusion matrix is labels², a mask is one byte per pixel).
constexpr int kMaxLabels = 1000;
constexpr double kMaxMaskPixels = 64.0 * 1024 * 1024;

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json metric_json(const MetricValue& m) {
    json out = {{"value", number(m.value)}};
    if (m.interval.resamples_used > 0 || !std::isnan(m.interval.low)) {
        out["low"] = number(m.interval.low);
        out["high"] = number(m.interval.high);
    }
    return out;
}

json metrics_json(const std::vector<MetricValue>& metrics) {
    json out = json::object();
    for (const MetricValue& m : metrics) out[m.name] = metric_json(m);
    return out;
}

const json& need(const json& task, const char* key) {
    if (!task.contains(key)) bad(std::string("the task has no \"") + key + "\"");
    return task.at(key);
}

const json& need_array(const json& task, const char* key) {
    const json& v = need(task, key);
    if (!v.is_array()) bad(std::string("\"") + key + "\" must be a list");
    return v;
}

void same_length(const json& a, const char* a_name, const json& b, const char* b_name) {
    if (a.size() != b.size())
        bad(std::string("\"") + a_name + "\" has " + std::to_string(a.size()) + " entries but \"" + b_name +
            "\" has " + std::to_string(b.size()) + "; they must match one to one");
}

double finite_number(const json& v, const std::string& where) {
    if (!v.is_number()) bad(where + " must be a number");
    const double d = v.get<double>();
    if (!std::isfinite(d)) bad(where + " must be a finite number");
    return d;
}

BootstrapOptions bootstrap_options(const json& task) {
    BootstrapOptions o;
    if (!task.contains("bootstrap")) return o;
    const json& b = task.at("bootstrap");
    if (b.is_boolean()) {
        if (!b.get<bool>()) o.resamples = 0;
        return o;
    }
    if (!b.is_object()) bad("\"bootstrap\" must be an object like {\"resamples\": 1000, \"seed\": 0, \"confidence\": 0.95}");
    if (b.contains("resamples")) {
        const double r = finite_number(b.at("resamples"), "bootstrap.resamples");
        if (r < 0 || r > 100000 || r != std::floor(r)) bad("bootstrap.resamples must be a whole number from 0 to 100000");
        o.resamples = int(r);
    }
    if (b.contains("seed")) {
        const double s = finite_number(b.at("seed"), "bootstrap.seed");
        if (s < 0 || s != std::floor(s) || s > 9007199254740991.0) bad("bootstrap.seed must be a whole number >= 0");
        o.seed = uint64_t(s);
    }
    if (b.contains("confidence")) {
        o.confidence = finite_number(b.at("confidence"), "bootstrap.confidence");
        if (!(o.confidence > 0 && o.confidence < 1)) bad("bootstrap.confidence must be between 0 and 1, e.g. 0.95");
    }
    return o;
}

json bootstrap_json(const BootstrapOptions& o) {
    return {{"resamples", o.resamples}, {"seed", o.seed}, {"confidence", o.confidence}, {"method", "percentile"}};
}

// Class names and the index of each (exact name first, then the normalised one).
struct Labels {
    std::vector<std::string> names;
    std::map<std::string, int> exact, normalised;

    explicit Labels(const json& list) {
        if (!list.is_array() || list.empty()) bad("\"labels\" must be a non-empty list of class names");
        if (list.size() > size_t(kMaxLabels)) bad("there are more than " + std::to_string(kMaxLabels) + " labels");
        for (const json& l : list) {
            if (!l.is_string()) bad("\"labels\" must be a list of class names (text)");
            const std::string name = l.get<std::string>();
            if (exact.count(name)) bad("the label \"" + name + "\" is listed twice in \"labels\"");
            exact[name] = int(names.size());
            normalised.emplace(normalise_answer(name), int(names.size()));
            names.push_back(name);
        }
    }
    int size() const { return int(names.size()); }

    // A class given by name or index; null -> kUnmapped when allowed.
    int resolve(const json& v, const std::string& where, bool allow_unmapped) const {
        if (v.is_null()) {
            if (allow_unmapped) return kUnmapped;
            bad(where + " is empty; every item needs its true class");
        }
        if (v.is_number_integer() || v.is_number_unsigned()) {
            const long long i = v.get<long long>();
            if (i == -1 && allow_unmapped) return kUnmapped;
            if (i < 0 || i >= size())
                bad(where + " is class number " + std::to_string(i) + ", but there are " + std::to_string(size()) +
                    " labels (numbers 0 to " + std::to_string(size() - 1) + ")");
            return int(i);
        }
        if (v.is_string()) {
            const std::string s = v.get<std::string>();
            auto e = exact.find(s);
            if (e != exact.end()) return e->second;
            auto n = normalised.find(normalise_answer(s));
            if (n != normalised.end()) return n->second;
            bad(where + " is \"" + s + "\", which is not one of the labels" +
                (allow_unmapped ? "; use null for an answer that names no label" : ""));
        }
        bad(where + " must be a label name or number");
    }
};

json score_classification(const json& task) {
    const Labels labels(need(task, "labels"));
    ClassificationInput in;
    in.num_classes = labels.size();
    in.bootstrap = bootstrap_options(task);
    const json& truth = need_array(task, "truth");
    if (truth.empty()) bad("\"truth\" is empty: there is nothing to score");
    for (size_t i = 0; i < truth.size(); ++i)
        in.truth.push_back(labels.resolve(truth[i], "truth[" + std::to_string(i) + "]", false));
    if (task.contains("predicted") && !task.at("predicted").is_null()) {
        const json& predicted = need_array(task, "predicted");
        same_length(truth, "truth", predicted, "predicted");
        for (size_t i = 0; i < predicted.size(); ++i)
            in.predicted.push_back(labels.resolve(predicted[i], "predicted[" + std::to_string(i) + "]", true));
    }
    if (task.contains("probabilities") && !task.at("probabilities").is_null()) {
        const json& probabilities = need_array(task, "probabilities");
        same_length(truth, "truth", probabilities, "probabilities");
        for (size_t i = 0; i < probabilities.size(); ++i) {
            const json& row = probabilities[i];
            const std::string where = "probabilities[" + std::to_string(i) + "]";
            if (!row.is_array() || int(row.size()) != labels.size())
                bad(where + " must be a list of " + std::to_string(labels.size()) + " probabilities, one per label");
            double sum = 0;
            for (size_t c = 0; c < row.size(); ++c) {
                const double p = finite_number(row[c], where + "[" + std::to_string(c) + "]");
                if (p < 0 || p > 1) bad(where + " has a value outside 0..1");
                in.probabilities.push_back(p);
                sum += p;
            }
            if (std::fabs(sum - 1.0) > 1e-4)
                bad(where + " adds up to " + std::to_string(sum) +
                    ", not 1: give the full probability vector over the labels (softmax over the label scores)");
        }
    }
    json mapped_answers;
    if (in.predicted.empty() && task.contains("answers")) {
        // Generated free answers, read as labels here (answer_mapping.h).
        const json& answers = need_array(task, "answers");
        same_length(truth, "truth", answers, "answers");
        std::vector<std::vector<std::string>> names;
        for (const std::string& n : labels.names) names.push_back({n});
        if (task.contains("synonyms")) {
            const json& syn = task.at("synonyms");
            if (!syn.is_object()) bad("\"synonyms\" must be an object {label: [other names]}");
            for (auto it = syn.begin(); it != syn.end(); ++it) {
                const int c = labels.resolve(json(it.key()), "synonyms key \"" + it.key() + "\"", false);
                if (!it.value().is_array()) bad("synonyms[\"" + it.key() + "\"] must be a list of names");
                for (const json& n : it.value()) {
                    if (!n.is_string()) bad("synonyms[\"" + it.key() + "\"] must be a list of names");
                    names[size_t(c)].push_back(n.get<std::string>());
                }
            }
        }
        const LabelMapper mapper(names);
        mapped_answers = json::array();
        for (size_t i = 0; i < answers.size(); ++i) {
            if (!answers[i].is_null() && !answers[i].is_string()) bad("answers[" + std::to_string(i) + "] must be text or null");
            const int c = answers[i].is_string() ? mapper.map(answers[i].get<std::string>()) : kUnmapped;
            in.predicted.push_back(c);
            mapped_answers.push_back(c < 0 ? json(nullptr) : json(labels.names[size_t(c)]));
        }
    }
    if (in.predicted.empty() && in.probabilities.empty())
        bad("a classification task needs \"predicted\" (the answers' labels), \"answers\" (free answers to read as labels) "
            "or \"probabilities\" (label scoring)");
    if (task.contains("train_counts") && !task.at("train_counts").is_null()) {
        const json& counts = task.at("train_counts");
        in.train_counts.assign(size_t(labels.size()), 0.0);
        if (counts.is_array()) {
            if (int(counts.size()) != labels.size())
                bad("\"train_counts\" must have one count per label (" + std::to_string(labels.size()) + ")");
            for (size_t c = 0; c < counts.size(); ++c)
                in.train_counts[c] = finite_number(counts[c], "train_counts[" + std::to_string(c) + "]");
        } else if (counts.is_object()) {
            for (auto it = counts.begin(); it != counts.end(); ++it)
                in.train_counts[size_t(labels.resolve(json(it.key()), "train_counts key", false))] =
                    finite_number(it.value(), "train_counts[\"" + it.key() + "\"]");
        } else {
            bad("\"train_counts\" must be a list (one count per label) or an object {label: count}");
        }
    }
    if (task.contains("frequency_threshold"))
        in.frequency_threshold = finite_number(task.at("frequency_threshold"), "frequency_threshold");
    if (task.contains("calibration_bins")) {
        const double b = finite_number(task.at("calibration_bins"), "calibration_bins");
        if (b < 1 || b > 1000 || b != std::floor(b)) bad("calibration_bins must be a whole number from 1 to 1000");
        in.calibration_bins = int(b);
    }
    if (task.contains("roc_curves")) in.roc_curves = task.at("roc_curves").get<bool>();

    const ClassificationReport r = classification_report(in);
    json out = {{"task", "classification"}, {"items", in.truth.size()}, {"metrics", metrics_json(r.metrics)}};
    json per_class = json::array();
    for (int c = 0; c < labels.size(); ++c) {
        const ClassScores& s = r.per_class[size_t(c)];
        json row = {{"label", labels.names[size_t(c)]}, {"precision", s.precision}, {"recall", s.recall},
                    {"f1", s.f1}, {"support", s.support}, {"predicted", r.counts.predicted(c)}};
        if (!r.per_class_auroc.empty()) row["auroc"] = number(r.per_class_auroc[size_t(c)]);
        if (!in.train_counts.empty()) row["train_count"] = in.train_counts[size_t(c)];
        per_class.push_back(row);
    }
    out["per_class"] = per_class;
    json matrix = json::array(), unmapped = json::array();
    for (int t = 0; t < labels.size(); ++t) {
        json row = json::array();
        for (int p = 0; p < labels.size(); ++p) row.push_back(r.counts.at(t, p));
        matrix.push_back(row);
        unmapped.push_back(r.counts.at(t, kUnmapped));
    }
    out["confusion_matrix"] = {{"labels", labels.names}, {"rows", "true class"}, {"columns", "predicted class"},
                               {"matrix", matrix}, {"unmapped", unmapped}};
    if (!in.probabilities.empty()) {
        json bins = json::array();
        for (const ReliabilityBin& b : r.calibration.bins)
            bins.push_back({{"low", b.low}, {"high", b.high}, {"count", b.count}, {"confidence", b.confidence},
                            {"accuracy", b.accuracy}});
        out["calibration"] = {{"bins", bins}, {"confidence", "top-label"}};
        if (in.roc_curves) {
            json curves = json::array();
            for (int c = 0; c < labels.size(); ++c) {
                const RocCurve& curve = r.roc_curves[size_t(c)];
                std::vector<double> thresholds(curve.thresholds.begin() + 1, curve.thresholds.end());
                curves.push_back({{"label", labels.names[size_t(c)]}, {"fpr", curve.fpr}, {"tpr", curve.tpr},
                                  {"thresholds", thresholds}, {"auroc", number(r.per_class_auroc[size_t(c)])}});
            }
            out["roc_curves"] = curves;
        }
    }
    if (!r.groups.empty()) {
        json groups = json::array();
        for (const ClassGroup& g : r.groups) {
            json names = json::array();
            for (int c : g.classes) names.push_back(labels.names[size_t(c)]);
            groups.push_back({{"name", g.name},
                              {"rule", g.name == "frequent" ? ">= threshold training images" : "< threshold training images"},
                              {"threshold", in.frequency_threshold}, {"classes", names}, {"items", g.items},
                              {"metrics", metrics_json(g.metrics)}});
        }
        out["groups"] = groups;
    }
    if (!mapped_answers.is_null()) out["mapped_answers"] = mapped_answers;
    out["bootstrap"] = bootstrap_json(in.bootstrap);
    return out;
}

std::optional<Box> read_box(const json& v, const std::string& where, bool allow_missing) {
    if (v.is_null() && allow_missing) return std::nullopt;
    if (!v.is_array() || v.size() != 4) bad(where + " must be a box [x, y, width, height] in pixels" +
                                           (allow_missing ? " or null" : ""));
    Box b{finite_number(v[0], where + "[0]"), finite_number(v[1], where + "[1]"), finite_number(v[2], where + "[2]"),
          finite_number(v[3], where + "[3]")};
    if (b.w < 0 || b.h < 0) bad(where + " has a negative width or height");
    return b;
}

json score_grounding(const json& task) {
    const json& truth = need_array(task, "truth");
    const json& predicted = need_array(task, "predicted");
    same_length(truth, "truth", predicted, "predicted");
    std::vector<GroundingItem> items;
    for (size_t i = 0; i < truth.size(); ++i)
        items.push_back({*read_box(truth[i], "truth[" + std::to_string(i) + "]", false),
                         read_box(predicted[i], "predicted[" + std::to_string(i) + "]", true)});
    const double threshold = task.contains("iou_threshold") ? finite_number(task.at("iou_threshold"), "iou_threshold") : 0.5;
    const BootstrapOptions bootstrap = bootstrap_options(task);
    const GroundingReport r = grounding_report(items, threshold, bootstrap);
    return {{"task", "grounding"}, {"items", items.size()}, {"iou_threshold", threshold},
            {"metrics", metrics_json(r.metrics)}, {"iou", r.iou}, {"bootstrap", bootstrap_json(bootstrap)}};
}

json score_label_match(const json& task) {
    const json& truth = need_array(task, "truth");
    const json& predicted = need_array(task, "predicted");
    same_length(truth, "truth", predicted, "predicted");
    std::vector<double> right, missing;
    for (size_t i = 0; i < truth.size(); ++i) {
        if (!truth[i].is_string()) bad("truth[" + std::to_string(i) + "] must be text");
        if (!predicted[i].is_null() && !predicted[i].is_string())
            bad("predicted[" + std::to_string(i) + "] must be text or null");
        const bool none = predicted[i].is_null();
        missing.push_back(none ? 1.0 : 0.0);
        right.push_back(!none && normalise_answer(truth[i].get<std::string>()) ==
                                     normalise_answer(predicted[i].get<std::string>()) ? 1.0 : 0.0);
    }
    const BootstrapOptions bootstrap = bootstrap_options(task);
    return {{"task", "label_match"}, {"items", truth.size()},
            {"metrics", metrics_json(proportion_metrics(right, missing, bootstrap))}, {"right", right},
            {"bootstrap", bootstrap_json(bootstrap)}};
}

json score_counting(const json& task) {
    const json& truth = need_array(task, "truth");
    const json& predicted = need_array(task, "predicted");
    same_length(truth, "truth", predicted, "predicted");
    std::vector<double> right, missing, error;
    for (size_t i = 0; i < truth.size(); ++i) {
        const double t = finite_number(truth[i], "truth[" + std::to_string(i) + "]");
        const bool none = predicted[i].is_null();
        const double p = none ? 0 : finite_number(predicted[i], "predicted[" + std::to_string(i) + "]");
        missing.push_back(none ? 1.0 : 0.0);
        right.push_back(!none && p == t ? 1.0 : 0.0);
        if (!none) error.push_back(std::fabs(p - t));
    }
    const BootstrapOptions bootstrap = bootstrap_options(task);
    std::vector<MetricValue> metrics = proportion_metrics(right, missing, bootstrap);
    metrics.push_back({"mean_absolute_error", weighted_mean(error, {}), {}});  // over answers with a count
    return {{"task", "counting"}, {"items", truth.size()}, {"metrics", metrics_json(metrics)}, {"right", right},
            {"bootstrap", bootstrap_json(bootstrap)}};
}

json score_paired_difference(const json& task) {
    const json& first = need_array(task, "first");
    const json& second = need_array(task, "second");
    same_length(first, "first", second, "second");
    const auto right_or_wrong = [](const json& list, const std::string& name) {
        std::vector<double> out;
        for (size_t i = 0; i < list.size(); ++i) {
            const std::string where = name + "[" + std::to_string(i) + "]";
            const double v = finite_number(list[i], where);
            if (v != 0 && v != 1) bad(where + " must be 1 (right) or 0 (wrong)");
            out.push_back(v);
        }
        return out;
    };
    const std::vector<double> a = right_or_wrong(first, "first"), b = right_or_wrong(second, "second");
    const BootstrapOptions bootstrap = bootstrap_options(task);
    const PairedDifference r = paired_difference(a, b, bootstrap);
    return {{"task", "paired_difference"}, {"items", r.items}, {"metrics", metrics_json(r.metrics)},
            {"first_only", r.first_only}, {"second_only", r.second_only}, {"both_right", r.both_right},
            {"both_wrong", r.both_wrong}, {"mcnemar_p", r.mcnemar_p}, {"bootstrap", bootstrap_json(bootstrap)}};
}

json score_multiple_choice(const json& task) {
    const json& list = need_array(task, "items");
    std::vector<ChoiceItem> items;
    json chosen = json::array();  // per item: the letter scored
    bool read_answers = false;
    for (size_t i = 0; i < list.size(); ++i) {
        const json& it = list[i];
        const std::string where = "items[" + std::to_string(i) + "]";
        if (!it.is_object()) bad(where + " must be an object {question, truth, predicted}");
        ChoiceItem c;
        const json& q = need(it, "question");
        c.question = q.is_string() ? q.get<std::string>() : q.dump();
        if (!need(it, "truth").is_string()) bad(where + ".truth must be the key's option letter");
        c.truth = it.at("truth").get<std::string>();
        if (it.contains("predicted") && !it.at("predicted").is_null()) {
            if (!it.at("predicted").is_string()) bad(where + ".predicted must be an option letter or null");
            c.predicted = it.at("predicted").get<std::string>();
        } else if (it.contains("answer") && it.at("answer").is_string()) {
            // A free answer, read as an option letter (answer_mapping.h).
            std::vector<std::string> letters, texts;
            const json options = it.contains("options") ? it.at("options") : json();
            if (options.is_object()) {
                for (auto o = options.begin(); o != options.end(); ++o) {
                    letters.push_back(o.key());
                    texts.push_back(o.value().is_string() ? o.value().get<std::string>() : "");
                }
            } else if (options.is_array()) {
                for (const json& o : options) letters.push_back(o.is_string() ? o.get<std::string>() : "");
            } else {
                bad(where + ".options must list the option letters ([\"A\", \"B\"]) or map them to their texts");
            }
            c.predicted = choice_letter(it.at("answer").get<std::string>(), letters, texts);
            read_answers = true;
        }
        chosen.push_back(c.predicted.empty() ? json(nullptr) : json(c.predicted));
        items.push_back(c);
    }
    const BootstrapOptions bootstrap = bootstrap_options(task);
    const MultipleChoiceReport r = multiple_choice_report(items, bootstrap);
    json out = {{"task", "multiple_choice"}, {"items", items.size()}, {"questions", r.questions},
                {"metrics", metrics_json(r.metrics)}, {"bootstrap", bootstrap_json(bootstrap)}};
    if (read_answers) out["chosen"] = chosen;  // with free answers: the letters read from them
    return out;
}

json score_text(const json& task) {
    const json& references = need_array(task, "references");
    const json& generated = need_array(task, "generated");
    same_length(references, "references", generated, "generated");
    std::vector<double> r1, r2, rl;
    std::vector<BleuCounts> bleu_items;
    json per_item = json::array();
    for (size_t i = 0; i < references.size(); ++i) {
        std::vector<std::string> refs;
        const std::string where = "references[" + std::to_string(i) + "]";
        if (references[i].is_string()) refs.push_back(references[i].get<std::string>());
        else if (references[i].is_array() && !references[i].empty())
            for (const json& r : references[i]) {
                if (!r.is_string()) bad(where + " must be a text or a list of texts");
                refs.push_back(r.get<std::string>());
            }
        else bad(where + " must be a text or a non-empty list of texts");
        if (!generated[i].is_null() && !generated[i].is_string())
            bad("generated[" + std::to_string(i) + "] must be text (null counts as an empty answer)");
        const std::string gen = generated[i].is_string() ? generated[i].get<std::string>() : "";
        const RougeScores s = rouge_scores(refs, gen);
        r1.push_back(s.rouge1.f);
        r2.push_back(s.rouge2.f);
        rl.push_back(s.rougeL.f);
        std::vector<std::vector<std::string>> ref_tokens;
        for (const std::string& r : refs) ref_tokens.push_back(text_tokens(r));
        bleu_items.push_back(bleu_counts(ref_tokens, text_tokens(gen)));
        per_item.push_back({{"rouge1", s.rouge1.f}, {"rouge2", s.rouge2.f}, {"rougeL", s.rougeL.f}});
    }
    const BootstrapOptions bootstrap = bootstrap_options(task);
    const Bleu bleu = corpus_bleu(bleu_items);
    std::vector<MetricValue> metrics = {{"rouge1", weighted_mean(r1, {}), {}},
                                        {"rouge2", weighted_mean(r2, {}), {}},
                                        {"rougeL", weighted_mean(rl, {}), {}},
                                        {"bleu4", references.empty() ? NAN : bleu.bleu, {}}};
    attach_intervals(metrics, bootstrap_intervals(references.size(), bootstrap, 4,
                                                  [&](const std::vector<double>& w, double* o) {
                                                      o[0] = weighted_mean(r1, w);
                                                      o[1] = weighted_mean(r2, w);
                                                      o[2] = weighted_mean(rl, w);
                                                      o[3] = corpus_bleu(bleu_items, w).bleu;
                                                  }));
    json precisions = json::array();
    for (double p : bleu.precisions) precisions.push_back(p);
    return {{"task", "text"}, {"items", references.size()}, {"metrics", metrics_json(metrics)},
            {"bleu", {{"precisions", precisions}, {"brevity_penalty", bleu.brevity_penalty},
                      {"generated_length", bleu.generated_length}, {"reference_length", bleu.reference_length}}},
            {"per_item", per_item}, {"bootstrap", bootstrap_json(bootstrap)}};
}

json score_report_fields(const json& task) {
    const json& references = need_array(task, "references");
    const json& predicted = need_array(task, "predicted");
    same_length(references, "references", predicted, "predicted");
    std::vector<json> refs, preds;
    for (size_t i = 0; i < references.size(); ++i) {
        if (!references[i].is_object()) bad("references[" + std::to_string(i) + "] must be a report object");
        if (!predicted[i].is_object() && !predicted[i].is_null())
            bad("predicted[" + std::to_string(i) + "] must be a report object or null");
        refs.push_back(references[i]);
        preds.push_back(predicted[i].is_null() ? json::object() : predicted[i]);
    }
    const BootstrapOptions bootstrap = bootstrap_options(task);
    const ReportFieldsReport r = report_fields_report(refs, preds, bootstrap);
    json fields = json::array();
    for (const auto& [path, c] : r.per_field)
        fields.push_back({{"field", path}, {"precision", c.precision()}, {"recall", c.recall()}, {"f1", c.f1()},
                          {"right", c.right}, {"predicted", c.predicted}, {"reference", c.reference}});
    return {{"task", "report_fields"}, {"items", refs.size()}, {"metrics", metrics_json(r.metrics)},
            {"pairs", {{"right", r.total.right}, {"predicted", r.total.predicted}, {"reference", r.total.reference}}},
            {"per_field", fields}, {"bootstrap", bootstrap_json(bootstrap)}};
}

json score_label_agreement(const json& task) {
    const Labels labels(need(task, "labels"));
    const json& first = need_array(task, "first");
    const json& second = need_array(task, "second");
    same_length(first, "first", second, "second");
    std::vector<int> a, b;
    for (size_t i = 0; i < first.size(); ++i) {
        a.push_back(labels.resolve(first[i], "first[" + std::to_string(i) + "]", false));
        b.push_back(labels.resolve(second[i], "second[" + std::to_string(i) + "]", false));
    }
    KappaWeighting weighting = KappaWeighting::none;
    const std::string w = task.contains("weighting") && task.at("weighting").is_string()
                              ? task.at("weighting").get<std::string>() : "none";
    if (w == "linear") weighting = KappaWeighting::linear;
    else if (w == "quadratic") weighting = KappaWeighting::quadratic;
    else if (w != "none") bad("\"weighting\" must be \"none\", \"linear\" or \"quadratic\"");
    const BootstrapOptions bootstrap = bootstrap_options(task);
    const LabelAgreement r = label_agreement(a, b, labels.size(), weighting, bootstrap);
    return {{"task", "label_agreement"}, {"items", a.size()}, {"weighting", w}, {"metrics", metrics_json(r.metrics)},
            {"bootstrap", bootstrap_json(bootstrap)}};
}

Mask read_mask(const json& v, const std::string& where) {
    const json& size = need(v, "size");
    if (!size.is_array() || size.size() != 2) bad(where + ".size must be [height, width]");
    const double hd = finite_number(size[0], where + ".size[0]"), wd = finite_number(size[1], where + ".size[1]");
    if (!(hd >= 1 && wd >= 1 && hd <= 65536 && wd <= 65536 && hd == std::floor(hd) && wd == std::floor(wd)))
        bad(where + ".size must be [height, width] in whole pixels, each 1 to 65536");
    if (hd * wd > kMaxMaskPixels) bad(where + " is larger than 64 megapixels; compare masks of endoscopy images");
    const int h = int(hd), w = int(wd);
    Rle rle;
    std::string error;
    const json& counts = need(v, "counts");
    if (counts.is_string()) {
        if (!rle_from_string(counts.get<std::string>(), h, w, rle, &error)) bad(where + " is not a valid COCO RLE: " + error);
    } else if (counts.is_array()) {
        rle.height = h;
        rle.width = w;
        for (const json& c : counts) {
            const double d = finite_number(c, where + ".counts[]");
            if (d < 0 || d > 4294967295.0 || d != std::floor(d)) bad(where + ".counts must be whole numbers >= 0");
            rle.counts.push_back(uint32_t(d));
        }
    } else {
        bad(where + ".counts must be a COCO RLE string or list of run lengths");
    }
    Mask mask;
    if (!rle_decode(rle, mask, &error)) bad(where + " is not a valid COCO RLE: " + error);
    return mask;
}

json score_region_agreement(const json& task) {
    const json& pairs = need_array(task, "pairs");
    std::vector<double> iou, dice;
    for (size_t i = 0; i < pairs.size(); ++i) {
        const std::string where = "pairs[" + std::to_string(i) + "]";
        const json& p = pairs[i];
        if (!p.is_object()) bad(where + " must be {\"first\": region, \"second\": region}");
        const json& a = need(p, "first");
        const json& b = need(p, "second");
        if (a.contains("box") && b.contains("box")) {
            const Box x = *read_box(a.at("box"), where + ".first.box", false);
            const Box y = *read_box(b.at("box"), where + ".second.box", false);
            const double inter = box_intersection(x, y).area(), sum = x.area() + y.area();
            iou.push_back(box_iou(x, y));
            dice.push_back(sum > 0 ? 2 * inter / sum : 1.0);
        } else if (a.contains("rle") && b.contains("rle")) {
            const Mask x = read_mask(a.at("rle"), where + ".first.rle");
            const Mask y = read_mask(b.at("rle"), where + ".second.rle");
            if (!x.same_size(y)) bad(where + ": the two masks have different sizes; they must be of the same image");
            iou.push_back(mask_iou(x, y));
            dice.push_back(mask_dice(x, y));
        } else {
            bad(where + " must give both regions as {\"box\": [x, y, w, h]} or both as {\"rle\": {size, counts}}");
        }
    }
    const BootstrapOptions bootstrap = bootstrap_options(task);
    const RegionAgreement r = region_agreement_from(iou, dice, bootstrap);
    return {{"task", "region_agreement"}, {"items", iou.size()}, {"metrics", metrics_json(r.metrics)},
            {"iou", r.iou}, {"dice", r.dice}, {"bootstrap", bootstrap_json(bootstrap)}};
}

json score_annotation_agreement(const json& task) {
    std::vector<ImageAnnotations> versions[2];
    const char* keys[2] = {"first", "second"};
    for (int v = 0; v < 2; ++v) {
        const json& doc = need(task, keys[v]);
        if (!doc.is_object() && !doc.is_string())
            bad(std::string("\"") + keys[v] + "\" must be a COCO annotation file (as the app exports it), as an object or its text");
        const CocoImport imported = import_coco(doc.is_string() ? doc.get<std::string>() : doc.dump());
        if (!imported.ok) bad(std::string("the ") + keys[v] + " annotations are not a COCO file the app can read: " + imported.error);
        for (const ImageAnnotations& im : imported.images)
            if (double(im.width) * double(im.height) > kMaxMaskPixels)
                bad("the image \"" + im.image + "\" in the " + keys[v] + " annotations is larger than 64 megapixels");
        versions[v] = imported.images;
    }
    const double match_iou = task.contains("match_iou") ? finite_number(task.at("match_iou"), "match_iou") : 0.5;
    const BootstrapOptions bootstrap = bootstrap_options(task);
    const AnnotationAgreement r = annotation_agreement(versions[0], versions[1], match_iou, bootstrap);
    json regions = json::array();
    for (const RegionPair& p : r.regions)
        regions.push_back({{"image", p.image}, {"label", p.label}, {"in_first", p.in_first}, {"in_second", p.in_second},
                           {"iou", p.iou}, {"dice", p.dice}});
    return {{"task", "annotation_agreement"}, {"label_pairs", r.label_pairs}, {"match_iou", match_iou},
            {"metrics", metrics_json(r.metrics)}, {"regions", regions},
            {"objects", {{"first", r.first_objects}, {"second", r.second_objects}, {"matched", r.matched_objects}}},
            {"bootstrap", bootstrap_json(bootstrap)}};
}

json score_generation_speed(const json& task) {
    const json& seconds = need_array(task, "seconds");
    std::vector<GenerationTiming> answers;
    const json tokens = task.contains("tokens") ? task.at("tokens") : json();
    if (!tokens.is_null()) {
        if (!tokens.is_array()) bad("\"tokens\" must be a list (one count per answer, null when unknown)");
        same_length(seconds, "seconds", tokens, "tokens");
    }
    for (size_t i = 0; i < seconds.size(); ++i) {
        GenerationTiming t;
        t.seconds = finite_number(seconds[i], "seconds[" + std::to_string(i) + "]");
        if (t.seconds < 0) bad("seconds[" + std::to_string(i) + "] is negative");
        if (!tokens.is_null() && !tokens[i].is_null()) t.tokens = finite_number(tokens[i], "tokens[" + std::to_string(i) + "]");
        answers.push_back(t);
    }
    return {{"task", "generation_speed"}, {"items", answers.size()}, {"metrics", metrics_json(generation_speed(answers))}};
}

json score_task(const json& task) {
    if (!task.is_object()) bad("each task must be a JSON object with a \"task\" name");
    const json& name = need(task, "task");
    const std::string t = name.is_string() ? name.get<std::string>() : "";
    json out;
    if (t == "classification") out = score_classification(task);
    else if (t == "grounding") out = score_grounding(task);
    else if (t == "label_match") out = score_label_match(task);
    else if (t == "counting") out = score_counting(task);
    else if (t == "multiple_choice") out = score_multiple_choice(task);
    else if (t == "paired_difference") out = score_paired_difference(task);
    else if (t == "text") out = score_text(task);
    else if (t == "report_fields") out = score_report_fields(task);
    else if (t == "label_agreement") out = score_label_agreement(task);
    else if (t == "region_agreement") out = score_region_agreement(task);
    else if (t == "generation_speed") out = score_generation_speed(task);
    else if (t == "annotation_agreement") out = score_annotation_agreement(task);
    else
        bad("unknown task \"" + (name.is_string() ? t : name.dump()) +
            "\" (classification, grounding, label_match, counting, multiple_choice, paired_difference, text, report_fields, "
            "label_agreement, region_agreement, annotation_agreement, generation_speed)");
    if (task.contains("name")) out["name"] = task.at("name");
    return out;
}

}  // namespace

ScoredPredictions score_predictions(const std::string& input_json) {
    ScoredPredictions result;
    // Depth first: the parser recurses once per level.
    if (json_nesting_depth(input_json, 64) > 32) {
        result.message = "The predictions file nests too deeply to be a predictions file.";
        return result;
    }
    const json input = json::parse(input_json, nullptr, false);
    if (input.is_discarded()) {
        // Parsed again only to say where and why (a predictions file can be megabytes).
        result.message = "The predictions file is not valid JSON; fix it or write it again.";
        result.detail = check_json_syntax(input_json).describe();
        return result;
    }
    std::string where;
    try {
        json out;
        if (input.is_object() && input.contains("tasks")) {
            if (!input.at("tasks").is_array()) bad("\"tasks\" must be a list of tasks");
            json results = json::array();
            for (size_t i = 0; i < input.at("tasks").size(); ++i) {
                where = "task " + std::to_string(i + 1) + ": ";
                results.push_back(score_task(input.at("tasks")[i]));
            }
            out = {{"results", results}};
        } else {
            out = score_task(input);
        }
        result.json = out.dump();
        result.ok = true;
    } catch (const InputError& e) {
        result.message = "The predictions cannot be scored: " + where + e.what() + ".";
    } catch (const json::exception& e) {
        result.message = "The predictions cannot be scored: " + where + "a value has the wrong type.";
        result.detail = e.what();
    } catch (const std::exception& e) {
        result.message = "The predictions cannot be scored: " + where + "they need more memory than is available.";
        result.detail = e.what();
    }
    return result;
}

}  // namespace es
