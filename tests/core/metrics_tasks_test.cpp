// Bootstrap, grounding, answers, text, report fields, agreement, speed and the
// JSON entry point, on cases worked out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "annotation/coco.h"
#include "metrics/agreement.h"
#include "metrics/annotation_agreement.h"
#include "metrics/answer_accuracy.h"
#include "metrics/answer_mapping.h"
#include "metrics/bleu.h"
#include "metrics/bootstrap.h"
#include "metrics/generation_speed.h"
#include "metrics/grounding.h"
#include "metrics/report_fields.h"
#include "metrics/rouge.h"
#include "metrics/score_predictions.h"
#include "metrics/text_tokens.h"

namespace {

using nlohmann::json;

TEST(MetricsBootstrap, GeneratorIsSplitMix64) {
    es::SplitMix64 rng(0);
    EXPECT_EQ(rng.next(), 0xE220A8397B1DCDAFull);  // the reference splitmix64's first output for seed 0
    es::SplitMix64 a(7), b(7);
    for (int i = 0; i < 1000; ++i) {
        const uint64_t x = a.below(13);
        EXPECT_LT(x, 13u);
        EXPECT_EQ(x, b.below(13));
    }
}

TEST(MetricsBootstrap, PercentileAsNumpy) {
    EXPECT_DOUBLE_EQ(es::percentile_linear({4, 1, 3, 2}, 0.25), 1.75);  // numpy.percentile([1,2,3,4], 25)
    EXPECT_DOUBLE_EQ(es::percentile_linear({4, 1, 3, 2}, 0.5), 2.5);
    EXPECT_DOUBLE_EQ(es::percentile_linear({5}, 0.975), 5);
    EXPECT_TRUE(std::isnan(es::percentile_linear({}, 0.5)));
}

TEST(MetricsBootstrap, SeededPairedAndSkippingUndefined) {
    std::vector<double> values = {0, 1, 1, 0, 1, 1, 1, 0, 1, 1};
    es::BootstrapOptions o;
    o.resamples = 500;
    o.seed = 3;
    auto run = [&](const es::BootstrapOptions& opt) {
        return es::bootstrap_intervals(values.size(), opt, 3, [&](const std::vector<double>& w, double* out) {
            double drawn = 0;
            for (double x : w) drawn += x;
            out[0] = es::weighted_mean(values, w);
            out[1] = drawn;                                    // every resample draws n items
            out[2] = w[0] > 0 ? 1.0 : std::nan("");           // defined only when item 0 was drawn
        });
    };
    const auto a = run(o), b = run(o);
    EXPECT_EQ(a[0].low, b[0].low);
    EXPECT_EQ(a[0].high, b[0].high);
    EXPECT_LE(a[0].low, 0.7);
    EXPECT_GE(a[0].high, 0.7);
    EXPECT_EQ(a[1].low, 10);
    EXPECT_EQ(a[1].high, 10);
    // P(item 0 drawn) = 1 - 0.9^10 ≈ 0.65: about 326 of 500.
    EXPECT_GT(a[2].resamples_used, 250);
    EXPECT_LT(a[2].resamples_used, 400);
    o.seed = 4;
    const auto c = run(o);
    EXPECT_NE(a[2].resamples_used, c[2].resamples_used);
}

TEST(MetricsGrounding, IouAccuracyAndMissingBoxes) {
    std::vector<es::GroundingItem> items = {
        {{0, 0, 10, 10}, es::Box{5, 0, 10, 10}},  // 50 / 150
        {{0, 0, 10, 10}, es::Box{0, 0, 10, 10}},
        {{0, 0, 10, 10}, std::nullopt},
    };
    es::BootstrapOptions none;
    none.resamples = 0;
    const es::GroundingReport r = es::grounding_report(items, 0.5, none);
    EXPECT_DOUBLE_EQ(r.iou[0], 1.0 / 3.0);
    EXPECT_DOUBLE_EQ(r.metrics[0].value, 1.0 / 3.0);
    EXPECT_DOUBLE_EQ(r.metrics[1].value, (1.0 / 3.0 + 1.0) / 3.0);
    EXPECT_DOUBLE_EQ(r.metrics[2].value, 1.0 / 3.0);
    EXPECT_DOUBLE_EQ(es::grounding_report(items, 0.3, none).metrics[0].value, 2.0 / 3.0);
}

TEST(MetricsAnswers, NormalisingAndCircularEval) {
    EXPECT_EQ(es::normalise_answer("  Colon   Polyp. "), "colon polyp");
    EXPECT_EQ(es::normalise_answer("A"), es::normalise_answer("a."));
    es::BootstrapOptions none;
    none.resamples = 0;
    const es::MultipleChoiceReport r = es::multiple_choice_report(
        {{"q1", "A", "A"}, {"q1", "B", "b"}, {"q2", "A", "A"}, {"q2", "C", "D"}, {"q3", "B", ""}}, none);
    EXPECT_EQ(r.questions, 3u);
    EXPECT_DOUBLE_EQ(r.metrics[0].value, 3.0 / 5.0);  // per answer
    EXPECT_EQ(r.metrics[1].name, "circular_accuracy");
    EXPECT_DOUBLE_EQ(r.metrics[1].value, 1.0 / 3.0);  // only q1 has every rotation right
    EXPECT_DOUBLE_EQ(r.metrics[2].value, 1.0 / 5.0);  // q3 had no letter
}

TEST(MetricsText, TokensAsRougeScore) {
    EXPECT_EQ(es::text_tokens("A 5-mm Polyp, sessile."),
              (std::vector<std::string>{"a", "5", "mm", "polyp", "sessile"}));
    EXPECT_TRUE(es::text_tokens(" ,;. ").empty());
}

TEST(MetricsText, RougeByHand) {
    // ref: the cat sat on the mat (6), generated: the cat on the mat (5).
    const es::RougeScores s = es::rouge_scores({"The cat sat on the mat."}, "the cat on the mat");
    EXPECT_DOUBLE_EQ(s.rouge1.precision, 1.0);
    EXPECT_DOUBLE_EQ(s.rouge1.recall, 5.0 / 6.0);
    EXPECT_DOUBLE_EQ(s.rouge1.f, 10.0 / 11.0);
    EXPECT_DOUBLE_EQ(s.rouge2.precision, 3.0 / 4.0);  // the cat, on the, the mat of 4
    EXPECT_DOUBLE_EQ(s.rouge2.recall, 3.0 / 5.0);
    EXPECT_DOUBLE_EQ(s.rouge2.f, 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(s.rougeL.f, 10.0 / 11.0);  // LCS 5
    const es::RougeScores empty = es::rouge_scores({"polyp"}, "");
    EXPECT_EQ(empty.rouge1.f, 0.0);
    EXPECT_EQ(empty.rougeL.f, 0.0);
    // Several references: the best per type.
    EXPECT_DOUBLE_EQ(es::rouge_scores({"nothing alike", "the cat on the mat"}, "the cat on the mat").rouge2.f, 1.0);
}

TEST(MetricsText, BleuByHand) {
    // the cat sat on mat vs the cat sat on the mat: p = 5/5, 3/4, 2/3, 1/2; c 5, r 6.
    const es::BleuCounts c = es::bleu_counts({es::text_tokens("the cat sat on the mat")},
                                             es::text_tokens("the cat sat on mat"));
    EXPECT_EQ(c.matches[1], 3);
    EXPECT_EQ(c.totals[3], 2);
    const es::Bleu b = es::corpus_bleu({c});
    EXPECT_DOUBLE_EQ(b.brevity_penalty, std::exp(1.0 - 6.0 / 5.0));
    EXPECT_NEAR(b.bleu, std::exp(-0.2) * std::pow(1.0 * 0.75 * (2.0 / 3.0) * 0.5, 0.25), 1e-15);
    // No 4-gram match anywhere: 0 without smoothing.
    EXPECT_EQ(es::corpus_bleu({es::bleu_counts({es::text_tokens("a b c d")}, es::text_tokens("a b c x"))}).bleu, 0.0);
    // Closest reference length, the shorter on ties (generated 4; references 3 and 5).
    const es::BleuCounts t = es::bleu_counts({es::text_tokens("a b c d e"), es::text_tokens("a b c")},
                                             es::text_tokens("a b c d"));
    EXPECT_EQ(t.reference_length, 3);
}

TEST(MetricsReportFields, PairsByHand) {
    const json ref = json::parse(R"({"size":"5 mm","location":"Sigmoid","paris":["0-Is","0-IIa"],"notes":""})");
    const json pred = json::parse(R"({"size":"5 mm.","location":"rectum","paris":["0-Is"],"extra":null})");
    es::BootstrapOptions none;
    none.resamples = 0;
    const es::ReportFieldsReport r = es::report_fields_report({ref}, {pred}, none);
    EXPECT_EQ(r.total.reference, 4);
    EXPECT_EQ(r.total.predicted, 3);
    EXPECT_EQ(r.total.right, 2);
    EXPECT_DOUBLE_EQ(r.metrics[0].value, 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(r.metrics[1].value, 0.5);
    EXPECT_DOUBLE_EQ(r.metrics[2].value, 4.0 / 7.0);
    EXPECT_DOUBLE_EQ(r.per_field.at("paris[]").recall(), 0.5);
    EXPECT_EQ(r.per_field.at("location").right, 0);
}

TEST(MetricsAgreement, KappaAndRegionsByHand) {
    // Observed 3/4, expected (2*1 + 2*3)/16 = 1/2: kappa 1/2.
    EXPECT_DOUBLE_EQ(es::cohen_kappa({0, 0, 1, 1}, {0, 1, 1, 1}, 2), 0.5);
    EXPECT_DOUBLE_EQ(es::cohen_kappa({0, 1, 2}, {0, 1, 2}, 3), 1.0);
    EXPECT_TRUE(std::isnan(es::cohen_kappa({1, 1}, {1, 1}, 3)));
    // Linear weights on a 3-point scale: the one disagreement (0 vs 2) weighs 2.
    // O = [[1,0,1],[0,1,0],[0,0,1]], rows [2,1,1], cols [1,1,2]: kappa = 1 - 2 / sum |i-j| rows_i cols_j / 4.
    const std::vector<int> a = {0, 0, 1, 2}, b = {0, 2, 1, 2};
    double expected = 0;
    const double rows[3] = {2, 1, 1}, cols[3] = {1, 1, 2};
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) expected += std::abs(i - j) * rows[i] * cols[j] / 4.0;
    EXPECT_DOUBLE_EQ(es::cohen_kappa(a, b, 3, es::KappaWeighting::linear), 1.0 - 2.0 / expected);
    es::Mask m1(4, 1), m2(4, 1);
    m1.data = {1, 1, 0, 0};
    m2.data = {0, 1, 1, 0};
    es::BootstrapOptions none;
    none.resamples = 0;
    const es::RegionAgreement r = es::region_agreement({m1, es::Mask(2, 2)}, {m2, es::Mask(2, 2)}, none);
    EXPECT_DOUBLE_EQ(r.iou[0], 1.0 / 3.0);
    EXPECT_DOUBLE_EQ(r.dice[0], 0.5);
    EXPECT_DOUBLE_EQ(r.iou[1], 1.0);  // both empty: agree
    EXPECT_DOUBLE_EQ(r.metrics[1].value, 0.75);
}

TEST(MetricsGenerationSpeed, Summary) {
    const auto m = es::generation_speed({{1, 10}, {2, 30}, {3, -1}, {4, 40}});
    EXPECT_DOUBLE_EQ(m[1].value, 2.5);
    EXPECT_DOUBLE_EQ(m[2].value, 2.5);
    EXPECT_DOUBLE_EQ(m[3].value, 3.7);
    EXPECT_DOUBLE_EQ(m[4].value, 80.0 / 7.0);
    EXPECT_DOUBLE_EQ(m[5].value, 10.0);
}

es::Annotation box_annotation(const char* label, double x, double y, double w, double h) {
    es::Annotation a;
    a.kind = es::AnnotationKind::Box;
    a.label = label;
    a.box = {x, y, w, h};
    return a;
}

es::ImageAnnotations image(const char* key, std::vector<es::Annotation> items) {
    es::ImageAnnotations im;
    im.image = key;
    im.width = im.height = 10;
    uint64_t id = 1;
    for (es::Annotation& a : items) a.id = id++;
    im.items = std::move(items);
    im.next_id = id;
    return im;
}

TEST(MetricsAnnotationAgreement, TwoAnnotatorsByHand) {
    // Image a: both outline a polyp (16 px boxes overlapping by 8: IoU 1/3, Dice 1/2); only the
    // first marks an ulcer. Image b: only the second marks a polyp (the first left b out).
    const std::vector<es::ImageAnnotations> first = {
        image("a.png", {box_annotation("polyp", 0, 0, 4, 4), box_annotation("ulcer", 6, 6, 2, 2)})};
    const std::vector<es::ImageAnnotations> second = {image("a.png", {box_annotation("polyp", 2, 0, 4, 4)}),
                                                      image("b.png", {box_annotation("polyp", 0, 0, 2, 2)})};
    es::BootstrapOptions none;
    none.resamples = 0;
    es::AnnotationAgreement r = es::annotation_agreement(first, second, 0.5, none);
    // (image, label) presence: (1,1) (1,0) (0,1) (0,0): observed 1/2, expected 1/2, kappa 0.
    EXPECT_EQ(r.label_pairs, 4u);
    EXPECT_NEAR(r.metrics[0].value, 0.0, 1e-15);
    EXPECT_DOUBLE_EQ(r.metrics[1].value, 0.5);
    ASSERT_EQ(r.regions.size(), 3u);
    EXPECT_DOUBLE_EQ(r.regions[0].iou, 1.0 / 3.0);
    EXPECT_DOUBLE_EQ(r.regions[0].dice, 0.5);
    EXPECT_EQ(r.metrics[2].name, "mean_iou");
    EXPECT_DOUBLE_EQ(r.metrics[2].value, 1.0 / 9.0);
    EXPECT_DOUBLE_EQ(r.metrics[3].value, 1.0 / 6.0);
    EXPECT_EQ(r.matched_objects, 0);  // IoU 1/3 is below 0.5
    EXPECT_EQ(r.metrics[6].value, 0.0);
    r = es::annotation_agreement(first, second, 0.3, none);
    EXPECT_EQ(r.matched_objects, 1);
    EXPECT_DOUBLE_EQ(r.metrics[4].value, 0.5);
    EXPECT_DOUBLE_EQ(r.metrics[5].value, 0.5);
    EXPECT_DOUBLE_EQ(r.metrics[7].value, 1.0 / 3.0);
    // The same through JSON, from the app's COCO exports.
    const std::string a = es::export_coco(first, {}), b = es::export_coco(second, {});
    const es::ScoredPredictions s = es::score_predictions(
        json({{"task", "annotation_agreement"}, {"first", json::parse(a)}, {"second", b}, {"match_iou", 0.3}}).dump());
    ASSERT_TRUE(s.ok) << s.message;
    const json out = json::parse(s.json);
    EXPECT_DOUBLE_EQ(out["metrics"]["mean_dice"]["value"].get<double>(), 1.0 / 6.0);
    EXPECT_EQ(out["objects"]["matched"], 1);
}

json score(const std::string& text) {
    const es::ScoredPredictions r = es::score_predictions(text);
    EXPECT_TRUE(r.ok) << r.message << " " << r.detail;
    return r.ok ? json::parse(r.json) : json();
}

std::string refusal(const std::string& text) {
    const es::ScoredPredictions r = es::score_predictions(text);
    EXPECT_FALSE(r.ok);
    return r.message;
}

TEST(MetricsScorePredictions, ClassificationByNameWithUnmapped) {
    const json out = score(R"({"task":"classification","labels":["polyp","ulcer","normal"],
        "truth":["polyp","polyp","ulcer","ulcer","normal"],
        "predicted":["polyp","Ulcer",1,null,"normal"],
        "train_counts":{"polyp":150,"ulcer":50,"normal":100},"bootstrap":{"resamples":100,"seed":1}})");
    EXPECT_DOUBLE_EQ(out["metrics"]["accuracy"]["value"].get<double>(), 0.6);
    EXPECT_TRUE(out["metrics"]["accuracy"].contains("low"));
    EXPECT_DOUBLE_EQ(out["metrics"]["unmapped_rate"]["value"].get<double>(), 0.2);
    EXPECT_EQ(out["confusion_matrix"]["unmapped"], json::parse("[0,1,0]"));
    EXPECT_EQ(out["groups"][1]["classes"], json::parse(R"(["ulcer"])"));
    EXPECT_EQ(out["per_class"][1]["predicted"], 2);
    // Same input, same output text: the seed fixes the intervals.
    const std::string text = R"({"task":"classification","labels":["a","b"],"truth":[0,1,1,0,1],
        "probabilities":[[0.7,0.3],[0.4,0.6],[0.5,0.5],[0.2,0.8],[0.9,0.1]]})";
    EXPECT_EQ(es::score_predictions(text).json, es::score_predictions(text).json);
}

