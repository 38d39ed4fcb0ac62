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

namespace {

using namespace es;

struct Case {
    const char* json;
    const char* message_start;  // the error starts with this
};

TEST(ReportJson, EveryRefusalNamesTheField) {
    const Case cases[] = {
        {R"({"header": {"procedure": "colonscopy"}})", "header.procedure: \"colonscopy\" is not a known procedure"},
        {R"({"header": {"date": "30/11/2026"}})", "header.date: \"30/11/2026\" is not a date"},
        {R"({"header": {"indications": ["screening-average-risk", "screening-average-risk"]}})", "header.indications[1]: \"screening-average-risk\" is listed twice"},
        {R"({"header": {"indications": "screening-average-risk"}})", "header.indications: text where a list was expected"},
        {R"({"header": {"surgeon": "x"}})", "header.surgeon: unknown field"},
        {R"({"colour": 1})", "colour: unknown field"},
        {R"({"extent": {"caecal_intubation": "yes"}})", "extent.caecal_intubation: text where true or false was expected"},
        {R"({"extent": {"caecal_evidence": [{"image": ""}]}})", "extent.caecal_evidence[0].image: empty"},
        {R"({"extent": {"caecal_evidence": [{"image": "a.jpg", "annotation_id": -2}]}})", "extent.caecal_evidence[0].annotation_id: -2 is not an annotation id"},
        {R"({"extent": {"caecal_evidence": [{"image": "a.jpg", "landmark": "moon"}]}})", "extent.caecal_evidence[0].landmark: \"moon\" is not a known landmark"},
        {R"({"bowel_preparation": {"bbps_right": 2.5}})", "bowel_preparation.bbps_right: 2.5 is not a Boston Bowel Preparation Scale score"},
        {R"({"bowel_preparation": {"bbps_right": -1}})", "bowel_preparation.bbps_right: -1 is not a Boston Bowel Preparation Scale score"},
        {R"({"bowel_preparation": {"withdrawal_time_min": 1e999}})", "the report is not valid JSON at line 1, column 51"},
        {R"({"bowel_preparation": {"withdrawal_time_min": 900}})", "bowel_preparation.withdrawal_time_min: 900 min is too large for a withdrawal time; at most 300 min is accepted"},
        {R"({"findings": [{"id": "F1", "distance_cm": 400}]})", "findings[0].distance_cm: 400 cm is too large for a distance; at most 250 cm"},
        {R"({"findings": [{"id": "F1", "distance_cm": -1}]})", "findings[0].distance_cm: -1 is not a distance"},
        {R"({"findings": [{"id": "F1", "size_mm": "big"}]})", "findings[0].size_mm: text where a size (a number) was expected"},
        {R"({"findings": [{"id": "F1", "number": 0}]})", "findings[0].number: 0 is not a number of lesions"},
        {R"({"findings": [{"id": "F1", "number": 2.5}]})", "findings[0].number: 2.5 is not a number of lesions"},
        {R"({"findings": [{"id": "F1"}, {"id": "F1"}]})", "findings[1].id: \"F1\" is used by another finding"},
        {R"({"findings": [{"term": "polyp"}]})", "findings[0].id: missing"},
        {R"({"findings": [{"id": "F1", "attributes": {"colour": "red"}}]})", "findings[0].attributes.colour: not an attribute"},
        {R"({"findings": [{"id": "F1", "attributes": {"la_grade": "E"}}]})", "findings[0].attributes.la_grade: \"E\" is not a valid LA grade"},
        {R"({"findings": [{"id": "F1", "attributes": {"mayo": 4}}]})", "findings[0].attributes.mayo: \"4\" is not a valid Mayo"},
        {R"({"findings": [{"id": "F1", "attributes": {"prague_c": 3, "prague_m": 2}}]})", "findings[0].attributes.prague_m: M 2 cm is less than C 3 cm"},
        {R"({"findings": [{"id": "F1", "attributes": {"prague_m": 40}}]})", "findings[0].attributes.prague_m: 40 cm is too large for Prague M (maximal extent)"},
        {R"({"findings": [{"id": "F1", "term": {"value": "polyp", "source": "robot"}}]})", "findings[0].term.source: \"robot\" is not a source"},
        {R"({"findings": [{"id": "F1", "term": {"value": "polyp", "source": "user", "probability": 0.5}}]})", "findings[0].term.probability: a value the user entered has no probability"},
        {R"({"findings": [{"id": "F1", "term": {"value": "polyp", "source": "ai", "probability": 1.5}}]})", "findings[0].term.probability: 1.5 is too large for a probability; at most 1 is accepted"},
        {R"({"findings": [{"id": "F1", "term": {"value": "polyp", "source": "user", "accepted": false}}]})", "findings[0].term.accepted: only an AI value"},
        {R"({"findings": [{"id": "F1", "term": {"value": "polyp", "set_at": "noon"}}]})", "findings[0].term.set_at: \"noon\" is not an ISO-8601 UTC time"},
        {R"({"findings": [{"id": "F1", "term": {"source": "user"}}]})", "findings[0].term.value: missing"},
        {R"({"findings": [{"id": "F1", "term": {"value": "polyp", "who": "x"}}]})", "findings[0].term.who: unknown field"},
        {R"({"findings": {"id": "F1"}})", "findings: an object where a list of findings was expected"},
        {R"({"interventions": [{"id": "I1", "finding_id": "F7"}]})", "interventions[0].finding_id: \"F7\" is not the id of a finding"},
        {R"({"interventions": [{"id": "I1", "resection": "en-bloc"}]})", "interventions[0].resection: \"en-bloc\" is not a known kind of resection"},
        {R"({"interventions": [{"id": "I1", "method": "laser"}]})", "interventions[0].method: \"laser\" is not a known intervention"},
        {R"({"adverse_events": ["dragon bite"]})", "adverse_events[0]: \"dragon bite\" is not a known adverse event"},
        {R"({"surveillance": {"interval_years": 50}})", "surveillance.interval_years: 50 years is too large for a surveillance interval"},
        {R"({"status": "published"})", "status: \"published\" is not a report status"},
        {R"({"format": "endoscribe-case"})", "format: \"endoscribe-case\" is not an EndoScribe report"},
        {R"({"format_version": 2})", "format_version: 2 is not a version this app reads"},
        {R"({"versions": [{"number": 2, "signed_by": "x", "signed_at": "2026-11-30T10:00:00Z", "snapshot": {}}]})", "versions[0].number: 2 is out of order"},
        {R"({"versions": [{"number": 1, "signed_by": "x", "signed_at": "2026-11-30T10:00:00Z", "snapshot": {"findings": [{"id": "F1", "size_mm": -3}]}}]})", "versions[0].snapshot.findings[0].size_mm: -3 is not a size"},
        {R"([1, 2])", "the report is a list, not an object"},
        {R"({"header": )", "the report is not valid JSON at line 1"},
        {"", "the report is not valid JSON"},
    };
    for (const Case& c : cases) {
        const std::string e = refusal(c.json);
        EXPECT_EQ(e.rfind(c.message_start, 0), 0u) << "input: " << c.json << "\n  got: " << e;
    }
}

TEST(ReportJson, OversizedAndDeepInputIsRefusedWithoutCrashing) {
    // 100,000 nested lists.
    std::string deep(100000, '[');
    deep += std::string(100000, ']');
    std::string e = refusal(deep);
    EXPECT_NE(e.find("nests"), std::string::npos) << e;
    // Nesting inside a field value.
    std::string nested = R"({"impression": )" + std::string(30, '[') + std::string(30, ']') + "}";
    e = refusal(nested);
    EXPECT_NE(e.find("nests"), std::string::npos) << e;
    // Brackets inside text do not count as nesting.
    Report r;
    std::string error;
    EXPECT_TRUE(report_from_json(R"({"impression": ")" + std::string(100, '[') + R"("})", es_test::shipped_vocabulary(), &r, &error)) << error;
    // A 30,000-character impression, a 400-character endoscopist, 300 indications, 17 MB.
    e = refusal(R"({"impression": ")" + std::string(30000, 'x') + R"("})");
    EXPECT_EQ(e.rfind("impression: the text is 30000 characters long; at most 20000", 0), 0u) << e;
    e = refusal(R"({"header": {"endoscopist": ")" + std::string(400, 'x') + R"("}})");
    EXPECT_EQ(e.rfind("header.endoscopist: the text is 400 characters long", 0), 0u) << e;
    std::string list = R"({"diagnoses": [)";
    for (int i = 0; i < 300; ++i) list += std::string(i ? "," : "") + "\"d\"";
    e = refusal(list + "]}");
    EXPECT_EQ(e.rfind("diagnoses: the list has 300 entries; at most 200", 0), 0u) << e;
    e = refusal(std::string(17u << 20, ' '));
    EXPECT_NE(e.find("MB"), std::string::npos) << e;
}

TEST(ReportJson, SignedReportRoundTripsWithItsSnapshots) {
    Report r = es_test::example_colonoscopy();
    std::string error;
    ASSERT_TRUE(report_sign(r, "Dr A. Smith", "2026-11-30T10:00:00Z", &error)) << error;
    report_begin_amendment(r, "histology \"received\" <today>");
    r.findings[1].attributes["histology"] = es_test::user_value<AttributeValue>(std::string("tubulovillous-adenoma"));
    const std::string text = report_to_json(r);
    Report back;
    ASSERT_TRUE(report_from_json(text, es_test::shipped_vocabulary(), &back, &error)) << error;
    EXPECT_EQ(back, r);
    EXPECT_EQ(report_to_json(back), text);
    // The snapshot is stored as an object (readable in the bundle), not as an escaped string.
    const nlohmann::json j = nlohmann::json::parse(text);
    EXPECT_TRUE(j["versions"][0]["snapshot"].is_object());
    EXPECT_EQ(j["status"], "amended");
    EXPECT_EQ(j["version"], 2);
}

}  // namespace

namespace {

// The fuzzer's seed reports (tests/fuzz/corpus/report_json/) stay readable;
// bad_* ones stay refused.
TEST(ReportJson, FuzzSeedsParseAsTheirNamesSay) {
    for (const char* name : {"colonoscopy_draft.json", "colonoscopy_ai_values.json", "colonoscopy_amended.json",
                             "gastroscopy.json", "bare_values.json", "empty.json", "bad_negative_size.json",
                             "bad_bbps.json"}) {
        std::ifstream f(std::string(ES_SOURCE_DIR) + "/tests/fuzz/corpus/report_json/" + name);
        ASSERT_TRUE(f) << name;
        const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        es::Report r;
        std::string error;
        const bool bad = std::string(name).rfind("bad_", 0) == 0;
        EXPECT_EQ(es::report_from_json(text, es_test::shipped_vocabulary(), &r, &error), !bad) << name << ": " << error;
    }
}

}  // namespace
