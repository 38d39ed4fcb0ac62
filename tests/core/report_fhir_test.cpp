// report_fhir_test.cpp: the FHIR R4 document Bundle's structure (the
// validation against HL7's schema and FHIR.js's StructureDefinitions is the
// Node test tests/node/report_fhir.test.mjs): Composition first, every
// reference resolves, one Observation per finding and one for BBPS with a
// component per segment, the Procedure and its interventions, Media with the
// image bytes, the PDF as presentedForm, statuses following sign-off.
#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "encoding/base64.h"
#include "report/report_fhir.h"
#include "report/report_pdf.h"
#include "report_export_support.h"

namespace {

using namespace es;
using namespace es_test;
using json = nlohmann::json;

const char* kExportTime = "2026-11-30T11:00:00Z";

json fhir(const Report& r, const DemoExportCase& d, std::vector<uint8_t> pdf = {}) {
    ReportFhirOptions o;
    o.generated_at = kExportTime;
    o.report_key = "demo";
    o.pdf = std::move(pdf);
    ReportFhir f = report_to_fhir(r, shipped_vocabulary(), d.images, o);
    EXPECT_TRUE(f.ok) << f.error;
    EXPECT_TRUE(f.warnings.empty());
    return json::parse(f.json);
}

std::vector<json> of_type(const json& bundle, const std::string& type) {
    std::vector<json> out;
    for (const json& e : bundle["entry"])
        if (e["resource"]["resourceType"] == type) out.push_back(e["resource"]);
    return out;
}

void collect_references(const json& j, std::vector<std::string>& out) {
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it) {
            if (it.key() == "reference" && it->is_string()) out.push_back(*it);
            else collect_references(*it, out);
        }
    } else if (j.is_array()) {
        for (const json& x : j) collect_references(x, out);
    }
}

bool has_coding(const json& concept, const std::string& system, const std::string& code) {
    for (const json& c : concept.value("coding", json::array()))
        if (c["system"] == system && c["code"] == code) return true;
    return false;
}

const json* component(const json& obs, const std::string& field) {
    for (const json& c : obs["component"])
        if (c["code"]["coding"][0]["code"] == field) return &c;
    return nullptr;
}

