// report_pdf_test.cpp: the report PDF read back as a reader would: poppler's
// pdftotext for the text (sections in MST order, accented names, page numbers,
// version labels), pdfinfo for the page count, pdftoppm for the pixels of the
// annotation overlays. Page images go to test-artifacts/report/ to look at.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "report/report_pdf.h"
#include "report_export_support.h"

namespace {

using namespace es;
using namespace es_test;

bool have_poppler() { return run_command("for c in pdftotext pdfinfo pdftoppm; do command -v $c; done | wc -l").find('3') != std::string::npos; }

// Writes the PDF to test-artifacts/report/NAME.pdf and returns its text.
std::string pdf_text(const std::vector<uint8_t>& pdf, const std::string& name, std::string* info = nullptr) {
    const std::string path = artifact_dir() + "/" + name + ".pdf";
    write_file(path, pdf);
    if (info) *info = run_command("pdfinfo '" + path + "' 2>&1");
    return run_command("pdftotext -enc UTF-8 '" + path + "' - 2>/dev/null");
}

int pdf_pages(const std::string& info) {
    std::istringstream in(info);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("Pages:", 0) == 0) return std::stoi(line.substr(6));
    return -1;
}

size_t watermark_pixels(const std::vector<uint8_t>& pdf, const std::string& name);

ReportPdf render(const Report& r, const DemoExportCase& d, const PdfFonts& fonts = dejavu_fonts()) {
    ReportPdfOptions o;
    o.fonts = fonts;
    o.institution = "Endoscopy Unit, Hôpital Saint-Éloi";
    return report_to_pdf(r, shipped_vocabulary(), d.images, o);
}

TEST(ReportPdf, DraftHasSectionsInOrderNamesPagesAndVersion) {
    ASSERT_TRUE(have_poppler()) << "pdftotext/pdfinfo/pdftoppm missing: run scripts/setup.sh (poppler-utils)";
    const DemoExportCase d = demo_export_case();
    ReportPdf pdf = render(demo_report(), d);
    ASSERT_TRUE(pdf.ok) << pdf.error;
    ASSERT_GT(pdf.bytes.size(), 5u);
    EXPECT_EQ(std::string(pdf.bytes.begin(), pdf.bytes.begin() + 5), "%PDF-");
    std::string info;
    const std::string text = pdf_text(pdf.bytes, "demo-draft", &info);
    run_command("pdftoppm -png -r 80 '" + artifact_dir() + "/demo-draft.pdf' '" + artifact_dir() + "/demo-draft-page'");
    EXPECT_EQ(pdf_pages(info), pdf.pages) << info;
    EXPECT_GE(pdf.pages, 2);
    // MST 3.0 order.
    const char* sections[] = {"Procedure",   "Extent of examination", "Bowel preparation", "Findings",
                              "Interventions", "Adverse events",       "Diagnoses and impression",
                              "Recommendations", "Key images",          "Sign-off"};
    size_t at = 0;
    for (const char* s : sections) {
        size_t pos = text.find(std::string(s) + "\n", at);
        ASSERT_NE(pos, std::string::npos) << "section \"" << s << "\" missing or out of order in:\n" << text;
        at = pos + 1;
    }
    EXPECT_NE(text.find(kEndoscopist), std::string::npos) << text;
    EXPECT_NE(text.find("Hôpital Saint-Éloi"), std::string::npos);
    EXPECT_NE(text.find("≥ 20 mm"), std::string::npos);
    for (int i = 1; i <= pdf.pages; ++i)
        EXPECT_NE(text.find("page " + std::to_string(i) + " of " + std::to_string(pdf.pages)), std::string::npos) << i;
    EXPECT_NE(text.find("Draft, not signed"), std::string::npos);
    EXPECT_GT(watermark_pixels(pdf.bytes, "demo-draft-watermark"), 5000u);
    EXPECT_NE(text.find("Not signed"), std::string::npos);
    // Content.
    EXPECT_NE(text.find("Sigmoid colon, 30 cm from the anus"), std::string::npos) << text;
    EXPECT_NE(text.find("8 of 9, adequate"), std::string::npos);
    EXPECT_NE(text.find("Cold snare polypectomy"), std::string::npos);
    // The unaccepted AI value is marked with its probability, and the top says so.
    EXPECT_NE(text.find("62%, NOT YET ACCEPTED"), std::string::npos) << text;
    EXPECT_NE(text.find("1 value was suggested by the AI assistant"), std::string::npos);
    EXPECT_TRUE(pdf.warnings.empty()) << pdf.warnings[0];
}

