// "Draft with AI" rules: only empty fields are asked, user values are never
// overwritten (also when the user fills a field while the model runs), choice
// answers are always vocabulary options with probabilities that sum to 1, and
// numbers outside their limits are rejected, not clamped.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>
#include <sstream>

#include "report/report_draft.h"

using namespace es;

namespace {

const char* kModel = "tiny-gemma3";
const char* kNow = "2026-11-30T05:00:00Z";

VocabOption opt(const std::string& id, const std::string& name, std::map<std::string, std::string> props = {}) {
    VocabOption o;
    o.id = id;
    o.name = name;
    o.properties = std::move(props);
    return o;
}

// A small vocabulary built in code (the data files are report-core's).
ReportVocabulary vocab() {
    ReportVocabulary v;
    v.lists["procedures"] = {opt("colonoscopy", "Colonoscopy", {{"organs", "colon"}}),
                             opt("gastroscopy", "Gastroscopy", {{"organs", "esophagus,stomach,duodenum"}, {"bowel_preparation", "false"}})};
    v.lists["segments"] = {opt("caecum", "Caecum", {{"organ", "colon"}}), opt("sigmoid", "Sigmoid colon", {{"organ", "colon"}}),
                           opt("rectum", "Rectum", {{"organ", "colon"}}), opt("antrum", "Antrum", {{"organ", "stomach"}})};
    v.lists["paris"] = {opt("0-Ip", "0-Ip"), opt("0-Is", "0-Is", {{"combinable", "true"}}),
                        opt("0-IIa", "0-IIa", {{"combinable", "true"}}), opt("0-IIc", "0-IIc", {{"combinable", "true"}})};
    v.lists["nice"] = {opt("1", "NICE 1"), opt("2", "NICE 2"), opt("3", "NICE 3")};
    v.lists["jnet"] = {opt("1", "JNET 1"), opt("2A", "JNET 2A"), opt("2B", "JNET 2B"), opt("3", "JNET 3")};
    v.lists["bbps"] = {opt("0", "0"), opt("1", "1"), opt("2", "2"), opt("3", "3")};
    v.lists["la_grade"] = {opt("A", "LA A"), opt("B", "LA B"), opt("C", "LA C"), opt("D", "LA D")};
    ReportAttribute la;
    la.id = "la_grade";
    la.name = "LA grade";
    la.type = "enum";
    la.list = "la_grade";
    ReportAttribute pc;
    pc.id = "prague_c";
    pc.name = "Prague C";
    pc.type = "number";
    pc.unit = "cm";
    pc.has_min = pc.has_max = true;
    pc.min = 0;
    pc.max = 20;
    v.attributes = {la, pc};
    ReportTerm polyp;
    polyp.id = "polyp";
    polyp.name = "Polyp";
    polyp.organs = {"colon"};
    polyp.calls_for = {"location_segment", "size_mm", "number", "paris", "nice", "jnet"};
    ReportTerm esoph;
    esoph.id = "esophagitis";
    esoph.name = "Esophagitis";
    esoph.organs = {"esophagus"};
    esoph.calls_for = {"distance_cm", "la_grade"};
    ReportTerm barrett;
    barrett.id = "barrett";
    barrett.name = "Barrett's esophagus";
    barrett.organs = {"esophagus"};
    barrett.calls_for = {"prague_c"};
    ReportTerm divert;
    divert.id = "diverticulosis";
    divert.name = "Diverticulosis";
    divert.organs = {"colon"};
    divert.calls_for = {"location_segment", "number"};
    v.terms = {polyp, esoph, barrett, divert};
    return v;
}

ImageLinks evidence(const std::string& image) { return {ImageLink{image, 1, ""}}; }

Report colonoscopy_with_polyp() {
    Report r;
    field_set_user(r.header.procedure, std::string("colonoscopy"), "Dr A", kNow);
    Finding f;
    f.id = "F1";
    field_set_user(f.term, std::string("polyp"), "Dr A", kNow);
    field_set_user(f.evidence, evidence("polyp.png"), "Dr A", kNow);
    r.findings.push_back(f);
    return r;
}

const DraftQuestion* find(const std::vector<DraftQuestion>& qs, const std::string& path) {
    for (const auto& q : qs)
        if (q.path == path) return &q;
    return nullptr;
}

DraftAnswer choice_answer(const DraftQuestion& q, std::vector<double> ll) {
    DraftAnswer a;
    a.path = q.path;
    for (const auto& o : q.options) a.codes.push_back(o.code);
    a.log_likelihoods = std::move(ll);
    return a;
}

DraftAnswer text_answer(const std::string& path, const std::string& text) {
    DraftAnswer a;
    a.path = path;
    a.text = text;
    return a;
}

}  // namespace

