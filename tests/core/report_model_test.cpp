// report_model_test.cpp: BBPS total/adequacy, provenance rules of Field<T>,
// and sign/amend versioning.
#include <gtest/gtest.h>

#include "report/report_json.h"
#include "report_test_support.h"

namespace {

using namespace es;
using es_test::example_colonoscopy;
using es_test::shipped_vocabulary;
using es_test::user_value;

BowelPreparation prep(std::optional<int> right, std::optional<int> transverse, std::optional<int> left) {
    BowelPreparation p;
    if (right) p.bbps_right = user_value(*right);
    if (transverse) p.bbps_transverse = user_value(*transverse);
    if (left) p.bbps_left = user_value(*left);
    return p;
}

TEST(ReportBbps, AdequacyEdgeCases) {
    EXPECT_EQ(bbps_adequate(prep(2, 2, 2)), true);    // total 6, every segment 2: the smallest adequate
    EXPECT_EQ(bbps_total(prep(2, 2, 2)), 6);
    EXPECT_EQ(bbps_adequate(prep(3, 3, 3)), true);
    EXPECT_EQ(bbps_adequate(prep(1, 3, 3)), false);   // total 7 but one segment < 2
    EXPECT_EQ(bbps_adequate(prep(3, 3, 1)), false);
    EXPECT_EQ(bbps_adequate(prep(3, 1, 3)), false);
    EXPECT_EQ(bbps_adequate(prep(0, 3, 3)), false);   // total 6 with a 0
    EXPECT_EQ(bbps_total(prep(0, 3, 3)), 6);
    EXPECT_EQ(bbps_adequate(prep(2, 2, std::nullopt)), std::nullopt);  // unscored segment: unknown, not inadequate
    EXPECT_EQ(bbps_total(prep(3, std::nullopt, 3)), std::nullopt);
    EXPECT_EQ(bbps_total(prep(0, 0, 0)), 0);
    EXPECT_EQ(bbps_adequate(prep(0, 0, 0)), false);
}

TEST(ReportProvenance, AiNeverOverwritesTheUser) {
    Field<std::string> f;
    field_set_user(f, std::string("0-Is"), "dr.smith", es_test::kWhen);
    EXPECT_FALSE(field_set_ai(f, std::string("0-Ip"), "model", 0.9, "2026-11-30T09:16:00Z"));
    EXPECT_EQ(*f.value, "0-Is");
    EXPECT_EQ(f.source, ValueSource::User);
    EXPECT_EQ(f.set_by, "dr.smith");
}

TEST(ReportProvenance, AiValueAcceptEditAndRedraft) {
    Field<int> f;
    ASSERT_TRUE(field_set_ai(f, 2, "medgemma", 0.7, es_test::kWhen));
    EXPECT_FALSE(f.accepted);
    EXPECT_EQ(f.set_by, "medgemma");
    // Redrafting replaces an unaccepted AI value...
    ASSERT_TRUE(field_set_ai(f, 3, "medgemma", 0.8, "2026-11-30T09:20:00Z"));
    EXPECT_EQ(*f.value, 3);
    // ...but not an accepted one.
    field_accept(f);
    EXPECT_TRUE(f.accepted);
    EXPECT_FALSE(field_set_ai(f, 1, "medgemma", 0.9, "2026-11-30T09:21:00Z"));
    // A user edit of an AI value: ai_edited, accepted, who/when of the edit, probability kept.
    field_set_user(f, 2, "dr.jones", "2026-11-30T09:22:00Z");
    EXPECT_EQ(f.source, ValueSource::AiEdited);
    EXPECT_TRUE(f.accepted);
    EXPECT_EQ(f.set_by, "dr.jones");
    EXPECT_EQ(f.set_at, "2026-11-30T09:22:00Z");
    ASSERT_TRUE(f.probability.has_value());
}

TEST(ReportVersioning, SignFreezesAndAmendmentsAreNewVersions) {
    Report r = example_colonoscopy();
    std::string error;
    ASSERT_TRUE(report_sign(r, "Dr A. Smith", "2026-11-30T10:00:00Z", &error)) << error;
    EXPECT_EQ(r.status, ReportStatus::Final);
    EXPECT_EQ(r.version, 1);
    ASSERT_EQ(r.versions.size(), 1u);
    EXPECT_EQ(r.versions[0].signed_by, "Dr A. Smith");
    const std::string v1 = r.versions[0].snapshot;
    EXPECT_EQ(v1, report_content_to_json(r));

    // Signing again without a change is refused.
    EXPECT_FALSE(report_sign(r, "Dr A. Smith", "2026-11-30T10:01:00Z", &error));
    EXPECT_NE(error.find("already signed"), std::string::npos) << error;

    // A change after signing starts amendment version 2; version 1 stays as it was.
    ASSERT_TRUE(report_begin_amendment(r, "histology received"));
    EXPECT_FALSE(report_begin_amendment(r, "again"));  // already amending
    EXPECT_EQ(r.status, ReportStatus::Amended);
    EXPECT_EQ(r.version, 2);
    r.findings[0].attributes["histology"] =
        user_value<AttributeValue>(std::string("tubular-adenoma"), "dr.jones");
    EXPECT_EQ(r.versions[0].snapshot, v1);
    EXPECT_NE(report_content_to_json(r), v1);

    // The amendment survives a save/load in the middle.
    Report reloaded;
    ASSERT_TRUE(report_from_json(report_to_json(r), shipped_vocabulary(), &reloaded, &error)) << error;
    EXPECT_EQ(reloaded, r);

    ASSERT_TRUE(report_sign(reloaded, "Dr B. Jones", "2026-12-02T08:00:00Z", &error)) << error;
    EXPECT_EQ(reloaded.status, ReportStatus::Final);
    EXPECT_EQ(reloaded.version, 2);
    ASSERT_EQ(reloaded.versions.size(), 2u);
    EXPECT_EQ(reloaded.versions[0].snapshot, v1);
    EXPECT_EQ(reloaded.versions[1].number, 2);
    EXPECT_EQ(reloaded.versions[1].reason, "histology received");
    EXPECT_EQ(reloaded.versions[1].signed_by, "Dr B. Jones");
    EXPECT_NE(reloaded.versions[1].snapshot.find("tubular-adenoma"), std::string::npos);
    EXPECT_EQ(reloaded.versions[0].snapshot.find("tubular-adenoma"), std::string::npos);
    // Who set each field is kept across versions.
    EXPECT_EQ(reloaded.findings[0].attributes["histology"].set_by, "dr.jones");
    EXPECT_EQ(reloaded.findings[0].size_mm.set_by, "dr.smith");
    EXPECT_EQ(reloaded.findings[0].size_mm.set_at, es_test::kWhen);

    // Each signed version can be brought back as it was signed.
    Report v1_report;
    ASSERT_TRUE(report_signed_version(reloaded, 1, shipped_vocabulary(), &v1_report, &error)) << error;
    EXPECT_EQ(report_content_to_json(v1_report), v1);
    EXPECT_EQ(v1_report.status, ReportStatus::Final);
    EXPECT_EQ(v1_report.version, 1);
    EXPECT_EQ(v1_report.versions.size(), 1u);
    EXPECT_FALSE(report_signed_version(reloaded, 3, shipped_vocabulary(), &v1_report, &error));
    EXPECT_EQ(error, "there is no signed version 3 (2 signed)");

    // A third version.
    ASSERT_TRUE(report_begin_amendment(reloaded, "typo"));
    EXPECT_EQ(reloaded.version, 3);
    ASSERT_TRUE(report_sign(reloaded, "Dr B. Jones", "2026-12-03T08:00:00Z", &error)) << error;
    EXPECT_EQ(reloaded.versions.size(), 3u);
}

TEST(ReportVersioning, SigningNeedsAcceptedAiValuesSignerAndTime) {
    Report r = example_colonoscopy();
    ASSERT_TRUE(field_set_ai(r.findings[1].nice, std::string("2"), "medgemma", 0.55, es_test::kWhen));
    std::string error;
    EXPECT_FALSE(report_sign(r, "Dr A. Smith", "2026-11-30T10:00:00Z", &error));
    EXPECT_NE(error.find("findings[1].nice"), std::string::npos) << error;
    field_accept(r.findings[1].nice);
    EXPECT_FALSE(report_sign(r, "", "2026-11-30T10:00:00Z", &error));
    EXPECT_FALSE(report_sign(r, "Dr A. Smith", "yesterday", &error));
    EXPECT_EQ(r.status, ReportStatus::Draft);
    EXPECT_TRUE(report_sign(r, "Dr A. Smith", "2026-11-30T10:00:00Z", &error)) << error;
}

TEST(ReportVersioning, InconsistentVersionsAreRefused) {
    Report r = example_colonoscopy();
    std::string error;
    ASSERT_TRUE(report_sign(r, "Dr A. Smith", "2026-11-30T10:00:00Z", &error));
    Report copy = r;
    copy.version = 5;  // final but says version 5 with one signed version
    Report out;
    EXPECT_FALSE(report_from_json(report_to_json(copy), shipped_vocabulary(), &out, &error));
    EXPECT_EQ(error.rfind("status:", 0), 0u) << error;
    copy = r;
    copy.findings[0].size_mm = user_value(7.0);  // changed after signing, without an amendment
    EXPECT_FALSE(report_from_json(report_to_json(copy), shipped_vocabulary(), &out, &error));
    EXPECT_NE(error.find("differs from signed version 1"), std::string::npos) << error;
    copy = r;
    copy.status = ReportStatus::Draft;  // a draft with signed versions
    EXPECT_FALSE(report_from_json(report_to_json(copy), shipped_vocabulary(), &out, &error));
}

TEST(ReportIds, NextIdsAreFreshAndStable) {
    Report r = example_colonoscopy();
    EXPECT_EQ(r.next_finding_id(), "F3");
    EXPECT_EQ(r.next_intervention_id(), "I3");
    r.findings.erase(r.findings.begin());
    EXPECT_EQ(r.next_finding_id(), "F3");  // F2 is still there: never reuse below the highest
    EXPECT_NE(r.find_finding("F2"), nullptr);
    EXPECT_EQ(r.find_finding("F1"), nullptr);
}

TEST(ReportIso8601, Times) {
    EXPECT_TRUE(is_iso8601_time("2026-11-30"));
    EXPECT_TRUE(is_iso8601_time("2026-11-30T09:15Z"));
    EXPECT_TRUE(is_iso8601_time("2026-11-30T09:15:00Z"));
    EXPECT_TRUE(is_iso8601_time("2026-11-30T09:15:00.123Z"));
    EXPECT_FALSE(is_iso8601_time("2026-11-30T09:15:00"));  // UTC only
    EXPECT_FALSE(is_iso8601_time("2026-13-30"));
    EXPECT_FALSE(is_iso8601_time("30/11/2026"));
    EXPECT_FALSE(is_iso8601_time("2026-11-30T25:00:00Z"));
    EXPECT_FALSE(is_iso8601_time(""));
}

}  // namespace