TEST(MetricsScorePredictions, SeveralTasks) {
    const json out = score(R"({"tasks":[
        {"task":"grounding","name":"rec","truth":[[0,0,10,10]],"predicted":[[0,0,10,10]],"bootstrap":false},
        {"task":"counting","truth":[1,2,3],"predicted":[1,3,null]},
        {"task":"text","references":["the cat sat on the mat"],"generated":["the cat on the mat"]},
        {"task":"label_agreement","labels":["x","y"],"first":[0,0,1,1],"second":[0,1,1,1]},
        {"task":"region_agreement","pairs":[{"first":{"rle":{"size":[1,4],"counts":[0,2,2]}},
                                             "second":{"rle":{"size":[1,4],"counts":[1,2,1]}}}]},
        {"task":"generation_speed","seconds":[1,3],"tokens":[10,30]}]})");
    const json& r = out["results"];
    EXPECT_EQ(r[0]["name"], "rec");
    EXPECT_EQ(r[0]["metrics"]["mean_iou"]["value"], 1.0);
    EXPECT_FALSE(r[0]["metrics"]["mean_iou"].contains("low"));
    EXPECT_DOUBLE_EQ(r[1]["metrics"]["accuracy"]["value"].get<double>(), 1.0 / 3.0);
    EXPECT_DOUBLE_EQ(r[1]["metrics"]["mean_absolute_error"]["value"].get<double>(), 0.5);
    EXPECT_DOUBLE_EQ(r[2]["metrics"]["rouge1"]["value"].get<double>(), 10.0 / 11.0);
    EXPECT_DOUBLE_EQ(r[3]["metrics"]["kappa"]["value"].get<double>(), 0.5);
    EXPECT_DOUBLE_EQ(r[4]["metrics"]["mean_iou"]["value"].get<double>(), 1.0 / 3.0);
    EXPECT_DOUBLE_EQ(r[5]["metrics"]["tokens_per_second"]["value"].get<double>(), 10.0);
}