TEST(ReportDraft, AsksOnlyEmptyFieldsTheTermCallsFor) {
    Report r = colonoscopy_with_polyp();
    const auto qs = draft_questions(r, vocab(), DraftScope{{}, {"overview.png"}, true, true});
    std::vector<std::string> paths;
    for (const auto& q : qs) paths.push_back(q.path);
    const std::vector<std::string> want = {"findings[0].location_segment", "findings[0].size_mm", "findings[0].number",
                                           "findings[0].paris", "findings[0].nice", "findings[0].jnet", "findings[0].notes",
                                           "bowel_preparation.bbps_right", "bowel_preparation.bbps_transverse",
                                           "bowel_preparation.bbps_left", "impression"};
    EXPECT_EQ(paths, want);
    // A finding's questions are about its evidence image; bowel preparation about the scope's image.
    EXPECT_EQ(find(qs, "findings[0].paris")->image, "polyp.png");
    EXPECT_EQ(find(qs, "bowel_preparation.bbps_left")->image, "overview.png");
    EXPECT_EQ(find(qs, "impression")->image, "");
    // Not asked: distance (a polyp's term does not call for it here), the term (set).
    EXPECT_EQ(find(qs, "findings[0].distance_cm"), nullptr);
    EXPECT_EQ(find(qs, "findings[0].term"), nullptr);
    // Segment options are the colon's only (the procedure's organs).
    const auto* seg = find(qs, "findings[0].location_segment");
    ASSERT_NE(seg, nullptr);
    EXPECT_EQ(seg->options.size(), 3u);
    for (const auto& o : seg->options) EXPECT_NE(o.code, "antrum");
    // Prompts name the options and the finding.
    EXPECT_NE(find(qs, "findings[0].paris")->prompt.find("0-Ip, 0-Is, 0-IIa, 0-IIc"), std::string::npos);
    EXPECT_NE(find(qs, "findings[0].paris")->prompt.find("the polyp (F1)"), std::string::npos);
}

TEST(ReportDraft, UserValuesAreNeverAsked) {
    Report r = colonoscopy_with_polyp();
    Finding& f = r.findings[0];
    field_set_user(f.paris, std::string("0-Is"), "Dr A", kNow);
    field_set_user(f.size_mm, 6.0, "Dr A", kNow);
    // An AI value the user edited, and one the user accepted.
    field_set_ai(f.nice, std::string("1"), kModel, 0.5, kNow);
    field_set_user(f.nice, std::string("2"), "Dr A", kNow);
    ASSERT_EQ(f.nice.source, ValueSource::AiEdited);
    field_set_ai(f.jnet, std::string("2A"), kModel, 0.4, kNow);
    field_accept(f.jnet);
    field_set_user(r.bowel_preparation.bbps_right, 3, "Dr A", kNow);
    field_set_user(r.impression, std::string("Normal."), "Dr A", kNow);
    const auto qs = draft_questions(r, vocab(), DraftScope{{}, {"overview.png"}, true, true});
    for (const char* p : {"findings[0].paris", "findings[0].size_mm", "findings[0].nice", "findings[0].jnet",
                          "bowel_preparation.bbps_right", "impression"})
        EXPECT_EQ(find(qs, p), nullptr) << p;
    EXPECT_NE(find(qs, "findings[0].number"), nullptr);
    EXPECT_NE(find(qs, "bowel_preparation.bbps_left"), nullptr);
}

