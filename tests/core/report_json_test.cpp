// report_json_test.cpp: the report's JSON round trip, provenance and the
// reader's refusals (each naming the field).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report/report_json.h"
#include "report_test_support.h"

namespace {

using namespace es;
using es_test::example_colonoscopy;
using es_test::shipped_vocabulary;

TEST(ReportJson, RoundTripIsExact) {
    Report r = example_colonoscopy();
    ASSERT_TRUE(field_set_ai(r.findings[0].jnet, std::string("2A"), "medgemma-4b", 0.62, es_test::kWhen));
    r.findings[0].attributes["histology"] = es_test::user_value<AttributeValue>(std::string("tubular-adenoma"));
    const std::string text = report_to_json(r);
    Report back;
    std::string error;
    ASSERT_TRUE(report_from_json(text, shipped_vocabulary(), &back, &error)) << error;
    EXPECT_EQ(back, r);
    EXPECT_EQ(report_to_json(back), text);
    // The AI value kept its provenance.
    EXPECT_EQ(back.findings[0].jnet.source, ValueSource::Ai);
    EXPECT_FALSE(back.findings[0].jnet.accepted);
    ASSERT_TRUE(back.findings[0].jnet.probability.has_value());
    EXPECT_DOUBLE_EQ(*back.findings[0].jnet.probability, 0.62);
    EXPECT_EQ(back.findings[0].jnet.set_by, "medgemma-4b");
}

TEST(ReportJson, EmptyReportRoundTrips) {
    Report r;
    Report back;
    std::string error;
    ASSERT_TRUE(report_from_json(report_to_json(r), shipped_vocabulary(), &back, &error)) << error;
    EXPECT_EQ(back, r);
}

TEST(ReportJson, BareValuesCountAsUserEntries) {
    Report r;
    std::string error;
    ASSERT_TRUE(report_from_json(R"({"bowel_preparation": {"bbps_right": 2}, "findings": [{"id": "F1", "term": "polyp", "size_mm": 4}]})",
                                 shipped_vocabulary(), &r, &error))
        << error;
    EXPECT_EQ(*r.bowel_preparation.bbps_right.value, 2);
    EXPECT_EQ(r.bowel_preparation.bbps_right.source, ValueSource::User);
    EXPECT_TRUE(r.bowel_preparation.bbps_right.accepted);
    EXPECT_EQ(*r.findings[0].size_mm.value, 4.0);
}

// Parses `text`, expects failure, returns the message.
std::string refusal(const std::string& text) {
    Report r = example_colonoscopy();
    const Report before = r;
    std::string error;
    EXPECT_FALSE(report_from_json(text, shipped_vocabulary(), &r, &error)) << text;
    EXPECT_EQ(r, before) << "a refused report must leave the output unchanged";
    return error;
}

TEST(ReportJson, NegativeSizeNamesTheField) {
    const std::string e = refusal(R"({"findings": [{"id":"F1"},{"id":"F2"},{"id": "F3", "size_mm": -3}]})");
    EXPECT_EQ(e, "findings[2].size_mm: -3 is not a size; sizes are 0 mm or more");
}

TEST(ReportJson, BbpsFiveIsRefused) {
    const std::string e = refusal(R"({"bowel_preparation": {"bbps_left": {"value": 5, "source": "user"}}})");
    EXPECT_NE(e.find("bowel_preparation.bbps_left: 5 is not a Boston Bowel Preparation Scale score"), std::string::npos) << e;
}

TEST(ReportJson, UnknownTermIsRefused) {
    const std::string e = refusal(R"({"findings": [{"id": "F1", "term": "dragon"}]})");
    EXPECT_EQ(e.rfind("findings[0].term: \"dragon\" is not a finding term", 0), 0u) << e;
}

}  // namespace