TEST(ReportPdf, SignedThenAmendedShowsVersions) {
    ASSERT_TRUE(have_poppler());
    const DemoExportCase d = demo_export_case();
    Report r = demo_report();
    field_accept(r.findings[0].jnet);
    std::string error;
    ASSERT_TRUE(report_sign(r, kEndoscopist, "2026-11-30T10:02:00Z", &error)) << error;
    ReportPdf final1 = render(r, d);
    std::string text = pdf_text(final1.bytes, "demo-final");
    EXPECT_NE(text.find("Final, version 1"), std::string::npos) << text;
    EXPECT_EQ(text.find("Draft"), std::string::npos);
    EXPECT_LT(watermark_pixels(final1.bytes, "demo-final-watermark"), 2000u);  // antialiased text edges only
    EXPECT_NE(text.find("2026-11-30 10:02 UTC"), std::string::npos);
    EXPECT_EQ(text.find("NOT YET ACCEPTED"), std::string::npos);

    ASSERT_TRUE(report_begin_amendment(r, "Histology received: tubular adenoma"));
    r.findings[0].attributes["histology"] = user_value<AttributeValue>(std::string("tubular-adenoma"));
    ReportPdf amending = render(r, d);
    text = pdf_text(amending.bytes, "demo-amending");
    EXPECT_NE(text.find("Amendment 1 (version 2), draft, not signed"), std::string::npos) << text;
    EXPECT_GT(watermark_pixels(amending.bytes, "demo-amending-watermark"), 5000u);
    EXPECT_NE(text.find("Tubular adenoma"), std::string::npos) << text;

    ASSERT_TRUE(report_sign(r, "Dr. Ana Šimić", "2026-12-03T08:30:00Z", &error)) << error;
    ReportPdf pdf = render(r, d);
    text = pdf_text(pdf.bytes, "demo-amended");
    EXPECT_NE(text.find("Amendment 1 (version 2), final"), std::string::npos) << text;
    EXPECT_EQ(text.find("draft"), std::string::npos);
    EXPECT_LT(watermark_pixels(pdf.bytes, "demo-amended-watermark"), 2000u);
    EXPECT_NE(text.find("Dr. Ana Šimić"), std::string::npos);
    EXPECT_NE(text.find("Histology received: tubular adenoma"), std::string::npos);
    EXPECT_NE(text.find("Version 1"), std::string::npos);  // version history keeps the first signature
}

// Renders one page at 60 dpi and counts pixels near the colour (r, g, b).
size_t count_pixels(const std::vector<uint8_t>& pdf, const std::string& name, int page, int r, int g, int b, int tol) {
    const std::string path = artifact_dir() + "/" + name + ".pdf";
    write_file(path, pdf);
    const std::string ppm = artifact_dir() + "/" + name;
    run_command("pdftoppm -r 60 -f " + std::to_string(page) + " -l " + std::to_string(page) + " -singlefile '" + path +
                "' '" + ppm + "'");
    std::vector<uint8_t> bytes = file_bytes(ppm + ".ppm");
    // P6 header: "P6\n<w> <h>\n255\n".
    std::string head(bytes.begin(), bytes.begin() + std::min<size_t>(bytes.size(), 32));
    int w = 0, h = 0, maxv = 0, off = 0;
    if (std::sscanf(head.c_str(), "P6 %d %d %d%n", &w, &h, &maxv, &off) != 3) return 0;
    ++off;
    size_t n = 0;
    for (size_t i = size_t(off); i + 2 < bytes.size(); i += 3)
        if (std::abs(bytes[i] - r) <= tol && std::abs(bytes[i + 1] - g) <= tol && std::abs(bytes[i + 2] - b) <= tol) ++n;
    return n;
}

// The first finding's overlay colour (0.90, 0.16, 0.10).
size_t overlay_pixels(const std::vector<uint8_t>& pdf, const std::string& name, int page) {
    return count_pixels(pdf, name, page, 230, 41, 26, 22);
}

// The DRAFT watermark's light grey (0.88): pdftotext splits rotated text, so it is found by its pixels.
size_t watermark_pixels(const std::vector<uint8_t>& pdf, const std::string& name) {
    return count_pixels(pdf, name, 1, 224, 224, 224, 3);
}

int key_image_page(const std::vector<uint8_t>& pdf, const std::string& name, int pages) {
    const std::string path = artifact_dir() + "/" + name + ".pdf";
    write_file(path, pdf);
    for (int p = 1; p <= pages; ++p) {
        std::string t = run_command("pdftotext -f " + std::to_string(p) + " -l " + std::to_string(p) + " '" + path + "' -");
        if (t.find("image-1.png: F1") != std::string::npos) return p;
    }
    return -1;
}