TEST(ReportDraft, AnswersNeverOverwriteUserValuesEvenIfAskedOrFilledMeanwhile) {
    Report r = colonoscopy_with_polyp();
    const ReportVocabulary v = vocab();
    const auto qs = draft_questions(r, v, DraftScope{{}, {"overview.png"}, true, true});
    // While the model runs, the user fills Paris, size and the impression.
    field_set_user(r.findings[0].paris, std::string("0-IIa"), "Dr A", "2026-11-30T05:01:00Z");
    field_set_user(r.findings[0].size_mm, 9.0, "Dr A", "2026-11-30T05:01:00Z");
    field_set_user(r.impression, std::string("One polyp."), "Dr A", "2026-11-30T05:01:00Z");
    const Report before = r;
    std::vector<DraftAnswer> as = {choice_answer(*find(qs, "findings[0].paris"), {-0.1, -5, -5, -5}),
                                   text_answer("findings[0].size_mm", "12 mm"),
                                   text_answer("impression", "A large polyp was seen.")};
    const auto out = apply_draft_answers(r, v, qs, as, kModel, kNow);
    EXPECT_TRUE(out.applied.empty());
    ASSERT_EQ(out.rejected.size(), 3u);
    for (const auto& x : out.rejected) EXPECT_NE(x.reason.find("kept the value already there"), std::string::npos) << x.reason;
    EXPECT_EQ(r, before);
    EXPECT_EQ(*r.findings[0].paris.value, "0-IIa");
    EXPECT_EQ(r.findings[0].paris.source, ValueSource::User);
}

TEST(ReportDraft, ChoiceIsTheBestOptionWithSoftmaxProbability) {
    Report r = colonoscopy_with_polyp();
    const ReportVocabulary v = vocab();
    const auto qs = draft_questions(r, v, DraftScope{{}, {"overview.png"}, true, true});
    const auto* q = find(qs, "findings[0].paris");
    ASSERT_NE(q, nullptr);
    const std::vector<double> ll = {-3.0, -1.0, -2.0, -std::numeric_limits<double>::infinity()};
    const auto out = apply_draft_answers(r, v, qs, {choice_answer(*q, ll)}, kModel, kNow);
    ASSERT_EQ(out.applied.size(), 1u);
    const Field<std::string>& paris = r.findings[0].paris;
    EXPECT_EQ(*paris.value, "0-Is");
    EXPECT_EQ(paris.source, ValueSource::Ai);
    EXPECT_FALSE(paris.accepted);
    EXPECT_EQ(paris.set_by, kModel);
    EXPECT_EQ(paris.set_at, kNow);
    const double z = std::exp(-3.0) + std::exp(-1.0) + std::exp(-2.0);
    EXPECT_NEAR(*paris.probability, std::exp(-1.0) / z, 1e-12);
    // The ranking covers every option, most probable first, and sums to 1.
    const auto& rk = out.applied[0].ranking;
    ASSERT_EQ(rk.size(), 4u);
    EXPECT_EQ(rk[0].first, "0-Is");
    EXPECT_EQ(rk[3].first, "0-IIc");
    EXPECT_EQ(rk[3].second, 0.0);
    double sum = 0;
    for (size_t i = 0; i < rk.size(); ++i) {
        sum += rk[i].second;
        if (i) {
            EXPECT_GE(rk[i - 1].second, rk[i].second);
        }
    }
    EXPECT_NEAR(sum, 1.0, 1e-12);
}

