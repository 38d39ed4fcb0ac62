// report_quality_test.cpp: each quality warning appears when its indicator is
// missing, names its field path, and goes away when the field is filled.
#include <gtest/gtest.h>

#include <algorithm>

#include "report/report_quality.h"
#include "report_test_support.h"

namespace {

using namespace es;
using es_test::example_colonoscopy;
using es_test::shipped_vocabulary;
using es_test::user_value;

std::vector<QualityWarning> warnings(const Report& r, const std::vector<std::string>* images = nullptr) {
    return report_quality_warnings(r, shipped_vocabulary(), images);
}

// A copy (the vector is often a temporary).
std::optional<QualityWarning> find(const std::vector<QualityWarning>& w, const std::string& code, const std::string& path) {
    for (const QualityWarning& q : w)
        if (q.code == code && q.path == path) return q;
    return std::nullopt;
}

// The example, completed so that only "unsigned" remains.
Report complete_report() {
    Report r = example_colonoscopy();
    r.recommendations = user_value<std::string>("Await histology.");
    r.surveillance.interval_years = user_value(0.5);
    r.surveillance.rule_id = user_value<std::string>("esge2020.piecemeal-ge20mm");
    r.surveillance.confirmed = user_value(true);
    r.findings[1].evidence = user_value<ImageLinks>({{"polyp_02.jpg", 2, ""}});
    return r;
}

TEST(ReportQuality, CompleteReportOnlyLacksTheSignature) {
    const std::vector<QualityWarning> w = warnings(complete_report());
    ASSERT_EQ(w.size(), 1u) << w[0].path << ": " << w[0].message;
    EXPECT_EQ(w[0].code, "unsigned");
    EXPECT_EQ(w[0].path, "status");
}

TEST(ReportQuality, MissingBbpsSegment) {
    Report r = complete_report();
    field_clear(r.bowel_preparation.bbps_transverse);
    const std::optional<QualityWarning> q = find(warnings(r), "bbps_segment_missing", "bowel_preparation.bbps_transverse");
    ASSERT_NE(q, std::nullopt);
    EXPECT_NE(q->message.find("transverse colon"), std::string::npos) << q->message;
}

TEST(ReportQuality, InadequatePreparation) {
    Report r = complete_report();
    r.bowel_preparation.bbps_left = user_value(1);
    const std::optional<QualityWarning> q = find(warnings(r), "bbps_inadequate", "bowel_preparation");
    ASSERT_NE(q, std::nullopt);
    EXPECT_NE(q->message.find("total 6"), std::string::npos) << q->message;
}

TEST(ReportQuality, CaecumNotDocumentedByAnImage) {
    Report r = complete_report();
    field_clear(r.extent.caecal_evidence);
    EXPECT_NE(find(warnings(r), "caecum_not_documented", "extent.caecal_evidence"), std::nullopt);
    // An image of a landmark that does not prove caecal intubation does not count.
    r.extent.caecal_evidence = user_value<ImageLinks>({{"sigmoid.jpg", 0, "sigmoid-colon"}});
    const std::vector<QualityWarning> w = warnings(r);
    EXPECT_NE(find(w, "caecum_not_documented", "extent.caecal_evidence"), std::nullopt);
    EXPECT_NE(find(w, "caecal_evidence_not_caecal", "extent.caecal_evidence[0].landmark"), std::nullopt);
    // Not needed for a gastroscopy.
    r.header.procedure = user_value<std::string>("gastroscopy");
    EXPECT_EQ(find(warnings(r), "caecum_not_documented", "extent.caecal_evidence"), std::nullopt);
}

TEST(ReportQuality, IncompleteExaminationNeedsAReason) {
    Report r = complete_report();
    r.extent.caecal_intubation = user_value(false);
    EXPECT_NE(find(warnings(r), "incomplete_reason_missing", "extent.incomplete_reason"), std::nullopt);
    r.extent.incomplete_reason = user_value<std::string>("looping");
    EXPECT_EQ(find(warnings(r), "incomplete_reason_missing", "extent.incomplete_reason"), std::nullopt);
}

TEST(ReportQuality, WithdrawalTimeUnderSixMinutes) {
    Report r = complete_report();
    r.bowel_preparation.withdrawal_time_min = user_value(5.9);
    const std::optional<QualityWarning> q = find(warnings(r), "withdrawal_time_short", "bowel_preparation.withdrawal_time_min");
    ASSERT_NE(q, std::nullopt);
    EXPECT_NE(q->message.find("5.9 min"), std::string::npos) << q->message;
    r.bowel_preparation.withdrawal_time_min = user_value(6.0);
    EXPECT_EQ(find(warnings(r), "withdrawal_time_short", "bowel_preparation.withdrawal_time_min"), std::nullopt);
    field_clear(r.bowel_preparation.withdrawal_time_min);
    EXPECT_NE(find(warnings(r), "withdrawal_time_missing", "bowel_preparation.withdrawal_time_min"), std::nullopt);
}

TEST(ReportQuality, ResectedPolypNotRetrieved) {
    Report r = complete_report();
    r.interventions[1].retrieved = user_value(false);
    const std::optional<QualityWarning> q = find(warnings(r), "specimen_not_retrieved", "interventions[1].retrieved");
    ASSERT_NE(q, std::nullopt);
    EXPECT_NE(q->message.find("F2"), std::string::npos) << q->message;
    field_clear(r.interventions[1].retrieved);
    EXPECT_NE(find(warnings(r), "specimen_not_retrieved", "interventions[1].retrieved"), std::nullopt);
    field_clear(r.interventions[1].resection);
    EXPECT_NE(find(warnings(r), "resection_kind_missing", "interventions[1].resection"), std::nullopt);
}

TEST(ReportQuality, FindingWithoutWhatItsTermRequires) {
    Report r = complete_report();
    field_clear(r.findings[0].size_mm);
    field_clear(r.findings[0].location_segment);
    std::vector<QualityWarning> w = warnings(r);
    EXPECT_NE(find(w, "finding_field_missing", "findings[0].size_mm"), std::nullopt);
    EXPECT_NE(find(w, "finding_field_missing", "findings[0].location_segment"), std::nullopt);
    // Barrett's requires Prague C and M (attributes), oesophagitis the LA grade.
    Finding b;
    b.id = "F9";
    b.term = user_value<std::string>("barretts-esophagus");
    b.attributes["prague_c"] = user_value<AttributeValue>(2.0);
    b.evidence = user_value<ImageLinks>({{"b.jpg", 0, ""}});
    r.findings.push_back(b);
    w = warnings(r);
    EXPECT_NE(find(w, "finding_field_missing", "findings[2].attributes.prague_m"), std::nullopt);
    EXPECT_EQ(find(w, "finding_field_missing", "findings[2].attributes.prague_c"), std::nullopt);
    // A size on a term that has none is kept but pointed out.
    r.findings[2].size_mm = user_value(3.0);
    EXPECT_NE(find(warnings(r), "field_not_for_term", "findings[2].size_mm"), std::nullopt);
}

TEST(ReportQuality, UnacceptedAiValuesBlockSigning) {
    Report r = complete_report();
    ASSERT_TRUE(field_set_ai(r.findings[0].jnet, std::string("2A"), "medgemma", 0.4, es_test::kWhen));
    const std::optional<QualityWarning> q = find(warnings(r), "ai_not_accepted", "findings[0].jnet");
    ASSERT_NE(q, std::nullopt);
    EXPECT_TRUE(q->blocks_signing);
    field_accept(r.findings[0].jnet);
    EXPECT_EQ(find(warnings(r), "ai_not_accepted", "findings[0].jnet"), std::nullopt);
}

TEST(ReportQuality, EvidenceImagesMustBeInTheCase) {
    const Report r = complete_report();
    const std::vector<std::string> images = {"cecum_01.jpg", "cecum_02.jpg", "polyp_01.jpg"};
    const std::vector<QualityWarning> w = warnings(r, &images);
    EXPECT_NE(find(w, "evidence_image_missing", "findings[1].evidence[0].image"), std::nullopt);
    EXPECT_EQ(find(w, "evidence_image_missing", "findings[0].evidence[0].image"), std::nullopt);
}

TEST(ReportQuality, SurveillanceAndAdverseEventsAndAmendments) {
    Report r = complete_report();
    r.surveillance.confirmed = user_value(false);
    field_clear(r.adverse_events);
    std::vector<QualityWarning> w = warnings(r);
    EXPECT_NE(find(w, "surveillance_not_confirmed", "surveillance.confirmed"), std::nullopt);
    EXPECT_NE(find(w, "adverse_events_missing", "adverse_events"), std::nullopt);
    r.surveillance.confirmed = user_value(true);
    r.adverse_events = user_value<TextList>({"none"});
    std::string error;
    ASSERT_TRUE(report_sign(r, "Dr", "2026-11-30T10:00:00Z", &error)) << error;
    EXPECT_TRUE(warnings(r).empty());
    report_begin_amendment(r);
    w = warnings(r);
    EXPECT_NE(find(w, "amendment_reason_missing", "amendment_reason"), std::nullopt);
    EXPECT_NE(find(w, "unsigned", "status"), std::nullopt);
}

TEST(ReportQuality, EveryWarningSaysWhyAndWhere) {
    const std::vector<QualityWarning> w = warnings(Report());
    EXPECT_GE(w.size(), 5u);
    for (const QualityWarning& q : w) {
        EXPECT_FALSE(q.path.empty()) << q.code;
        EXPECT_GT(q.message.size(), 15u) << q.code;
    }
}

}  // namespace
