// report_render_test.cpp: narrative, plain text and HTML from the same
// report; HTML escaping of hostile text; images as data: URIs with overlays.
#include <gtest/gtest.h>

#include <regex>

#include "report/report_html.h"
#include "report/report_narrative.h"
#include "report/report_text.h"
#include "report_test_support.h"

namespace {

using namespace es;
using es_test::example_colonoscopy;
using es_test::shipped_vocabulary;
using es_test::user_value;

TEST(ReportNarrative, SentencesFromTheStructure) {
    const Report r = example_colonoscopy();
    const ReportNarrative n = report_narrative(r, shipped_vocabulary());
    ASSERT_EQ(n.finding_sentences.size(), 2u);
    EXPECT_EQ(n.finding_sentences[0],
              "Polyp, 6 mm, Paris 0-Is, NICE 2, in the sigmoid colon at 25 cm. Removed by cold snare polypectomy, "
              "en bloc, retrieved (pot 1).");
    EXPECT_EQ(n.finding_sentences[1],
              "Polyp, 22 mm, Paris 0-IIa+IIc, JNET 2A, LST granular, homogeneous, in the ascending colon. Removed by "
              "endoscopic mucosal resection (EMR), piecemeal, retrieved (pot 2). Lifted well after submucosal injection.");
    EXPECT_EQ(extent_sentences(r, shipped_vocabulary()),
              "Colonoscopy to the caecum, documented by images of the appendiceal orifice and the ileocaecal valve. "
              "Boston Bowel Preparation Scale 8 (right 2, transverse 3, left 3): adequate. Withdrawal time 8.5 min.");
    EXPECT_EQ(n.impression, "1. Polyp, sigmoid colon, 6 mm, removed en bloc.\n2. Polyp, ascending colon, 22 mm, removed piecemeal.");
    // Deterministic.
    EXPECT_EQ(report_narrative(r, shipped_vocabulary()).findings_text, n.findings_text);
}

TEST(ReportNarrative, UpperGiAttributesAndCounts) {
    Report r;
    r.header.procedure = user_value<std::string>("gastroscopy");
    Finding b;
    b.id = "F1";
    b.term = user_value<std::string>("barretts-esophagus");
    b.distance_cm = user_value(36.0);
    b.attributes["prague_c"] = user_value<AttributeValue>(2.0);
    b.attributes["prague_m"] = user_value<AttributeValue>(5.0);
    r.findings.push_back(b);
    Finding o;
    o.id = "F2";
    o.term = user_value<std::string>("esophagitis");
    o.attributes["la_grade"] = user_value<AttributeValue>(std::string("B"));
    r.findings.push_back(o);
    Finding p;
    p.id = "F3";
    p.term = user_value<std::string>("gastric-polyp");
    p.number = user_value(3);
    p.size_mm = user_value(4.0);
    r.findings.push_back(p);
    const ReportNarrative n = report_narrative(r, shipped_vocabulary());
    EXPECT_EQ(n.finding_sentences[0], "Barrett’s oesophagus, Prague C2M5 at 36 cm.");
    EXPECT_EQ(n.finding_sentences[1], "Oesophagitis (reflux), LA grade B.");
    EXPECT_EQ(n.finding_sentences[2], "3 x gastric polyp, up to 4 mm.");
}

TEST(ReportText, AllSectionsInOrder) {
    Report r = example_colonoscopy();
    r.recommendations = user_value<std::string>("Await histology.");
    r.surveillance.interval_years = user_value(0.5);
    r.surveillance.rule_id = user_value<std::string>("esge2020.piecemeal-ge20mm");
    const std::string t = report_text(r, shipped_vocabulary());
    size_t at = 0;
    for (const char* part : {"Colonoscopy report", "Status: DRAFT, not signed", "Endoscopist: Dr A. Smith",
                             "Indications: Positive faecal immunochemical", "EXTENT AND PREPARATION", "FINDINGS",
                             "F1: Polyp, 6 mm", "F2: Polyp, 22 mm", "INTERVENTIONS", "- I2 (F2): Endoscopic mucosal resection (EMR), piecemeal, retrieved, pot 2",
                             "ADVERSE EVENTS", "None", "IMPRESSION", "Two polyps removed.", "RECOMMENDATIONS",
                             "SURVEILLANCE", "Surveillance colonoscopy in 6 months (rule esge2020.piecemeal-ge20mm), suggested, not yet confirmed."}) {
        const size_t found = t.find(part, at);
        ASSERT_NE(found, std::string::npos) << "missing or out of order: " << part << "\n" << t;
        at = found;
    }
    EXPECT_EQ(t.find('<'), std::string::npos);
}

TEST(ReportText, SignedVersionsAndPendingAi) {
    Report r = example_colonoscopy();
    std::string error;
    ASSERT_TRUE(report_sign(r, "Dr A. Smith", "2026-11-30T10:00:00Z", &error));
    report_begin_amendment(r, "histology");
    ASSERT_TRUE(field_set_ai(r.findings[0].jnet, std::string("2A"), "medgemma", 0.5, es_test::kWhen));
    const std::string t = report_text(r, shipped_vocabulary());
    EXPECT_NE(t.find("AMENDMENT (version 2) in progress"), std::string::npos) << t;
    EXPECT_NE(t.find("- findings[0].jnet (medgemma)"), std::string::npos) << t;
    EXPECT_NE(t.find("- Version 1: signed by Dr A. Smith on 2026-11-30T10:00:00Z"), std::string::npos) << t;
}

TEST(ReportHtml, HostileTextIsEscapedEverywhere) {
    Report r = example_colonoscopy();
    const std::string evil = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&";
    r.header.endoscopist = user_value(evil);
    r.header.instrument = user_value(evil);
    r.findings[0].id = evil;
    r.findings[0].notes = user_value(evil);
    r.findings[0].evidence = user_value<ImageLinks>({{evil, 1, ""}});
    r.impression = user_value(evil + "\nsecond line");
    r.recommendations = user_value(evil);
    r.diagnoses = user_value<TextList>({evil});
    r.interventions[0].specimen_container = user_value<std::string>("<b>1</b>");
    std::string error;
    ASSERT_TRUE(report_sign(r, evil, "2026-11-30T10:00:00Z", &error)) << error;
    const std::string html = report_html(r, shipped_vocabulary(), {});
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_EQ(html.find("<img src=x"), std::string::npos);
    EXPECT_EQ(html.find("<b>1</b>"), std::string::npos);
    EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
    EXPECT_NE(html.find("&quot;&#39;&amp;"), std::string::npos);
    // The only tags are the page's own: count them against an allow-list.
    const std::regex tag("<(/?)([a-zA-Z][a-zA-Z0-9]*)");
    const std::set<std::string> allowed = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "span",
                                           "table", "tr", "th", "td", "div", "figure", "figcaption", "img", "svg",
                                           "rect", "polygon", "circle", "ul", "li", "footer", "br"};
    for (auto it = std::sregex_iterator(html.begin(), html.end(), tag); it != std::sregex_iterator(); ++it)
        EXPECT_TRUE(allowed.count((*it)[2].str())) << "unexpected tag <" << (*it)[2].str();
    EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);
}