TEST(ReportDraft, ProbabilitiesSumToOne) {
    for (const auto& ll : std::vector<std::vector<double>>{{-1, -2, -3}, {-1000, -1001}, {0, 0, 0, 0}, {-50, -3, -700, -2.5, -2.6}}) {
        const auto p = draft_option_probabilities(ll);
        ASSERT_EQ(p.size(), ll.size());
        EXPECT_NEAR(std::accumulate(p.begin(), p.end(), 0.0), 1.0, 1e-12);
        for (double x : p) EXPECT_TRUE(x >= 0 && x <= 1);
    }
    const double inf = std::numeric_limits<double>::infinity();
    const auto none = draft_option_probabilities({-inf, -inf});
    EXPECT_NEAR(none[0] + none[1], 1.0, 1e-12);
}

TEST(ReportDraft, OptionsAreAlwaysVocabulary) {
    Report r = colonoscopy_with_polyp();
    const ReportVocabulary v = vocab();
    Finding g;
    g.id = "F2";
    field_set_user(g.evidence, evidence("other.png"), "Dr A", kNow);  // no term: the term is asked
    r.findings.push_back(g);
    const auto qs = draft_questions(r, v, DraftScope{{}, {"overview.png"}, true, true});
    size_t choices = 0;
    for (const auto& q : qs) {
        if (q.kind != DraftKind::Choice) continue;
        ++choices;
        ASSERT_GE(q.options.size(), 2u) << q.path;
        for (const auto& o : q.options) {
            const bool known = q.list == "terms" ? v.find_term(o.code) != nullptr
                               : q.list == "paris" ? is_valid_paris(v, o.code) : v.has(q.list, o.code);
            EXPECT_TRUE(known) << q.path << ": " << o.code;
        }
    }
    EXPECT_GE(choices, 8u);
    // The unclassified finding's term options are the colon's terms.
    const auto* term = find(qs, "findings[1].term");
    ASSERT_NE(term, nullptr);
    ASSERT_EQ(term->options.size(), 2u);
    EXPECT_EQ(term->options[0].code, "polyp");
    EXPECT_EQ(term->options[1].code, "diverticulosis");
}

TEST(ReportDraft, ForgedOptionsAreRejected) {
    Report r = colonoscopy_with_polyp();
    const ReportVocabulary v = vocab();
    auto qs = draft_questions(r, v, DraftScope{{}, {}, false, false});
    const DraftQuestion* q = find(qs, "findings[0].nice");
    ASSERT_NE(q, nullptr);
    // Scores for other codes than the question's.
    DraftAnswer a = choice_answer(*q, {-1, -2, -3});
    a.codes[0] = "7";
    // A question whose options were tampered with (e.g. through JSON): the winner is not vocabulary.
    std::vector<DraftQuestion> forged = qs;
    for (auto& x : forged)
        if (x.path == "findings[0].paris") x.options[0].code = "0-XX";
    const DraftQuestion* fp = find(forged, "findings[0].paris");
    const Report before = r;
    auto out = apply_draft_answers(r, v, forged, {a, choice_answer(*fp, {-0.1, -3, -3, -3})}, kModel, kNow);
    EXPECT_TRUE(out.applied.empty());
    ASSERT_EQ(out.rejected.size(), 2u);
    EXPECT_NE(out.rejected[0].reason.find("not for this field's options"), std::string::npos);
    EXPECT_NE(out.rejected[1].reason.find("not in the vocabulary"), std::string::npos);
    EXPECT_EQ(r, before);
}

