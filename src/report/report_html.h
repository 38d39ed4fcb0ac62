// report_html.h: the report as one self-contained HTML page: inline CSS, the
// key images as data: URIs with their annotation overlays as inline SVG, no
// script, no external reference (a Content-Security-Policy meta tag forbids
// any). Every text that came from a user, a file or a model is HTML-escaped,
// so hostile text shows as text and never becomes markup.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "annotation/annotation.h"
#include "encoding/base64.h"  // base64_encode (data: URIs)
#include "report/report.h"
#include "report/report_vocabulary.h"

namespace es {

// An image of the case for the renderers: its encoded bytes as stored in the
// case (JPEG, PNG, ...) and, optionally, its annotations (drawn over it; the
// evidence annotation highlighted). No file I/O: the caller supplies the bytes.
struct ReportImage {
    std::string name;                               // the image key (ImageLink::image)
    std::vector<uint8_t> bytes;                     // encoded image
    int width = 0, height = 0;                      // pixels; 0 = take them from `annotations`
    const ImageAnnotations* annotations = nullptr;  // optional overlay geometry
};

struct ReportHtmlOptions {
    bool all_annotations = false;  // draw every annotation of an evidence image, not only the linked one
    std::string generator = "EndoScribe";  // shown in the footer
};

std::string report_html(const Report& report, const ReportVocabulary& vocab, const std::vector<ReportImage>& images,
                        const ReportHtmlOptions& options = {});

// & < > " ' as entities; invalid UTF-8 bytes become U+FFFD; control
// characters other than tab/newline are dropped.
std::string html_escape(const std::string& text);
// "image/jpeg", "image/png", "image/gif", "image/bmp", "image/webp" from the
// leading bytes, or "" for anything else (then the image is not embedded).
std::string image_mime_type(const std::vector<uint8_t>& bytes);

}  // namespace es