TEST(ReportHtml, InvalidUtf8AndControlCharacters) {
    EXPECT_EQ(html_escape(std::string("a\xff" "b")), "a\xEF\xBF\xBD" "b");
    EXPECT_EQ(html_escape(std::string("a\x01\x1b" "b\tc\n")), "ab\tc\n");
    EXPECT_EQ(html_escape("Barrett\xE2\x80\x99s"), "Barrett\xE2\x80\x99s");
    EXPECT_EQ(html_escape(std::string("\xED\xA0\x80")), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
}

TEST(ReportHtml, ImagesBecomeDataUrisWithTheLinkedAnnotation) {
    Report r = example_colonoscopy();
    ImageAnnotations ann;
    ann.image = "polyp_01.jpg";
    ann.width = 640;
    ann.height = 480;
    Annotation box;
    box.id = 1;
    box.label = "polyp";
    box.kind = AnnotationKind::Box;
    box.box = {100, 120, 50, 40};
    ann.items.push_back(box);
    Annotation other = box;
    other.id = 2;
    other.box = {300, 300, 20, 20};
    ann.items.push_back(other);
    ReportImage img;
    img.name = "polyp_01.jpg";
    img.bytes = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F'};
    img.annotations = &ann;
    const std::string html = report_html(r, shipped_vocabulary(), {img});
    EXPECT_NE(html.find("src=\"data:image/jpeg;base64," + base64_encode(img.bytes.data(), img.bytes.size()) + "\""),
              std::string::npos);
    EXPECT_NE(html.find("viewBox=\"0 0 640 480\""), std::string::npos);
    EXPECT_NE(html.find("<rect x=\"100.0\" y=\"120.0\" width=\"50.0\" height=\"40.0\""), std::string::npos);
    EXPECT_EQ(html.find("x=\"300.0\""), std::string::npos);  // only the linked annotation by default
    ReportHtmlOptions all;
    all.all_annotations = true;
    EXPECT_NE(report_html(r, shipped_vocabulary(), {img}, all).find("x=\"300.0\""), std::string::npos);
    // An image that is not given, or not an image, is named instead of embedded.
    EXPECT_NE(html.find("[image cecum_01.jpg not available]"), std::string::npos);
    img.bytes = {'<', 's', 'v', 'g'};
    EXPECT_NE(report_html(r, shipped_vocabulary(), {img}).find("is not in a format a page can show"), std::string::npos);
    // No external references.
    EXPECT_EQ(html.find("http://"), std::string::npos);
    EXPECT_EQ(html.find("https://"), std::string::npos);
}

TEST(ReportHtml, Base64) {
    const std::string s = "Man is distinguished";
    EXPECT_EQ(base64_encode(reinterpret_cast<const uint8_t*>(s.data()), s.size()), "TWFuIGlzIGRpc3Rpbmd1aXNoZWQ=");
    EXPECT_EQ(base64_encode(reinterpret_cast<const uint8_t*>("Ma"), 2), "TWE=");
    EXPECT_EQ(base64_encode(reinterpret_cast<const uint8_t*>("M"), 1), "TQ==");
    EXPECT_EQ(base64_encode(nullptr, 0), "");
}

}  // namespace