TEST(ReportDraft, NumbersOutsideLimitsAreRejected) {
    const ReportVocabulary v = vocab();
    Report r = colonoscopy_with_polyp();
    const auto qs = draft_questions(r, v, DraftScope{{}, {}, false, false});
    const auto* size = find(qs, "findings[0].size_mm");
    ASSERT_NE(size, nullptr);
    EXPECT_EQ(size->kind, DraftKind::Number);
    EXPECT_GT(size->max_tokens, 0);
    struct Case { const char* path; const char* text; bool ok; const char* why; };
    const Case cases[] = {
        {"findings[0].size_mm", "It is about 2500 mm", false, "outside"},
        {"findings[0].size_mm", "-4", false, "outside"},
        {"findings[0].size_mm", "0 mm", false, "outside"},
        {"findings[0].size_mm", "no idea", false, "no number"},
        {"findings[0].number", "2.5", false, "not a whole number"},
        {"findings[0].number", "500", false, "outside"},
    };
    for (const auto& c : cases) {
        Report t = r;
        const auto out = apply_draft_answers(t, v, qs, {text_answer(c.path, c.text)}, kModel, kNow);
        EXPECT_TRUE(out.applied.empty()) << c.text;
        ASSERT_EQ(out.rejected.size(), 1u);
        EXPECT_NE(out.rejected[0].reason.find(c.why), std::string::npos) << c.text << ": " << out.rejected[0].reason;
        EXPECT_EQ(t, r) << c.text;
    }
    Report t = r;
    const auto out = apply_draft_answers(t, v, qs, {text_answer("findings[0].size_mm", "8,5 mm"), text_answer("findings[0].number", "2")},
                                         kModel, kNow);
    ASSERT_EQ(out.applied.size(), 2u);
    EXPECT_DOUBLE_EQ(*t.findings[0].size_mm.value, 8.5);
    EXPECT_EQ(t.findings[0].size_mm.source, ValueSource::Ai);
    EXPECT_FALSE(t.findings[0].size_mm.accepted);
    EXPECT_FALSE(t.findings[0].size_mm.probability.has_value());
    EXPECT_EQ(*t.findings[0].number.value, 2);
}

TEST(ReportDraft, TermAttributesAreAskedWithTheirListsAndLimits) {
    const ReportVocabulary v = vocab();
    Report r;
    field_set_user(r.header.procedure, std::string("gastroscopy"), "Dr A", kNow);
    Finding e;
    e.id = "F1";
    field_set_user(e.term, std::string("esophagitis"), "Dr A", kNow);
    field_set_user(e.evidence, evidence("eso.png"), "Dr A", kNow);
    Finding b;
    b.id = "F2";
    field_set_user(b.term, std::string("barrett"), "Dr A", kNow);
    field_set_user(b.evidence, evidence("barrett.png"), "Dr A", kNow);
    r.findings = {e, b};
    const auto qs = draft_questions(r, v, DraftScope{{}, {"overview.png"}, true, false});
    const auto* la = find(qs, "findings[0].attributes.la_grade");
    ASSERT_NE(la, nullptr);
    EXPECT_EQ(la->list, "la_grade");
    EXPECT_EQ(la->options.size(), 4u);
    const auto* dist = find(qs, "findings[0].distance_cm");
    ASSERT_NE(dist, nullptr);
    EXPECT_NE(dist->prompt.find("incisors"), std::string::npos);
    const auto* pc = find(qs, "findings[1].attributes.prague_c");
    ASSERT_NE(pc, nullptr);
    EXPECT_EQ(pc->max, 20);
    // A gastroscopy has no bowel preparation questions.
    EXPECT_EQ(find(qs, "bowel_preparation.bbps_right"), nullptr);
    const auto out = apply_draft_answers(r, v, qs,
                                         {choice_answer(*la, {-2, -0.5, -3, -4}), text_answer(pc->path, "25 cm"),
                                          text_answer(dist->path, "32")},
                                         kModel, kNow);
    ASSERT_EQ(out.applied.size(), 2u);
    EXPECT_EQ(std::get<std::string>(*r.findings[0].attributes.at("la_grade").value), "B");
    EXPECT_FALSE(r.findings[0].attributes.at("la_grade").accepted);
    // The rejected Prague C leaves no empty attribute behind.
    EXPECT_EQ(r.findings[1].attributes.count("prague_c"), 0u);
    EXPECT_DOUBLE_EQ(*r.findings[0].distance_cm.value, 32);
}