TEST(MetricsScorePredictions, RefusesBadInputInPlainWords) {
    EXPECT_NE(refusal("{\"task\": ").find("not valid JSON"), std::string::npos);
    EXPECT_NE(refusal(R"({"task":"classification","labels":["a","b"],"truth":["a"],"predicted":["c"]})")
                  .find("predicted[0] is \"c\", which is not one of the labels"),
              std::string::npos);
    EXPECT_NE(refusal(R"({"task":"classification","labels":["a","b"],"truth":["a","b"],"predicted":["a"]})")
                  .find("must match one to one"),
              std::string::npos);
    EXPECT_NE(refusal(R"({"task":"classification","labels":["a","b"],"truth":["a"],"probabilities":[[0.5,0.2]]})")
                  .find("adds up to"),
              std::string::npos);
    EXPECT_NE(refusal(R"({"task":"sorting"})").find("unknown task"), std::string::npos);
    EXPECT_NE(refusal(R"({"tasks":[{"task":"counting","truth":[1],"predicted":[1]},{"task":"counting","truth":"x"}]})")
                  .find("task 2:"),
              std::string::npos);
    EXPECT_NE(refusal(R"({"task":"region_agreement","pairs":[{"first":{"rle":{"size":[2,2],"counts":[1,2]}},
        "second":{"rle":{"size":[2,2],"counts":[4]}}}]})").find("not a valid COCO RLE"),
              std::string::npos);
}

}  // namespace

