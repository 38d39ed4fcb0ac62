// The opening every EndoScribe JSON reader shares (src/json/versioned_document.h):
// syntax, top-level object, "format" tag, "version" in range - one wording for
// all, seen through the readers that use it (report vocabulary, surveillance
// rule table, case file, case bundle).
#include <gtest/gtest.h>

#include "case/case.h"
#include "case/case_bundle.h"
#include "json/versioned_document.h"
#include "report/report_vocabulary.h"
#include "report/surveillance_rules.h"

using namespace es;

namespace {

const DocumentKind kThing{"endoscribe-thing", "a thing file", 2, ""};

}  // namespace

TEST(VersionedDocument, ReadsATaggedObjectOfAKnownVersion) {
    VersionedDocument r = read_versioned_document(R"({"format": "endoscribe-thing", "version": 2, "x": 5})", kThing);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.version, 2);
    EXPECT_EQ(r.doc["x"], 5);
    EXPECT_EQ(r.error, "");
}

TEST(VersionedDocument, SaysWhatIsWrongAndWhichProblemItIs) {
    struct Case {
        const char* text;
        DocumentProblem problem;
        const char* error;
    };
    const Case cases[] = {
        {"{\"format\": ", DocumentProblem::Syntax, "not valid JSON at line 1, column 12: "},
        {"", DocumentProblem::Syntax, "not valid JSON"},
        {"[1, 2]", DocumentProblem::NotObject, "the top level of a thing file must be a JSON object"},
        {R"({"version": 1})", DocumentProblem::Format,
         R"(missing "format" (a thing file has "format": "endoscribe-thing"))"},
        {R"({"format": "endoscribe-other", "version": 1})", DocumentProblem::Format,
         R"(format: "endoscribe-other" is not a thing file (its format is "endoscribe-thing"))"},
        {R"({"format": 7, "version": 1})", DocumentProblem::Format,
         R"(format: 7 is not a thing file (its format is "endoscribe-thing"))"},
        {R"({"format": "endoscribe-thing"})", DocumentProblem::Version,
         "version: missing; this app reads a thing file of version 1 to 2"},
        {R"({"format": "endoscribe-thing", "version": "1"})", DocumentProblem::Version,
         R"(version: "1"; this app reads a thing file of version 1 to 2)"},
        {R"({"format": "endoscribe-thing", "version": 1.5})", DocumentProblem::Version,
         "version: 1.5; this app reads a thing file of version 1 to 2"},
        {R"({"format": "endoscribe-thing", "version": 0})", DocumentProblem::Version,
         "version: 0 is not a version of a thing file (this app reads 1 to 2)"},
        {R"({"format": "endoscribe-thing", "version": -3})", DocumentProblem::Version,
         "version: -3 is not a version of a thing file (this app reads 1 to 2)"},
        {R"({"format": "endoscribe-thing", "version": 3})", DocumentProblem::NewerVersion,
         "version: 3 is newer than this app reads (1 to 2); a newer EndoScribe wrote it"},
        {R"({"format": "endoscribe-thing", "version": 18446744073709551615})", DocumentProblem::NewerVersion,
         "version: 18446744073709551615 is newer than this app reads (1 to 2); a newer EndoScribe wrote it"},
    };
    for (const Case& c : cases) {
        VersionedDocument r = read_versioned_document(c.text, kThing);
        EXPECT_FALSE(r.ok()) << c.text;
        EXPECT_EQ(int(r.problem), int(c.problem)) << c.text;
        EXPECT_EQ(r.error.rfind(c.error, 0), 0u) << c.text << "\n  got: " << r.error;
        EXPECT_TRUE(r.doc.is_null()) << c.text;  // nothing half-read is handed on
    }
}

TEST(VersionedDocument, AReaderThatNamesItsFieldsPrefixesThem) {
    const DocumentKind kind{"endoscribe-case", "a case file", 1, "case"};
    EXPECT_EQ(read_versioned_document(R"({"format": "x", "version": 1})", kind).error,
              R"(case.format: "x" is not a case file (its format is "endoscribe-case"))");
    EXPECT_EQ(read_versioned_document(R"({"version": 1})", kind).error,
              R"(case: missing "format" (a case file has "format": "endoscribe-case"))");
    EXPECT_EQ(read_versioned_document(R"({"format": "endoscribe-case", "version": 2})", kind).error,
              "case.version: 2 is newer than this app reads (1); a newer EndoScribe wrote it");
}

// The readers that share it say the same thing the same way.
TEST(VersionedDocument, TheReadersThatShareItUseItsWording) {
    std::string error;
    ReportVocabulary v;
    EXPECT_FALSE(report_vocabulary_add(v, R"({"format": "endoscribe-surveillance-rules", "version": 1})", &error));
    EXPECT_EQ(error, R"(format: "endoscribe-surveillance-rules" is not a report vocabulary (its format is )"
                     R"("endoscribe-report-vocabulary"))");
    EXPECT_FALSE(report_vocabulary_add(v, R"({"format": "endoscribe-report-vocabulary", "version": 2})", &error));
    EXPECT_EQ(error, "version: 2 is newer than this app reads (1); a newer EndoScribe wrote it");
    EXPECT_FALSE(report_vocabulary_add(v, "[]", &error));
    EXPECT_EQ(error, "the top level of a report vocabulary must be a JSON object");

    SurveillanceTable t;
    EXPECT_FALSE(surveillance_table_parse(R"({"format": "endoscribe-report-vocabulary", "version": 1})", &t, &error));
    EXPECT_EQ(error, R"(format: "endoscribe-report-vocabulary" is not a surveillance rule table (its format is )"
                     R"("endoscribe-surveillance-rules"))");
    EXPECT_FALSE(surveillance_table_parse(R"({"format": "endoscribe-surveillance-rules", "version": 2})", &t, &error));
    EXPECT_EQ(error, "version: 2 is newer than this app reads (1); a newer EndoScribe wrote it");
    EXPECT_FALSE(surveillance_table_parse("{\"format\": ", &t, &error));
    EXPECT_EQ(error.rfind("not valid JSON at line 1", 0), 0u) << error;

    CaseParseResult c = case_from_json(R"({"format": "endoscribe-case", "version": 2, "images": []})");
    EXPECT_EQ(c.error, "case.version: 2 is newer than this app reads (1); a newer EndoScribe wrote it");
    EXPECT_EQ(c.reason, "was made by a newer version of EndoScribe");
    c = case_from_json(R"({"format": "endoscribe-case", "version": 0, "images": []})");
    EXPECT_EQ(c.reason, "is not a valid case file");

    CaseBundleRead b = read_case_bundle(R"({"format": "endoscribe-case-bundle", "version": 2})");
    EXPECT_EQ(b.detail, "version: 2 is newer than this app reads (1); a newer EndoScribe wrote it");
    EXPECT_NE(b.message.find("newer version of EndoScribe"), std::string::npos) << b.message;
    // Version 0 was once called "newer"; it is a broken file.
    b = read_case_bundle(R"({"format": "endoscribe-case-bundle", "version": 0})");
    EXPECT_EQ(b.message.find("newer"), std::string::npos) << b.message;
    EXPECT_NE(b.message.find("not an EndoScribe case bundle"), std::string::npos) << b.message;
}
