// report_vocabulary_test.cpp: the shipped vocabulary loads and agrees with the
// app's label sets; Paris/NICE/JNET validity; a unit's local file adds terms.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "annotation/label_set.h"
#include "report/report_json.h"
#include "report_test_support.h"

namespace {

using namespace es;
using es_test::shipped_vocabulary;

LabelSet label_set(const std::string& file) {
    std::ifstream f(std::string(ES_SOURCE_DIR) + "/models/labels/" + file);
    const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    LabelSetLoad load = parse_label_set(text);
    EXPECT_TRUE(load.ok) << file << ": " << load.error;
    return load.set;
}

std::vector<std::string> ids(const std::vector<VocabOption>& options) {
    std::vector<std::string> out;
    for (const VocabOption& o : options) out.push_back(o.id);
    return out;
}

TEST(ReportVocabulary, ShippedFilesLoadWithTermsForEveryOrgan) {
    const ReportVocabulary& v = shipped_vocabulary();
    for (const char* organ : {"colon", "stomach", "esophagus", "duodenum"})
        EXPECT_GE(v.terms_for_organ(organ).size(), 8u) << organ;
    const ReportTerm* polyp = v.find_term("polyp");
    ASSERT_NE(polyp, nullptr);
    for (const char* f : {"size_mm", "paris", "nice", "jnet", "number", "location_segment"}) EXPECT_TRUE(polyp->calls(f)) << f;
    EXPECT_TRUE(v.find_term("barretts-esophagus")->calls("prague_c"));
    EXPECT_TRUE(v.find_term("barretts-esophagus")->calls("prague_m"));
    EXPECT_TRUE(v.find_term("esophagitis")->calls("la_grade"));
    EXPECT_TRUE(v.find_term("colitis")->calls("mayo"));
    for (const char* list : {"procedures", "indications", "landmarks", "segments", "sedation", "interventions",
                             "resection", "adverse_events", "paris", "nice", "jnet", "bbps", "mayo", "la_grade"})
        EXPECT_NE(v.list(list), nullptr) << list;
    EXPECT_EQ(ids(*v.list("nice")), (std::vector<std::string>{"1", "2", "3"}));
    EXPECT_EQ(ids(*v.list("jnet")), (std::vector<std::string>{"1", "2A", "2B", "3"}));
    EXPECT_EQ(ids(*v.list("bbps")), (std::vector<std::string>{"0", "1", "2", "3"}));
    EXPECT_EQ(ids(*v.list("la_grade")), (std::vector<std::string>{"A", "B", "C", "D"}));
    EXPECT_EQ(ids(*v.list("resection")), (std::vector<std::string>{"en_bloc", "piecemeal"}));
    for (const char* p : {"colonoscopy", "sigmoidoscopy", "gastroscopy"}) EXPECT_TRUE(v.has("procedures", p));
    for (const char* m : {"cold-snare-polypectomy", "hot-snare-polypectomy", "emr", "esd", "biopsy"})
        EXPECT_TRUE(v.has("interventions", m)) << m;
}

TEST(ReportVocabulary, AlignedWithTheLabelSets) {
    const ReportVocabulary& v = shipped_vocabulary();
    const LabelSet polyp = label_set("polyp_attributes.json");
    for (const LabelOption& o : polyp.find_attribute("paris")->options)
        EXPECT_TRUE(v.has("paris", o.id)) << "Paris " << o.id << " of polyp_attributes.json";
    for (const LabelOption& o : polyp.find_attribute("location")->options)
        EXPECT_TRUE(v.has("segments", o.id)) << "location " << o.id << " of polyp_attributes.json";
    const LabelSet bbps = label_set("boston_bowel_preparation_scale.json");
    for (const AttributeDef& a : bbps.attributes)
        for (const LabelOption& o : a.options) EXPECT_TRUE(v.has("bbps", o.id)) << a.id << " " << o.id;
    const LabelSet mayo = label_set("mayo_endoscopic_score.json");
    for (const VocabOption& o : *v.list("mayo")) EXPECT_NE(mayo.find_label(o.property("label")), nullptr) << o.id;
}

TEST(ReportVocabulary, EveryLesionLabelMapsToATermOrLandmark) {
    const ReportVocabulary& v = shipped_vocabulary();
    // Every pathological HyperKvasir class and every upper-GI disease maps somewhere.
    const LabelSet hk = label_set("hyperkvasir.json");
    for (const LabelDef& l : hk.labels) {
        const auto g = l.groups.find("category");
        if (g == l.groups.end() || g->second == "quality-of-mucosal-views") continue;
        EXPECT_NE(v.map_label("hyperkvasir", l.id), nullptr) << l.id;
    }
    const LabelSet upper = label_set("upper_gi_three_level.json");
    for (const LabelDef& l : upper.labels)
        if (upper.children(l.id).empty() && l.id != "negative") EXPECT_NE(v.map_label("upper-gi-three-level", l.id), nullptr) << l.id;
    const LabelTermMapping* m = v.map_label("upper-gi-three-level", "esophagitis-la-b");
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->term, "esophagitis");
    EXPECT_EQ(m->attributes.at("la_grade"), "B");
    EXPECT_EQ(v.map_label("hyperkvasir", "cecum")->landmark, "cecum");
    EXPECT_EQ(v.map_label("", "polyp")->term, "polyp");
}