namespace {

TEST(MetricsAnswerMapping, LabelsFromFreeAnswers) {
    EXPECT_EQ(es::answer_words("Ulcerative-colitis, grade_1."), "ulcerative colitis grade 1");
    const es::LabelMapper m({{"polyps", "polyp"},
                             {"ulcerative-colitis-grade-1"},
                             {"ulcerative-colitis-grade-2"},
                             {"esophagitis-a"},
                             {"normal-cecum", "cecum"}});
    EXPECT_EQ(m.map("Polyps"), 0);
    EXPECT_EQ(m.map("I see a polyp in the sigmoid."), 0);                   // synonym, whole words
    EXPECT_EQ(m.map("This is ulcerative colitis grade 2."), 2);
    EXPECT_EQ(m.map("Normal cecum"), 4);                                    // "cecum" is inside the longer name
    EXPECT_EQ(m.map("polyp or ulcerative colitis grade 1"), -1);            // two labels: ambiguous
    EXPECT_EQ(m.map("polyposis"), -1);                                      // not a whole word
    EXPECT_EQ(m.map("I cannot tell."), -1);
    EXPECT_EQ(m.map(""), -1);
}

TEST(MetricsAnswerMapping, OptionLetters) {
    const std::vector<std::string> letters = {"A", "B", "C", "D"};
    const std::vector<std::string> texts = {"polyp", "ulcer", "normal mucosa", "bleeding"};
    EXPECT_EQ(es::choice_letter("B", letters, texts), "B");
    EXPECT_EQ(es::choice_letter("(C) normal mucosa", letters, texts), "C");
    EXPECT_EQ(es::choice_letter(" D.", letters, texts), "D");
    EXPECT_EQ(es::choice_letter("Answer: B", letters, texts), "B");
    EXPECT_EQ(es::choice_letter("A polyp is visible, so the answer is C", letters, texts), "C");  // article A
    EXPECT_EQ(es::choice_letter("It shows an ulcer.", letters, texts), "B");                      // by option text
    EXPECT_EQ(es::choice_letter("B or C", letters, texts), "");
    EXPECT_EQ(es::choice_letter("an ulcer with bleeding", letters, texts), "");
    EXPECT_EQ(es::choice_letter("no idea", letters, texts), "");
}

TEST(MetricsAnswerMapping, ThroughJson) {
    es::ScoredPredictions r = es::score_predictions(R"({"task":"classification","labels":["polyps","normal-cecum"],
        "synonyms":{"polyps":["polyp"]},"truth":["polyps","normal-cecum","polyps"],
        "answers":["A small polyp.","normal cecum","no idea"],"bootstrap":false})");
    ASSERT_TRUE(r.ok) << r.message;
    json out = json::parse(r.json);
    EXPECT_EQ(out["mapped_answers"], json::parse(R"(["polyps","normal-cecum",null])"));
    EXPECT_DOUBLE_EQ(out["metrics"]["unmapped_rate"]["value"].get<double>(), 1.0 / 3.0);
    r = es::score_predictions(R"({"task":"multiple_choice","bootstrap":false,"items":[
        {"question":"q1","truth":"A","answer":"A) polyp","options":{"A":"polyp","B":"ulcer"}},
        {"question":"q1","truth":"B","answer":"I think it is a polyp","options":{"A":"ulcer","B":"polyp"}},
        {"question":"q2","truth":"A","predicted":"B"}]})");
    ASSERT_TRUE(r.ok) << r.message;
    out = json::parse(r.json);
    EXPECT_EQ(out["chosen"], json::parse(R"(["A","B","B"])"));
    EXPECT_DOUBLE_EQ(out["metrics"]["circular_accuracy"]["value"].get<double>(), 0.5);
}

}  // namespace