TEST(ReportDraft, TextIsBounded) {
    EXPECT_EQ(draft_bound_text("  a\n\tb  c\x01 ", 100), "a b c");
    const std::string long_text(1000, 'x');
    EXPECT_LE(draft_bound_text(long_text, 300).size(), 300u);
    EXPECT_EQ(draft_bound_text("one two three four", 12), "one two");
    // Never inside a UTF-8 character.
    const std::string s = draft_bound_text("\xC3\xA9\xC3\xA9\xC3\xA9", 3);
    EXPECT_EQ(s, "\xC3\xA9");
    const ReportVocabulary v = vocab();
    Report r = colonoscopy_with_polyp();
    const auto qs = draft_questions(r, v, DraftScope{{}, {}, true, true});
    const auto* imp = find(qs, "impression");
    ASSERT_NE(imp, nullptr);
    EXPECT_GT(imp->max_tokens, 0);
    EXPECT_NE(imp->prompt.find("Polyp"), std::string::npos) << imp->prompt;  // the narrative of the findings
    auto out = apply_draft_answers(r, v, qs, {text_answer("impression", std::string(5000, 'y'))}, kModel, kNow);
    ASSERT_EQ(out.applied.size(), 1u);
    EXPECT_EQ(r.impression.value->size(), imp->max_chars);
    EXPECT_EQ(r.impression.source, ValueSource::Ai);
    EXPECT_FALSE(r.impression.accepted);
    out = apply_draft_answers(r, v, qs, {text_answer("findings[0].notes", " \n ")}, kModel, kNow);
    ASSERT_EQ(out.rejected.size(), 1u);
    EXPECT_FALSE(r.findings[0].notes.has_value());
}

TEST(ReportDraft, ParsesNumbers) {
    EXPECT_EQ(draft_parse_number("about 8 mm"), 8.0);
    EXPECT_EQ(draft_parse_number("7,5"), 7.5);
    EXPECT_EQ(draft_parse_number("-3 mm"), -3.0);
    EXPECT_EQ(draft_parse_number("12."), 12.0);
    EXPECT_FALSE(draft_parse_number("none").has_value());
    EXPECT_FALSE(draft_parse_number("").has_value());
    EXPECT_TRUE(std::isfinite(*draft_parse_number(std::string(400, '9'))));
}

TEST(ReportDraft, ScopeLimitsFindingsAndNoEvidenceMeansNoImageQuestions) {
    const ReportVocabulary v = vocab();
    Report r = colonoscopy_with_polyp();
    Finding g;
    g.id = "F2";
    field_set_user(g.term, std::string("polyp"), "Dr A", kNow);  // no evidence image
    r.findings.push_back(g);
    auto qs = draft_questions(r, v, DraftScope{{"F2"}, {}, false, false});
    EXPECT_TRUE(qs.empty());
    qs = draft_questions(r, v, DraftScope{{"F1"}, {}, false, false});
    EXPECT_FALSE(qs.empty());
    for (const auto& q : qs) EXPECT_EQ(q.target.finding_id, "F1");
}

TEST(ReportDraft, JsonRoundTrip) {
    const ReportVocabulary v = vocab();
    Report r = colonoscopy_with_polyp();
    const auto qs = draft_questions(r, v, DraftScope{{}, {"overview.png"}, true, true});
    std::vector<DraftQuestion> back;
    std::string err;
    ASSERT_TRUE(draft_questions_from_json(nlohmann::json::parse(draft_questions_to_json(qs).dump()), &back, &err)) << err;
    ASSERT_EQ(back.size(), qs.size());
    for (size_t i = 0; i < qs.size(); ++i) {
        EXPECT_EQ(back[i].path, qs[i].path);
        EXPECT_EQ(back[i].prompt, qs[i].prompt);
        EXPECT_EQ(back[i].list, qs[i].list);
        EXPECT_EQ(back[i].options.size(), qs[i].options.size());
        EXPECT_EQ(back[i].max, qs[i].max);
    }
    std::vector<DraftAnswer> as;
    ASSERT_TRUE(draft_answers_from_json(nlohmann::json::parse(
        R"([{"path":"findings[0].nice","codes":["1","2","3"],"log_likelihoods":[-1,null,-2]},{"path":"impression","text":"x"}])"),
        &as, &err)) << err;
    ASSERT_EQ(as.size(), 2u);
    EXPECT_TRUE(std::isinf(as[0].log_likelihoods[1]));
    EXPECT_FALSE(draft_answers_from_json(nlohmann::json::parse(R"([{"codes":[]}])"), &as, &err));
    EXPECT_FALSE(draft_answers_from_json(nlohmann::json::parse(R"({"path":"x"})"), &as, &err));
}

