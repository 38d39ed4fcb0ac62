// case_bundle_test.cpp: the case bundle reader (the app's export, read by the
// native command and the bindings): a round trip of the demo case with a
// report, and broken or hostile bundles refused with plain words and a detail
// naming the place. Also the strict base64 it uses.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "case/case_bundle.h"
#include "encoding/base64.h"
#include "report/report_bundle.h"
#include "report/report_json.h"
#include "report_export_support.h"

namespace {

using namespace es;
using namespace es_test;
using json = nlohmann::json;

std::string demo_bundle_text(const std::string& report_json) {
    const DemoExportCase d = demo_export_case();
    return write_case_bundle(make_annotation_document(&d.case_info, d.annotations), d.files, report_json);
}

TEST(Base64, EncodesAndDecodesStrictly) {
    const std::string s = "Man is distinguished";
    const std::string e = base64_encode(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    EXPECT_EQ(e, "TWFuIGlzIGRpc3Rpbmd1aXNoZWQ=");
    std::vector<uint8_t> out;
    ASSERT_TRUE(base64_decode(e, &out));
    EXPECT_EQ(std::string(out.begin(), out.end()), s);
    ASSERT_TRUE(base64_decode("TW\nE=", &out));  // line breaks are skipped
    EXPECT_EQ(std::string(out.begin(), out.end()), "Ma");
    ASSERT_TRUE(base64_decode("", &out));
    EXPECT_TRUE(out.empty());
    std::string error;
    EXPECT_FALSE(base64_decode("TWE", &out, &error));
    EXPECT_NE(error.find("multiple of 4"), std::string::npos);
    EXPECT_FALSE(base64_decode("TW*=", &out, &error));
    EXPECT_NE(error.find("character 3 is not base64"), std::string::npos);
    EXPECT_FALSE(base64_decode("TQ==TQ==", &out, &error));
    EXPECT_FALSE(base64_decode("T===", &out, &error));
    EXPECT_TRUE(out.empty());
    // Every byte value survives.
    std::vector<uint8_t> all(256);
    for (int i = 0; i < 256; ++i) all[i] = uint8_t(i);
    ASSERT_TRUE(base64_decode(base64_encode(all), &out));
    EXPECT_EQ(out, all);
}

TEST(CaseBundle, DemoCaseWithReportRoundTrips) {
    const DemoExportCase d = demo_export_case();
    const Report report = demo_report();
    const std::string text = demo_bundle_text(report_to_json(report));
    CaseBundleRead r = read_case_bundle(text);
    ASSERT_TRUE(r.ok) << r.message << " / " << r.detail;
    ASSERT_EQ(r.bundle.images.size(), d.files.size());
    for (size_t i = 0; i < d.files.size(); ++i) {
        EXPECT_EQ(r.bundle.images[i].name, d.files[i].name);
        EXPECT_EQ(r.bundle.images[i].bytes, d.files[i].bytes);
    }
    ASSERT_TRUE(r.bundle.has_case);
    EXPECT_EQ(r.bundle.case_info.id, "demo");
    const ImageAnnotations* a = r.bundle.find_annotations("image-2.png");
    ASSERT_NE(a, nullptr);
    ASSERT_EQ(a->items.size(), 2u);
    EXPECT_EQ(a->items[0], d.annotations[1].items[0]);  // the mask comes back exactly
    EXPECT_EQ(a->items[1].kind, AnnotationKind::Box);
    // The report comes back unchanged.
    BundleReport br = read_bundle_report(r.bundle, shipped_vocabulary());
    ASSERT_TRUE(br.ok) << br.detail;
    EXPECT_EQ(br.report, report);
    // The renderers' view: images with their annotations.
    std::vector<ReportImage> images = report_images(r.bundle);
    ASSERT_EQ(images.size(), 4u);
    EXPECT_EQ(images[1].annotations, a);
    EXPECT_EQ(images[1].width, 640);
    // Written again, the same bytes.
    EXPECT_EQ(write_case_bundle(json::parse(text)["document"].dump(), r.bundle.images, r.bundle.report_json), text);
}

TEST(CaseBundle, WithoutReportSaysSo) {
    CaseBundleRead r = read_case_bundle(demo_bundle_text(""));
    ASSERT_TRUE(r.ok);
    EXPECT_TRUE(r.bundle.report_json.empty());
    BundleReport br = read_bundle_report(r.bundle, shipped_vocabulary());
    EXPECT_FALSE(br.ok);
    EXPECT_NE(br.message.find("no report yet"), std::string::npos);
}

TEST(CaseBundle, ImpossibleReportValueNamesTheField) {
    json report = json::parse(report_to_json(demo_report()));
    report["bowel_preparation"]["bbps_right"]["value"] = 5;
    CaseBundleRead r = read_case_bundle(demo_bundle_text(report.dump()));
    ASSERT_TRUE(r.ok);  // the case itself is fine
    BundleReport br = read_bundle_report(r.bundle, shipped_vocabulary());
    ASSERT_FALSE(br.ok);
    EXPECT_NE(br.detail.find("bowel_preparation.bbps_right"), std::string::npos) << br.detail;
    EXPECT_NE(br.message.find("images and annotations are unaffected"), std::string::npos);
}

struct Broken {
    const char* what;
    std::string text;
    const char* message;  // part of the plain-words message
    const char* detail;   // part of the technical detail
};

TEST(CaseBundle, BrokenBundlesAreRefusedInPlainWords) {
    const std::string good = demo_bundle_text(report_to_json(demo_report()));
    json j = json::parse(good);
    auto with = [&](auto change) {
        json c = j;
        change(c);
        return c.dump();
    };
    std::vector<Broken> cases = {
        {"empty", "", "not valid JSON", "file:"},
        {"cut short", good.substr(0, good.size() / 2), "not valid JSON", "line 1"},
        {"array", "[1,2]", "not an EndoScribe case bundle", "top level"},
        {"other format", with([](json& c) { c["format"] = "endoscribe-case"; }), "Export bundle", "format"},
        {"newer", with([](json& c) { c["version"] = 2; }), "newer version", "version: 2"},
        {"no document", with([](json& c) { c.erase("document"); }), "not an EndoScribe case bundle", "document"},
        {"bad coco", with([](json& c) { c["document"]["coco"]["annotations"] = 7; }), "annotations in this case bundle",
         "document.coco.annotations"},
        {"bad case", with([](json& c) { c["document"]["case"]["images"] = "x"; }), "case description", "document.case"},
        {"no images", with([](json& c) { c["images"] = json::array(); }), "no images", "images"},
        {"slash name", with([](json& c) { c["images"][1]["name"] = "../etc/passwd"; }), "Image 2", "images[1].name"},
        {"twice", with([](json& c) { c["images"][1]["name"] = c["images"][0]["name"]; }), "Image 2", "appears twice"},
        {"bad base64", with([](json& c) { c["images"][2]["bytes_base64"] = "iVBOR*w0"; }), "Image 3",
         "images[2].bytes_base64 (\"image-3.png\"): character 6 is not base64"},
        {"report not object", with([](json& c) { c["report"] = "text"; }), "report in this case bundle", "report: must be an object"},
        {"deep", std::string(100000, '[') + std::string(100000, ']'), "not an EndoScribe case bundle", "nested deeper"},
    };
    for (const Broken& b : cases) {
        CaseBundleRead r = read_case_bundle(b.text);
        EXPECT_FALSE(r.ok) << b.what;
        EXPECT_NE(r.message.find(b.message), std::string::npos) << b.what << ": " << r.message;
        EXPECT_NE(r.detail.find(b.detail), std::string::npos) << b.what << ": " << r.detail;
        EXPECT_TRUE(r.bundle.images.empty()) << b.what;
    }
}

TEST(CaseBundle, SizeLimitIsChecked) {
    CaseBundleLimits lim;
    lim.max_bytes = 1000;
    CaseBundleRead r = read_case_bundle(demo_bundle_text(""), lim);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.message.find("too large"), std::string::npos);
}

}  // namespace