TEST(ReportVocabulary, ParisNiceJnetValidity) {
    const ReportVocabulary& v = shipped_vocabulary();
    for (const char* ok : {"0-Ip", "0-Isp", "0-Is", "0-IIa", "0-IIb", "0-IIc", "0-III", "0-IIa+IIc", "0-IIc+IIa",
                           "0-Is+IIa", "0-IIa+Is", "0-IIc+III"})
        EXPECT_TRUE(is_valid_paris(v, ok)) << ok;
    for (const char* bad : {"", "0-IV", "IIa", "0-IIa+IIa", "0-Ip+IIa", "0-IIa+IIb+IIc", "0-iia", "0-IIa+", "0-+IIc",
                            "1-IIa", "0-IIa IIc"})
        EXPECT_FALSE(is_valid_paris(v, bad)) << bad;
    Report r;
    std::string error;
    EXPECT_TRUE(report_from_json(R"({"findings":[{"id":"F1","term":"polyp","paris":"0-IIa+IIc","nice":"2","jnet":"2B"}]})", v, &r, &error)) << error;
    EXPECT_FALSE(report_from_json(R"({"findings":[{"id":"F1","term":"polyp","nice":"4"}]})", v, &r, &error));
    EXPECT_EQ(error.rfind("findings[0].nice: \"4\" is not a known NICE type", 0), 0u) << error;
    EXPECT_FALSE(report_from_json(R"({"findings":[{"id":"F1","term":"polyp","jnet":"2C"}]})", v, &r, &error));
    EXPECT_EQ(error.rfind("findings[0].jnet:", 0), 0u) << error;
    EXPECT_FALSE(report_from_json(R"({"findings":[{"id":"F1","term":"polyp","paris":"0-IV"}]})", v, &r, &error));
    EXPECT_EQ(error.rfind("findings[0].paris: \"0-IV\" is not a Paris class", 0), 0u) << error;
    EXPECT_FALSE(report_from_json(R"({"findings":[{"id":"F1","term":"polyp","nice":2}]})", v, &r, &error));
    EXPECT_EQ(error, "findings[0].nice: a number where text was expected");
}

TEST(ReportVocabulary, LocalFileAddsTermsWithoutCode) {
    ReportVocabulary v = shipped_vocabulary();
    const std::string local = R"({"format": "endoscribe-report-vocabulary", "version": 1, "name": "local",
      "lists": {"indications": [{"id": "local-pre-transplant", "name": "Pre-transplant work-up", "tract": "both"}]},
      "terms": [{"id": "local-radiation-proctitis", "name": "Radiation proctitis", "organs": ["colon"],
                 "calls_for": ["location_segment", "distance_cm"], "requires": ["distance_cm"]}]})";
    std::string error;
    Report r;
    const std::string report = R"({"header":{"indications":["local-pre-transplant"]},"findings":[{"id":"F1","term":"local-radiation-proctitis","distance_cm":8}]})";
    EXPECT_FALSE(report_from_json(report, v, &r, &error));
    ASSERT_TRUE(report_vocabulary_add(v, local, &error)) << error;
    ASSERT_TRUE(report_vocabulary_check(v, &error)) << error;
    EXPECT_TRUE(report_from_json(report, v, &r, &error)) << error;
    // Adding it twice is refused, naming the entry, and leaves the vocabulary as it was.
    const size_t terms = v.terms.size();
    EXPECT_FALSE(report_vocabulary_add(v, local, &error));
    EXPECT_NE(error.find("lists.indications[0].id"), std::string::npos) << error;
    EXPECT_EQ(v.terms.size(), terms);
}

TEST(ReportVocabulary, BrokenLocalFilesAreNamed) {
    ReportVocabulary v = shipped_vocabulary();
    std::string error;
    EXPECT_FALSE(report_vocabulary_add(v, R"({"format":"endoscribe-report-vocabulary","version":1,"terms":[{"id":"x","name":"X","organs":["colon"],"calls_for":["size_mm"],"requires":["paris"]}]})", &error));
    EXPECT_EQ(error.rfind("terms[0].requires[0]", 0), 0u) << error;
    ASSERT_TRUE(report_vocabulary_add(v, R"({"format":"endoscribe-report-vocabulary","version":1,"terms":[{"id":"y","name":"Y","organs":["colon"],"calls_for":["colour"]}]})", &error)) << error;
    EXPECT_FALSE(report_vocabulary_check(v, &error));
    EXPECT_NE(error.find("colour"), std::string::npos) << error;
    EXPECT_FALSE(report_vocabulary_add(v, "{not json", &error));
    EXPECT_NE(error.find("line 1"), std::string::npos) << error;
    EXPECT_FALSE(report_vocabulary_add(v, R"({"format":"endoscribe-label-set","version":1})", &error));
}

}  // namespace

TEST(ReportVocabulary, FilesToLoadAreTheShippedOnesThenLocalJsonSorted) {
    const std::vector<std::string> got = es::report_vocabulary_files_to_load(
        {"zz_local.json", "surveillance_esge2020.json", "README.md", "label_map.json", "a_unit.json", "mst3_terms.json"});
    std::vector<std::string> want = es::report_vocabulary_file_names();
    want.push_back("a_unit.json");
    want.push_back("zz_local.json");
    EXPECT_EQ(got, want);
}