namespace {

using namespace es;

TEST(ReportNarrative, IncompleteExaminationAndPoorPreparation) {
    Report r;
    r.header.procedure = es_test::user_value<std::string>("colonoscopy");
    r.extent.caecal_intubation = es_test::user_value(false);
    r.extent.incomplete_reason = es_test::user_value<std::string>("poor-preparation");
    r.bowel_preparation.bbps_right = es_test::user_value(1);
    r.bowel_preparation.bbps_transverse = es_test::user_value(2);
    r.bowel_preparation.bbps_left = es_test::user_value(2);
    const ReportNarrative n = report_narrative(r, es_test::shipped_vocabulary());
    EXPECT_EQ(n.findings_text,
              "Colonoscopy, incomplete: the caecum was not reached (inadequate bowel preparation). Boston Bowel "
              "Preparation Scale 5 (right 1, transverse 2, left 2): inadequate.\nNo abnormality found.");
    EXPECT_EQ(n.impression, "1. Normal examination.\n2. Inadequate bowel preparation.\n3. Incomplete examination.");
}

TEST(ReportNarrative, SurveillanceSentence) {
    Report r;
    EXPECT_EQ(surveillance_sentence(r), "");
    r.surveillance.interval_years = es_test::user_value(3.0);
    r.surveillance.rule_id = es_test::user_value<std::string>("usmstf2020.adenomas-3-4");
    r.surveillance.confirmed = es_test::user_value(true);
    EXPECT_EQ(surveillance_sentence(r),
              "Surveillance colonoscopy in 3 years (rule usmstf2020.adenomas-3-4), confirmed by the clinician.");
    r.surveillance.interval_years = es_test::user_value(1.0);
    r.surveillance.confirmed = es_test::user_value(false);
    EXPECT_EQ(surveillance_sentence(r),
              "Surveillance colonoscopy in 1 year (rule usmstf2020.adenomas-3-4), suggested, not yet confirmed.");
}

}  // namespace