TEST(ReportFhir, DraftDocumentBundleStructure) {
    const DemoExportCase d = demo_export_case();
    ReportPdfOptions po;
    po.fonts = dejavu_fonts();
    ReportPdf pdf = report_to_pdf(demo_report(), shipped_vocabulary(), d.images, po);
    ASSERT_TRUE(pdf.ok);
    const json b = fhir(demo_report(), d, pdf.bytes);
    const std::string pretty = b.dump(1);
    write_file(artifact_dir() + "/demo.fhir.json", std::vector<uint8_t>(pretty.begin(), pretty.end()));

    EXPECT_EQ(b["resourceType"], "Bundle");
    EXPECT_EQ(b["type"], "document");
    EXPECT_EQ(b["timestamp"], kExportTime);
    EXPECT_EQ(b["identifier"]["system"], "urn:ietf:rfc:3986");
    ASSERT_GE(b["entry"].size(), 10u);
    EXPECT_EQ(b["entry"][0]["resource"]["resourceType"], "Composition");

    // Unique urn:uuid fullUrls, and every reference resolves to one of them.
    std::set<std::string> urls;
    for (const json& e : b["entry"]) {
        const std::string u = e["fullUrl"];
        EXPECT_EQ(u.rfind("urn:uuid:", 0), 0u) << u;
        EXPECT_EQ(u.size(), 9u + 36u) << u;
        EXPECT_TRUE(urls.insert(u).second) << "duplicate " << u;
    }
    std::vector<std::string> refs;
    collect_references(b, refs);
    EXPECT_GT(refs.size(), 20u);
    for (const std::string& r : refs) EXPECT_TRUE(urls.count(r)) << "dangling reference " << r;

    const json comp = b["entry"][0]["resource"];
    EXPECT_EQ(comp["status"], "preliminary");
    EXPECT_FALSE(comp.contains("attester"));
    EXPECT_TRUE(has_coding(comp["type"], "http://loinc.org", "18746-8"));
    EXPECT_GE(comp["section"].size(), 5u);

    auto reports = of_type(b, "DiagnosticReport");
    ASSERT_EQ(reports.size(), 1u);
    const json& dr = reports[0];
    EXPECT_EQ(dr["status"], "preliminary");
    EXPECT_EQ(dr["result"].size(), 3u + 2u);  // three findings, BBPS, withdrawal time
    EXPECT_EQ(dr["media"].size(), 4u);
    ASSERT_EQ(dr["presentedForm"].size(), 1u);
    EXPECT_EQ(dr["presentedForm"][0]["contentType"], "application/pdf");
    std::vector<uint8_t> pdf_back;
    ASSERT_TRUE(base64_decode(dr["presentedForm"][0]["data"], &pdf_back));
    EXPECT_EQ(pdf_back, pdf.bytes);
    EXPECT_NE(dr["conclusion"].get<std::string>().find("≥ 20 mm"), std::string::npos);

    auto practitioners = of_type(b, "Practitioner");
    ASSERT_EQ(practitioners.size(), 1u);
    EXPECT_EQ(practitioners[0]["name"][0]["text"], kEndoscopist);

    // One Observation per finding (with its identifier) plus BBPS and withdrawal time.
    auto obs = of_type(b, "Observation");
    ASSERT_EQ(obs.size(), 5u);
    const json& f1 = obs[0];
    EXPECT_EQ(f1["identifier"][0]["value"], "F1");
    EXPECT_EQ(f1["status"], "preliminary");
    EXPECT_TRUE(has_coding(f1["code"], "http://snomed.info/sct", "68496003"));
    EXPECT_TRUE(has_coding(f1["code"], std::string(kFhirCodeSystemBase) + "terms", "polyp"));
    EXPECT_TRUE(has_coding(f1["bodySite"], "http://snomed.info/sct", "60184004"));
    const json* size = component(f1, "size_mm");
    ASSERT_NE(size, nullptr);
    EXPECT_EQ((*size)["valueQuantity"]["value"], 12);
    EXPECT_EQ((*size)["valueQuantity"]["system"], "http://unitsofmeasure.org");
    EXPECT_EQ((*size)["valueQuantity"]["code"], "mm");
    const json* jnet = component(f1, "jnet");
    ASSERT_NE(jnet, nullptr);
    ASSERT_TRUE(jnet->contains("extension"));  // the AI suggestion, with its probability, not accepted
    const json& ext = (*jnet)["extension"][0];
    EXPECT_EQ(ext["url"], kFhirAiExtension);
    EXPECT_EQ(ext["extension"][1]["valueDecimal"], 0.62);
    EXPECT_EQ(ext["extension"][2]["valueBoolean"], false);
    EXPECT_FALSE(size->contains("extension"));  // user values carry none
    EXPECT_EQ(f1["derivedFrom"].size(), 1u);
    EXPECT_EQ(obs[1]["derivedFrom"].size(), 1u);  // F2: two annotations on one image, one Media

    const json& bbps = obs[3];
    EXPECT_EQ(bbps["code"]["coding"][0]["code"], "bbps");
    EXPECT_EQ(bbps["valueInteger"], 8);
    ASSERT_EQ(bbps["component"].size(), 3u);
    EXPECT_EQ(bbps["component"][0]["valueInteger"], 2);
    EXPECT_EQ(bbps["interpretation"][0]["coding"][0]["code"], "bbps-adequate");
    EXPECT_EQ(obs[4]["valueQuantity"]["value"], 8.5);
    EXPECT_EQ(obs[4]["valueQuantity"]["code"], "min");

    auto procs = of_type(b, "Procedure");
    ASSERT_EQ(procs.size(), 2u);
    EXPECT_TRUE(has_coding(procs[0]["code"], "http://snomed.info/sct", "73761001"));
    EXPECT_EQ(procs[1]["partOf"][0]["reference"], b["entry"][4]["fullUrl"]);
    EXPECT_EQ(procs[1]["outcome"]["text"], "En bloc, specimen retrieved");

    auto media = of_type(b, "Media");
    ASSERT_EQ(media.size(), 4u);
    EXPECT_EQ(media[0]["content"]["title"], "image-4.png");  // caecal evidence first
    std::vector<uint8_t> png;
    ASSERT_TRUE(base64_decode(media[1]["content"]["data"], &png));
    EXPECT_EQ(png, d.files[0].bytes);
    EXPECT_EQ(media[1]["width"], 640);
}

