// report_surveillance_test.cpp: every row of the ESGE 2020 and USMSTF 2020
// rule tables, from a report built to meet exactly that row, plus the facts
// and the citations.
#include <gtest/gtest.h>

#include "report/surveillance_rules.h"
#include "report_test_support.h"

namespace {

using namespace es;
using es_test::shipped_vocabulary;
using es_test::user_value;

const SurveillanceTable& table(const std::string& id) {
    static std::map<std::string, SurveillanceTable> tables;
    auto it = tables.find(id);
    if (it != tables.end()) return it->second;
    SurveillanceTable t;
    std::string error;
    EXPECT_TRUE(surveillance_table_parse(es_test::read_report_model("surveillance_" + id + ".json"), &t, &error))
        << error;
    return tables[id] = t;
}

// A complete colonoscopy with adequate preparation and no findings.
Report clean_colonoscopy() {
    Report r;
    r.header.procedure = user_value<std::string>("colonoscopy");
    r.extent.caecal_intubation = user_value(true);
    r.bowel_preparation.bbps_right = user_value(2);
    r.bowel_preparation.bbps_transverse = user_value(2);
    r.bowel_preparation.bbps_left = user_value(2);
    return r;
}

struct Polyp {
    std::string histology;  // "" = pending
    double size_mm = 5;
    int number = 1;
    std::string dysplasia;  // "" = not recorded
    std::string segment = "ascending-colon";
    bool piecemeal = false;
};

void add(Report& r, const Polyp& p) {
    Finding f;
    f.id = r.next_finding_id();
    f.term = user_value<std::string>("polyp");
    f.location_segment = user_value(p.segment);
    if (p.size_mm >= 0) f.size_mm = user_value(p.size_mm);
    f.number = user_value(p.number);
    if (!p.histology.empty()) f.attributes["histology"] = user_value<AttributeValue>(p.histology);
    if (!p.dysplasia.empty()) f.attributes["dysplasia"] = user_value<AttributeValue>(p.dysplasia);
    Intervention in;
    in.id = r.next_intervention_id();
    in.finding_id = f.id;
    in.method = user_value<std::string>(p.piecemeal ? "emr" : "cold-snare-polypectomy");
    in.resection = user_value<std::string>(p.piecemeal ? "piecemeal" : "en_bloc");
    in.retrieved = user_value(true);
    r.findings.push_back(f);
    r.interventions.push_back(in);
}

Report with(std::initializer_list<Polyp> polyps) {
    Report r = clean_colonoscopy();
    for (const Polyp& p : polyps) add(r, p);
    return r;
}

SurveillanceSuggestion suggest(const Report& r, const std::string& t) {
    return suggest_surveillance(r, shipped_vocabulary(), table(t));
}

void expect_rule(const Report& r, const std::string& t, const std::string& rule, std::optional<double> lo,
                 std::optional<double> hi) {
    const SurveillanceSuggestion s = suggest(r, t);
    ASSERT_TRUE(s.matched) << s.why;
    EXPECT_EQ(s.rule_id, t + "." + rule);
    EXPECT_EQ(s.min_years, lo);
    EXPECT_EQ(s.max_years, hi);
    EXPECT_FALSE(s.citation.empty());
}

const Polyp TA{"tubular-adenoma"};
const Polyp SSL{"sessile-serrated-lesion"};

// ---------------------------------------------------------------- USMSTF 2020

TEST(ReportUsmstfRules, Normal) { expect_rule(clean_colonoscopy(), "usmstf2020", "normal", 10, 10); }
TEST(ReportUsmstfRules, OneToTwoTubularAdenomasUnder10mm) {
    expect_rule(with({TA}), "usmstf2020", "adenomas-1-2", 7, 10);
    expect_rule(with({TA, TA}), "usmstf2020", "adenomas-1-2", 7, 10);
}
TEST(ReportUsmstfRules, ThreeToFourTubularAdenomas) {
    expect_rule(with({TA, TA, TA}), "usmstf2020", "adenomas-3-4", 3, 5);
    expect_rule(with({{"tubular-adenoma", 4, 4}}), "usmstf2020", "adenomas-3-4", 3, 5);
}
TEST(ReportUsmstfRules, FiveToTenTubularAdenomas) {
    expect_rule(with({{"tubular-adenoma", 4, 5}}), "usmstf2020", "adenomas-5-10", 3, 3);
    expect_rule(with({{"tubular-adenoma", 4, 10}}), "usmstf2020", "adenomas-5-10", 3, 3);
}
TEST(ReportUsmstfRules, MoreThanTenAdenomas) { expect_rule(with({{"tubular-adenoma", 3, 11}}), "usmstf2020", "more-than-10-adenomas", 1, 1); }
TEST(ReportUsmstfRules, AdenomaOf10mmOrMore) {
    expect_rule(with({{"tubular-adenoma", 10}}), "usmstf2020", "adenoma-ge10mm", 3, 3);
    expect_rule(with({{"tubular-adenoma", 9.9}}), "usmstf2020", "adenomas-1-2", 7, 10);
}
TEST(ReportUsmstfRules, VillousHistology) {
    expect_rule(with({{"tubulovillous-adenoma", 6}}), "usmstf2020", "adenoma-villous", 3, 3);
    expect_rule(with({{"villous-adenoma", 6}}), "usmstf2020", "adenoma-villous", 3, 3);
}
TEST(ReportUsmstfRules, HighGradeDysplasia) {
    expect_rule(with({{"tubular-adenoma", 6, 1, "high-grade"}}), "usmstf2020", "adenoma-hgd", 3, 3);
    expect_rule(with({{"tubular-adenoma", 6, 1, "low-grade"}}), "usmstf2020", "adenomas-1-2", 7, 10);
}
TEST(ReportUsmstfRules, PiecemealAdenoma20mm) {
    expect_rule(with({{"tubular-adenoma", 20, 1, "", "ascending-colon", true}}), "usmstf2020", "piecemeal-adenoma-ge20mm", 0.5, 0.5);
    // Piecemeal under 20 mm is not the 6-month rule.
    expect_rule(with({{"tubular-adenoma", 19, 1, "", "ascending-colon", true}}), "usmstf2020", "adenoma-ge10mm", 3, 3);
}
TEST(ReportUsmstfRules, PiecemealSsp20mm) {
    expect_rule(with({{"sessile-serrated-lesion", 25, 1, "", "ascending-colon", true}}), "usmstf2020", "piecemeal-ssp-ge20mm", 0.5, 0.5);
}
TEST(ReportUsmstfRules, SerratedRows) {
    expect_rule(with({SSL}), "usmstf2020", "ssp-1-2", 5, 10);
    expect_rule(with({SSL, SSL, SSL}), "usmstf2020", "ssp-3-4", 3, 5);
    expect_rule(with({{"sessile-serrated-lesion", 5, 6}}), "usmstf2020", "ssp-5-10", 3, 3);
    expect_rule(with({{"sessile-serrated-lesion", 12}}), "usmstf2020", "ssp-ge10mm", 3, 3);
    expect_rule(with({{"sessile-serrated-lesion", 6, 1, "low-grade"}}), "usmstf2020", "ssp-dysplasia", 3, 3);
    expect_rule(with({{"traditional-serrated-adenoma", 6}}), "usmstf2020", "traditional-serrated-adenoma", 3, 3);
    expect_rule(with({{"hyperplastic-polyp", 12}}), "usmstf2020", "hyperplastic-ge10mm", 3, 5);
    expect_rule(with({{"hyperplastic-polyp", 4, 3, "", "sigmoid-colon"}}), "usmstf2020", "hyperplastic-small-rectosigmoid", 10, 10);
    expect_rule(with({{"hyperplastic-polyp", 4, 1, "", "rectum"}, {"hyperplastic-polyp", 4, 1, "", "transverse-colon"}}),
                "usmstf2020", "hyperplastic-small-proximal", 10, 10);
}
TEST(ReportUsmstfRules, PreconditionsAndPendingData) {
    Report poor = with({TA});
    poor.bowel_preparation.bbps_left = user_value(1);
    expect_rule(poor, "usmstf2020", "inadequate-preparation", 1, 1);
    Report incomplete = with({TA});
    incomplete.extent.caecal_intubation = user_value(false);
    expect_rule(incomplete, "usmstf2020", "incomplete-examination", std::nullopt, std::nullopt);
    expect_rule(with({{""}}), "usmstf2020", "histology-pending", std::nullopt, std::nullopt);
    expect_rule(with({{"tubular-adenoma", -1}}), "usmstf2020", "size-missing", std::nullopt, std::nullopt);
    expect_rule(with({{"adenocarcinoma", 15}}), "usmstf2020", "cancer", std::nullopt, std::nullopt);
}
TEST(ReportUsmstfRules, MixedFindingsTakeTheShortestInterval) {
    // 2 small adenomas (7-10 y) + 1 SSP of 12 mm (3 y) -> 3 y.
    expect_rule(with({TA, TA, {"sessile-serrated-lesion", 12}}), "usmstf2020", "ssp-ge10mm", 3, 3);
}

// ---------------------------------------------------------------- ESGE 2020

TEST(ReportEsgeRules, NoAdenomaOrSerratedPolyp) { expect_rule(clean_colonoscopy(), "esge2020", "no-adenoma-or-serrated-polyp", 10, 10); }
TEST(ReportEsgeRules, LowRiskAdenomas) {
    expect_rule(with({TA}), "esge2020", "low-risk-adenomas", 10, 10);
    expect_rule(with({{"tubular-adenoma", 9, 4}}), "esge2020", "low-risk-adenomas", 10, 10);
    // Villous component without HGD stays low risk in ESGE 2020 (unlike USMSTF).
    expect_rule(with({{"tubulovillous-adenoma", 8}}), "esge2020", "low-risk-adenomas", 10, 10);
}
TEST(ReportEsgeRules, LowRiskSerrated) { expect_rule(with({{"hyperplastic-polyp", 4, 2}}), "esge2020", "low-risk-serrated", 10, 10); }
TEST(ReportEsgeRules, FiveOrMoreAdenomas) { expect_rule(with({{"tubular-adenoma", 4, 5}}), "esge2020", "high-risk-5-or-more-adenomas", 3, 3); }
TEST(ReportEsgeRules, AdenomaOf10mmOrMore) { expect_rule(with({{"tubular-adenoma", 10}}), "esge2020", "high-risk-adenoma-ge10mm", 3, 3); }
TEST(ReportEsgeRules, HighGradeDysplasia) {
    expect_rule(with({{"tubular-adenoma", 5, 1, "high-grade"}}), "esge2020", "high-risk-adenoma-hgd", 3, 3);
}
TEST(ReportEsgeRules, SerratedOf10mmOrMore) { expect_rule(with({{"sessile-serrated-lesion", 10}}), "esge2020", "high-risk-serrated-ge10mm", 3, 3); }
TEST(ReportEsgeRules, SerratedWithDysplasia) {
    expect_rule(with({{"sessile-serrated-lesion", 6, 1, "low-grade"}}), "esge2020", "high-risk-serrated-dysplasia", 3, 3);
}
TEST(ReportEsgeRules, PiecemealOf20mmOrMore) {
    const SurveillanceSuggestion s = suggest(with({{"tubular-adenoma", 30, 1, "", "rectum", true}}), "esge2020");
    EXPECT_EQ(s.rule_id, "esge2020.piecemeal-ge20mm");
    EXPECT_EQ(s.interval_words(), "3-6 months");
    // Piecemeal before histology is known still gets the site check.
    expect_rule(with({{"", 30, 1, "", "rectum", true}}), "esge2020", "piecemeal-ge20mm", 0.25, 0.5);
}
TEST(ReportEsgeRules, PreconditionsAndPendingData) {
    Report poor = with({TA});
    poor.bowel_preparation.bbps_right = user_value(0);
    expect_rule(poor, "esge2020", "inadequate-preparation", 1, 1);
    Report incomplete = with({TA});
    incomplete.extent.caecal_intubation = user_value(false);
    expect_rule(incomplete, "esge2020", "incomplete-examination", std::nullopt, std::nullopt);
    expect_rule(with({{""}}), "esge2020", "histology-pending", std::nullopt, std::nullopt);
    expect_rule(with({{"tubular-adenoma", -1}}), "esge2020", "size-missing", std::nullopt, std::nullopt);
    expect_rule(with({{"adenocarcinoma", 15}}), "esge2020", "cancer", std::nullopt, std::nullopt);
}

// ---------------------------------------------------------------- tables themselves

TEST(ReportSurveillanceTables, EveryRuleCitesItsGuideline) {
    for (const char* id : {"esge2020", "usmstf2020"}) {
        const SurveillanceTable& t = table(id);
        const std::string author = std::string(id) == "esge2020" ? "Hassan" : "Gupta";
        for (const SurveillanceRule& r : t.rules) {
            EXPECT_NE(r.citation.find(author), std::string::npos) << id << "." << r.id;
            EXPECT_TRUE(r.citation.find("recommendation") != std::string::npos ||
                        r.citation.find("table") != std::string::npos ||
                        r.citation.find("footnote") != std::string::npos ||
                        r.citation.find("scope") != std::string::npos)
                << id << "." << r.id << " names no recommendation/table: " << r.citation;
        }
    }
}

TEST(ReportSurveillanceTables, EveryRuleIsReachable) {
    // Each rule row is the answer for at least one of the reports above: a
    // shadowed row (never first to match) would be dead data. Checked by
    // counting distinct rule ids the test reports produce.
    std::set<std::string> seen;
    const std::vector<Report> reports = {
        clean_colonoscopy(), with({TA}), with({TA, TA, TA}), with({{"tubular-adenoma", 4, 5}}),
        with({{"tubular-adenoma", 3, 11}}), with({{"tubular-adenoma", 10}}), with({{"tubulovillous-adenoma", 6}}),
        with({{"tubular-adenoma", 6, 1, "high-grade"}}), with({{"tubular-adenoma", 20, 1, "", "rectum", true}}),
        with({{"sessile-serrated-lesion", 25, 1, "", "rectum", true}}), with({SSL}), with({SSL, SSL, SSL}),
        with({{"sessile-serrated-lesion", 5, 6}}), with({{"sessile-serrated-lesion", 12}}),
        with({{"sessile-serrated-lesion", 6, 1, "low-grade"}}), with({{"traditional-serrated-adenoma", 6}}),
        with({{"hyperplastic-polyp", 12}}), with({{"hyperplastic-polyp", 4, 3, "", "sigmoid-colon"}}),
        with({{"hyperplastic-polyp", 4, 1, "", "transverse-colon"}}), with({{""}}), with({{"tubular-adenoma", -1}}),
        with({{"adenocarcinoma", 15}}), with({{"tubular-adenoma", 4, 3}})};
    Report poor = with({TA});
    poor.bowel_preparation.bbps_left = user_value(1);
    Report incomplete = with({TA});
    incomplete.extent.caecal_intubation = user_value(false);
    std::vector<Report> all = reports;
    all.push_back(poor);
    all.push_back(incomplete);
    for (const char* id : {"esge2020", "usmstf2020"}) {
        for (const Report& r : all) seen.insert(suggest(r, id).rule_id);
        for (const SurveillanceRule& rule : table(id).rules)
            EXPECT_TRUE(seen.count(std::string(id) + "." + rule.id)) << id << "." << rule.id << " never matched";
    }
}

TEST(ReportSurveillanceTables, NotAColonoscopy) {
    Report r;
    r.header.procedure = user_value<std::string>("gastroscopy");
    const SurveillanceSuggestion s = suggest(r, "usmstf2020");
    EXPECT_FALSE(s.matched);
    EXPECT_NE(s.why.find("gastroscopy"), std::string::npos) << s.why;
}

TEST(ReportSurveillanceTables, UnknownFactIsRefused) {
    SurveillanceTable t;
    std::string error;
    EXPECT_FALSE(surveillance_table_parse(
        R"({"format":"endoscribe-surveillance-rules","version":1,"id":"x","name":"x","source":"x","procedures":["colonoscopy"],
            "rules":[{"id":"a","when":[{"fact":"adenomass","op":">=","value":1}],"interval_years":null,"text":"t","citation":"c"}]})",
        &t, &error));
    EXPECT_NE(error.find("rules[0].when[0].fact"), std::string::npos) << error;
}

TEST(ReportSurveillanceTables, ProposeWritesAnUnconfirmedSuggestion) {
    Report r = with({TA, TA, TA});
    const SurveillanceSuggestion s = suggest(r, "usmstf2020");
    ASSERT_TRUE(surveillance_propose(r, s, es_test::kWhen));
    EXPECT_EQ(*r.surveillance.interval_years.value, 3.0);
    EXPECT_EQ(*r.surveillance.rule_id.value, "usmstf2020.adenomas-3-4");
    EXPECT_FALSE(*r.surveillance.confirmed.value);
    EXPECT_EQ(s.interval_words(), "3-5 years");
    r.surveillance.confirmed = user_value(true);
    EXPECT_FALSE(surveillance_propose(r, suggest(with({TA}), "usmstf2020"), es_test::kWhen));
    EXPECT_EQ(*r.surveillance.interval_years.value, 3.0);
}

}  // namespace