// The vocabulary files the app ships (models/report/*.json).
TEST(ReportDraft, WithTheShippedVocabulary) {
    std::vector<std::string> texts, names;
    for (const char* f : {"report_lists.json", "classifications.json", "mst3_terms.json", "label_map.json"}) {
        std::ifstream in(std::string(ES_SOURCE_DIR) + "/models/report/" + f);
        ASSERT_TRUE(in) << f;
        std::stringstream ss;
        ss << in.rdbuf();
        texts.push_back(ss.str());
        names.push_back(f);
    }
    ReportVocabulary v;
    std::string err;
    ASSERT_TRUE(report_vocabulary_load(v, texts, names, &err)) << err;
    Report r;
    field_set_user(r.header.procedure, std::string("colonoscopy"), "Dr A", kNow);
    Finding p;
    p.id = "F1";
    field_set_user(p.term, std::string("polyp"), "Dr A", kNow);
    field_set_user(p.evidence, evidence("polyp.png"), "Dr A", kNow);
    Finding u;
    u.id = "F2";
    field_set_user(u.evidence, evidence("other.png"), "Dr A", kNow);
    r.findings = {p, u};
    const auto qs = draft_questions(r, v, DraftScope{{}, {"overview.png"}, true, true});
    for (const auto& q : qs) {
        // Histology and dysplasia come from pathology: never asked of an image.
        EXPECT_EQ(q.path.find("histology"), std::string::npos);
        EXPECT_EQ(q.path.find("dysplasia"), std::string::npos);
        if (q.kind != DraftKind::Choice) continue;
        for (const auto& o : q.options) {
            const bool known = q.list == "terms" ? v.find_term(o.code) != nullptr
                               : q.list == "paris" ? is_valid_paris(v, o.code)
                               : q.list.empty() ? (o.code == "true" || o.code == "false") : v.has(q.list, o.code);
            EXPECT_TRUE(known) << q.path << ": " << o.code;
        }
    }
    const auto* term = find(qs, "findings[1].term");
    ASSERT_NE(term, nullptr);
    for (const auto& o : term->options) {
        const ReportTerm* t = v.find_term(o.code);
        ASSERT_NE(t, nullptr);
        EXPECT_TRUE(std::find(t->organs.begin(), t->organs.end(), "colon") != t->organs.end() ||
                    std::find(t->organs.begin(), t->organs.end(), "ileum") != t->organs.end()) << o.code;
    }
    for (const char* want : {"findings[0].paris", "findings[0].nice", "findings[0].jnet", "findings[0].attributes.lst_type",
                             "findings[0].size_mm", "findings[0].location_segment", "bowel_preparation.bbps_right"})
        EXPECT_NE(find(qs, want), nullptr) << want;
    // Every BBPS option and a segment answer apply cleanly.
    Report t = r;
    const auto* seg = find(qs, "findings[0].location_segment");
    std::vector<double> ll(seg->options.size(), -5.0);
    ll[2] = -0.5;
    const auto out = apply_draft_answers(t, v, qs, {choice_answer(*seg, ll)}, kModel, kNow);
    ASSERT_EQ(out.applied.size(), 1u);
    EXPECT_TRUE(v.has("segments", *t.findings[0].location_segment.value));
}