TEST(ReportFhir, StatusFollowsSignOffAndAmendment) {
    const DemoExportCase d = demo_export_case();
    Report r = demo_report();
    field_accept(r.findings[0].jnet);
    std::string error;
    ASSERT_TRUE(report_sign(r, kEndoscopist, "2026-11-30T10:02Z", &error)) << error;
    json b = fhir(r, d);
    const json comp = b["entry"][0]["resource"];
    EXPECT_EQ(comp["status"], "final");
    EXPECT_EQ(comp["attester"][0]["mode"], "legal");
    EXPECT_EQ(comp["attester"][0]["time"], "2026-11-30T10:02:00Z");  // seconds added: FHIR instants need them
    EXPECT_EQ(b["entry"][1]["resource"]["status"], "final");
    EXPECT_EQ(b["entry"][1]["resource"]["issued"], "2026-11-30T10:02:00Z");
    const std::string v1_id = b["identifier"]["value"];

    ASSERT_TRUE(report_begin_amendment(r, "histology"));
    json amending = fhir(r, d);
    EXPECT_EQ(amending["entry"][0]["resource"]["status"], "preliminary");
    ASSERT_TRUE(report_sign(r, kEndoscopist, "2026-12-01T08:00:00Z", &error)) << error;
    json v2 = fhir(r, d);
    EXPECT_EQ(v2["entry"][0]["resource"]["status"], "amended");
    EXPECT_EQ(v2["entry"][1]["resource"]["status"], "amended");
    EXPECT_NE(v2["entry"][0]["resource"]["title"].get<std::string>().find("Amendment 1"), std::string::npos);
    EXPECT_NE(v2["identifier"]["value"], v1_id);  // a new version is a new document
    EXPECT_EQ(fhir(r, d).dump(), v2.dump());      // and the same version gives the same bytes
}

TEST(ReportFhir, RefusesAnExportTimeThatIsNotAnInstant) {
    ReportFhirOptions o;
    o.generated_at = "yesterday";
    ReportFhir f = report_to_fhir(demo_report(), shipped_vocabulary(), {}, o);
    EXPECT_FALSE(f.ok);
    EXPECT_NE(f.error.find("ISO-8601"), std::string::npos);
}

TEST(ReportFhir, MissingImageIsAWarningAndLeftOut) {
    Report r = demo_report();
    ReportFhirOptions o;
    o.generated_at = kExportTime;
    ReportFhir f = report_to_fhir(r, shipped_vocabulary(), {}, o);  // no images at all
    ASSERT_TRUE(f.ok) << f.error;
    EXPECT_EQ(f.warnings.size(), 4u);
    json b = json::parse(f.json);
    EXPECT_TRUE(of_type(b, "Media").empty());
    std::set<std::string> urls;
    for (const json& e : b["entry"]) urls.insert(e["fullUrl"]);
    std::vector<std::string> refs;
    collect_references(b, refs);
    for (const std::string& ref : refs) EXPECT_TRUE(urls.count(ref)) << ref;
}

}  // namespace
