// pdf_flow.h: a flowing A4 document over libharu (the kept PDF library; no
// hand-written PDF): headings, label/value rows and paragraphs wrapped to the
// text column, images with vector overlays (boxes, polygons, mask contours)
// drawn on top, page breaks, a running header, and a footer with "page i of n"
// added once the page count is known. Text is real text (selectable,
// pdftotext reads it back).
//
// Fonts: TrueType bytes passed in by the caller (the core does no file I/O),
// embedded as a subset with the UTF-8 encoder, so any character the font has
// prints (names with accents, "≥", "—"). Without font bytes the base-14
// Helvetica with WinAnsi encoding is used: Western European characters only,
// the rest print as '?' (and `warnings()` says so).
//
// Errors: libharu reports through a handler; the first error is kept and
// finish() then returns no bytes and error() says what failed. Never throws.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "annotation/geometry.h"

namespace es {

struct PdfColor {
    float r = 0, g = 0, b = 0;
};

struct PdfFonts {
    std::vector<uint8_t> regular;  // TrueType bytes (e.g. DejaVuSans.ttf); empty: Helvetica
    std::vector<uint8_t> bold;     // optional (e.g. DejaVuSans-Bold.ttf); empty: the regular font
};

// A shape drawn over an image, in the image's pixel coordinates.
struct PdfOverlay {
    std::vector<Polygon> rings;  // outlines (closed); filled together with the even-odd rule (holes cut out)
    std::vector<Point> points;   // point markers
    PdfColor color{0.95f, 0.2f, 0.1f};
    bool fill = false;           // translucent fill inside the rings (masks)
    bool emphasis = false;       // thicker outline
    std::string label;           // drawn at the shape's top-left corner, e.g. "F1"
};

struct PdfImage {
    std::vector<uint8_t> jpeg;  // baseline JPEG bytes (libharu embeds them as they are)
    int width = 0, height = 0;  // the JPEG's pixels
    double scale = 1.0;         // overlay coordinates * scale = JPEG pixels (images are downscaled for the PDF)
    std::vector<PdfOverlay> overlays;
    std::string caption;
};

enum class PdfTextStyle { Body, Bold, Small, Title };

class PdfFlow {
public:
    // `header_left`/`header_right` run on every page; `watermark` (e.g. "DRAFT"), when
    // not empty, is printed large and light across every page, beneath the content.
    struct Style {
        std::string title;  // document metadata title
        std::string author;
        std::string header_left, header_right, footer_left, watermark;
    };
    PdfFlow(const PdfFonts& fonts, const Style& style);
    ~PdfFlow();
    PdfFlow(const PdfFlow&) = delete;
    PdfFlow& operator=(const PdfFlow&) = delete;

    void title(const std::string& text);
    void heading(const std::string& text);  // a section heading; kept on a page with the next lines
    void row(const std::string& label, const std::string& value);  // label column + wrapped value
    void paragraph(const std::string& text, PdfTextStyle style = PdfTextStyle::Body, double indent = 0);
    void images(const std::vector<PdfImage>& images, int per_row);
    void space(double points);
    void rule();               // a thin horizontal line across the column
    void keep(double points);  // starts a new page unless `points` of height are left

    // Adds "page i of n" footers and returns the PDF bytes; empty on error.
    std::vector<uint8_t> finish();
    int page_count() const;
    const std::string& error() const;
    const std::vector<std::string>& warnings() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// UTF-8 made safe to print: invalid bytes become U+FFFD, tabs spaces, other
// control characters (except '\n') are dropped.
std::string pdf_clean_text(const std::string& text);

}  // namespace es
