// report_pdf.h: the report as a PDF (A4, selectable text), made with libharu
// through pdf/pdf_flow.h: the sections in MST 3.0 order, the key images (those
// the report links as evidence) with the linked annotations drawn over them as
// vector paths (boxes, polygons, mask contours), the signature block with the
// version history, "page i of n" on every page, and the version in the header
// ("Draft, not signed" with a DRAFT watermark; "Amendment k" once amended).
// Values the assistant suggested are marked, with their probability and
// whether the user accepted them. No file I/O: fonts and images come in as bytes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "annotation/annotation.h"
#include "pdf/pdf_flow.h"
#include "report/report.h"
#include "report/report_html.h"  // ReportImage, shared by the renderers
#include "report/report_vocabulary.h"

namespace es {

struct ReportPdfOptions {
    PdfFonts fonts;             // TrueType bytes (DejaVuSans.ttf, DejaVuSans-Bold.ttf); empty: Helvetica, Latin-1 only
    std::string institution;    // printed under the title when not empty
    int images_per_row = 2;
    int max_image_side = 1000;  // key images are downscaled to this many pixels before embedding
    int jpeg_quality = 88;
};

struct ReportPdf {
    bool ok = false;
    std::vector<uint8_t> bytes;
    int pages = 0;
    std::string error;                  // what failed, when !ok
    std::vector<std::string> warnings;  // e.g. a linked image missing from the case, the font fallback
};

// `images`: the case's images by name (the keys evidence links use), each with
// its annotations (evidence links name their ids).
ReportPdf report_to_pdf(const Report& report, const ReportVocabulary& vocab, const std::vector<ReportImage>& images,
                        const ReportPdfOptions& options = {});

// "Draft, not signed" | "Final, version 1" | "Amendment 1 (version 2), draft, not signed" |
// "Amendment 1 (version 2), final": the label the PDF and the FHIR export show.
std::string report_version_label(const Report& report);

}  // namespace es