TEST(ReportPdf, OverlaysAreDrawnOnKeyImages) {
    ASSERT_TRUE(have_poppler());
    const DemoExportCase d = demo_export_case();
    ReportPdf with = render(demo_report(), d);
    ASSERT_TRUE(with.ok) << with.error;
    const int page = key_image_page(with.bytes, "overlay-on", with.pages);
    ASSERT_GT(page, 0);
    // The same report linking the whole images (annotation 0): no overlays.
    Report plain = demo_report();
    for (Finding& f : plain.findings)
        for (ImageLink& l : *f.evidence.value) l.annotation_id = 0;
    ReportPdf without = render(plain, d);
    ASSERT_TRUE(without.ok);
    const int page_without = key_image_page(without.bytes, "overlay-off", without.pages);
    const size_t on = overlay_pixels(with.bytes, "overlay-on", page);
    const size_t off = overlay_pixels(without.bytes, "overlay-off", page_without);
    EXPECT_GT(on, 200u) << "overlay outline pixels on the key-image page";
    EXPECT_LT(off * 10, on) << on << " vs " << off;
}

TEST(ReportPdf, MissingAndBrokenImagesAreWarningsNotFailures) {
    DemoExportCase d = demo_export_case();
    Report r = demo_report();
    r.findings[1].evidence = user_value<ImageLinks>({{"not-in-case.png", 1, ""}, {"image-2.png", 99, ""}});
    d.images[0].bytes.resize(40);  // image-1.png truncated
    ReportPdf pdf = render(r, d);
    ASSERT_TRUE(pdf.ok) << pdf.error;
    std::string all;
    for (const std::string& w : pdf.warnings) all += w + "\n";
    EXPECT_NE(all.find("\"not-in-case.png\", which is not in the case"), std::string::npos) << all;
    EXPECT_NE(all.find("image \"image-2.png\" has no annotation 99"), std::string::npos) << all;
    EXPECT_NE(all.find("image \"image-1.png\" could not be read"), std::string::npos) << all;
}

TEST(ReportPdf, LongUnbrokenTextWrapsOntoMorePages) {
    const DemoExportCase d = demo_export_case();
    Report r = demo_report();
    r.findings[2].notes = user_value<std::string>(std::string(19000, 'W') + "\n" + std::string(200, '\x01') + "end");
    ReportPdf pdf = render(r, d);
    ASSERT_TRUE(pdf.ok) << pdf.error;
    ReportPdf base = render(demo_report(), d);
    EXPECT_GT(pdf.pages, base.pages + 3);
    if (have_poppler()) {
        const std::string text = pdf_text(pdf.bytes, "long-notes");
        EXPECT_NE(text.find("end"), std::string::npos);
    }
}

TEST(ReportPdf, WithoutFontFallsBackToHelveticaAndSaysSo) {
    ASSERT_TRUE(have_poppler());
    const DemoExportCase d = demo_export_case();
    ReportPdf pdf = render(demo_report(), d, PdfFonts{});
    ASSERT_TRUE(pdf.ok) << pdf.error;
    ASSERT_FALSE(pdf.warnings.empty());
    EXPECT_NE(pdf.warnings.back().find("Helvetica"), std::string::npos);
    const std::string text = pdf_text(pdf.bytes, "helvetica");
    EXPECT_NE(text.find("Dr. José Müller-?"), std::string::npos) << text;  // Ł and ę are not in WinAnsi
    EXPECT_NE(text.find(">= 20 mm"), std::string::npos);
    // A damaged font file: the fallback again, with the reason.
    PdfFonts broken;
    broken.regular = std::vector<uint8_t>(1000, 7);
    ReportPdf pdf2 = render(demo_report(), d, broken);
    ASSERT_TRUE(pdf2.ok) << pdf2.error;
    EXPECT_NE(pdf2.warnings[0].find("could not be loaded"), std::string::npos);
}

TEST(ReportPdf, CharactersOutsideTheFontDoNotBreakThePdf) {
    // CJK and emoji are not in DejaVu Sans; right-to-left override, invalid UTF-8.
    const DemoExportCase d = demo_export_case();
    Report r = demo_report();
    r.findings[0].notes = user_value<std::string>("患者 😀 \xE2\x80\xAEtxet \xFF\xFE ok-after");
    ReportPdf pdf = render(r, d);
    ASSERT_TRUE(pdf.ok) << pdf.error;
    if (have_poppler()) EXPECT_NE(pdf_text(pdf.bytes, "outside-font").find("ok-after"), std::string::npos);
}

TEST(ReportPdf, EmptyReportStillMakesAPage) {
    ReportPdf pdf = report_to_pdf(Report(), shipped_vocabulary(), {}, {});
    ASSERT_TRUE(pdf.ok) << pdf.error;
    EXPECT_EQ(pdf.pages, 1);
}

}  // namespace
