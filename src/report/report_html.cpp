// report_html.cpp: see report_html.h. Built by string concatenation with one
// rule: nothing from the report reaches the page without html_escape() (ids,
// names and numbers included), and numbers that go into SVG attributes are
// formatted here, never copied.
#include "report/report_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "mask/contour.h"
#include "report/report_narrative.h"
#include "report/report_text.h"

namespace es {
namespace {

std::string svg_number(double v) {
    if (!std::isfinite(v)) return "0";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

std::string e(const std::string& s) { return html_escape(s); }

const char* kStyle = R"(
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;font-size:14px;color:#111;max-width:60rem;margin:1.5rem auto;padding:0 1rem;line-height:1.4}
h1{font-size:1.5rem;margin:0 0 .3rem}h2{font-size:1.05rem;border-bottom:1px solid #999;margin:1.4rem 0 .5rem;padding-bottom:.15rem;text-transform:uppercase;letter-spacing:.03em}
.status{font-weight:bold;padding:.2rem .5rem;display:inline-block;border:1px solid #555}.status.draft{background:#fff3cd}.status.final{background:#d4edda}
table.kv{border-collapse:collapse}table.kv th{text-align:left;font-weight:normal;color:#555;padding:.1rem 1rem .1rem 0;vertical-align:top}table.kv td{padding:.1rem 0}
.finding{margin:.6rem 0}.finding .id{font-weight:bold}
.ai{background:#e8f0fe;border-bottom:1px dashed #3367d6}
figure{display:inline-block;margin:.4rem .8rem .4rem 0;vertical-align:top;max-width:18rem}
.frame{position:relative;display:inline-block}.frame img{display:block;max-width:18rem;height:auto}
.frame svg{position:absolute;left:0;top:0;width:100%;height:100%}
figcaption{font-size:.8rem;color:#444}
ul.warn li{color:#8a4b00}
footer{margin-top:2rem;font-size:.75rem;color:#666;border-top:1px solid #ccc;padding-top:.4rem}
pre.text{white-space:pre-wrap;font-family:inherit}
)";

class HtmlWriter {
  public:
    HtmlWriter(const Report& r, const ReportVocabulary& v, const std::vector<ReportImage>& images,
               const ReportHtmlOptions& o)
        : r_(r), v_(v), o_(o) {
        for (const ReportImage& img : images) images_[img.name] = &img;
    }

    std::string run() {
        const std::string procedure =
            r_.header.procedure.has_value() ? v_.name_of("procedures", *r_.header.procedure.value) : "Endoscopy";
        out_ += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
        out_ += "<title>" + e(procedure + " report" + (r_.header.date.has_value() ? " " + *r_.header.date.value : "")) +
                "</title><style>" + kStyle + "</style></head><body>\n";
        out_ += "<h1>" + e(procedure) + " report</h1>\n";
        out_ += std::string("<p><span class=\"status ") + (r_.status == ReportStatus::Final ? "final" : "draft") + "\">" +
                e(report_status_line(r_)) + "</span></p>\n";
        header();
        extent();
        findings();
        interventions();
        closing();
        pending();
        versions();
        out_ += "<footer>" + e(o_.generator) + " &middot; report version " + std::to_string(r_.version) +
                "</footer>\n</body></html>\n";
        return out_;
    }

  private:
    void row(const std::string& label, const std::string& value_html) {
        if (!value_html.empty()) out_ += "<tr><th>" + e(label) + "</th><td>" + value_html + "</td></tr>";
    }

    template <class T>
    std::string mark(const Field<T>& f, const std::string& html) {
        if (f.has_value() && f.source == ValueSource::Ai && !f.accepted) {
            std::string title = "AI suggestion, not accepted";
            if (!f.set_by.empty()) title += " (" + f.set_by + ")";
            if (f.probability) title += ", p = " + report_number(*f.probability);
            return "<span class=\"ai\" title=\"" + e(title) + "\">" + html + "</span>";
        }
        return html;
    }

    std::string text_field(const Field<std::string>& f) { return f.has_value() ? mark(f, e(*f.value)) : ""; }
    std::string option_field(const Field<std::string>& f, const char* list) {
        return f.has_value() ? mark(f, e(v_.name_of(list, *f.value))) : "";
    }
    std::string option_list(const Field<TextList>& f, const char* list) {
        if (!f.has_value()) return "";
        std::string s;
        for (const std::string& id : *f.value) s += (s.empty() ? "" : "; ") + e(v_.name_of(list, id));
        return mark(f, s);
    }

    void header() {
        out_ += "<table class=\"kv\">";
        row("Date", text_field(r_.header.date));
        row("Endoscopist", text_field(r_.header.endoscopist));
        row("Instrument", text_field(r_.header.instrument));
        row("Sedation", option_field(r_.header.sedation, "sedation"));
        row("Indications", option_list(r_.header.indications, "indications"));
        out_ += "</table>\n";
    }

    void extent() {
        out_ += "<h2>Extent and preparation</h2>\n";
        const std::string s = extent_sentences(r_, v_);
        out_ += "<p>" + (s.empty() ? std::string("Not recorded.") : e(s)) + "</p>\n";
        if (r_.extent.caecal_evidence.has_value() && !r_.extent.caecal_evidence.value->empty()) {
            out_ += "<div class=\"images\">";
            for (const ImageLink& l : *r_.extent.caecal_evidence.value)
                figure(l, l.landmark.empty() ? "Caecal landmark" : v_.name_of("landmarks", l.landmark));
            out_ += "</div>\n";
        }
    }

    void findings() {
        out_ += "<h2>Findings</h2>\n";
        if (r_.findings.empty()) out_ += "<p>No abnormality found.</p>\n";
        for (const Finding& f : r_.findings) {
            out_ += "<div class=\"finding\"><span class=\"id\">" + e(f.id) + "</span> " +
                    e(finding_sentence(r_, f, v_)) + "\n";
            if (f.evidence.has_value() && !f.evidence.value->empty()) {
                out_ += "<div class=\"images\">";
                for (const ImageLink& l : *f.evidence.value)
                    figure(l, f.id + (f.term.has_value() ? ": " + v_.term_name(*f.term.value) : ""));
                out_ += "</div>";
            }
            out_ += "</div>\n";
        }
    }

    void interventions() {
        if (r_.interventions.empty()) return;
        out_ += "<h2>Interventions</h2>\n<ul>";
        for (const Intervention& in : r_.interventions) {
            out_ += "<li>" + e(in.id) + (in.finding_id.empty() ? "" : " (" + e(in.finding_id) + ")") + ": " +
                    (in.method.has_value() ? option_field(in.method, "interventions") : "method not recorded");
            if (in.resection.has_value())
                out_ += ", " + mark(in.resection, e(report_lower_first(v_.name_of("resection", *in.resection.value))));
            if (in.retrieved.has_value()) out_ += mark(in.retrieved, *in.retrieved.value ? ", retrieved" : ", not retrieved");
            if (in.specimen_container.has_value() && !in.specimen_container.value->empty())
                out_ += ", pot " + text_field(in.specimen_container);
            out_ += "</li>";
        }
        out_ += "</ul>\n";
    }

    void paragraph_text(const std::string& title, const std::string& html) {
        out_ += "<h2>" + e(title) + "</h2>\n<p class=\"text\">" + html + "</p>\n";
    }

    // Line breaks of multi-line text kept as <br>.
    std::string multiline(const std::string& text) {
        std::string escaped = e(text), out;
        for (char c : escaped) {
            if (c == '\n') out += "<br>";
            else out += c;
        }
        return out;
    }

    void closing() {
        const std::string events = option_list(r_.adverse_events, "adverse_events");
        paragraph_text("Adverse events", events.empty() ? "Not recorded." : events);
        if (r_.diagnoses.has_value() && !r_.diagnoses.value->empty()) {
            out_ += "<h2>Diagnoses</h2>\n<ul>";
            for (const std::string& d : *r_.diagnoses.value) out_ += "<li>" + mark(r_.diagnoses, e(d)) + "</li>";
            out_ += "</ul>\n";
        }
        const bool has_impression = r_.impression.has_value() && !r_.impression.value->empty();
        paragraph_text("Impression", has_impression ? mark(r_.impression, multiline(*r_.impression.value))
                                                    : multiline(report_narrative(r_, v_).impression));
        if (r_.recommendations.has_value() && !r_.recommendations.value->empty())
            paragraph_text("Recommendations", mark(r_.recommendations, multiline(*r_.recommendations.value)));
        const std::string s = surveillance_sentence(r_);
        if (!s.empty()) paragraph_text("Surveillance", mark(r_.surveillance.interval_years, e(s)));
    }

    void pending() {
        const std::vector<PendingAiValue> p = report_pending_ai_values(r_);
        if (p.empty()) return;
        out_ += "<h2>AI suggestions not yet accepted</h2>\n<ul class=\"warn\">";
        for (const PendingAiValue& v : p)
            out_ += "<li>" + e(v.path) + (v.set_by.empty() ? "" : " (" + e(v.set_by) + ")") + "</li>";
        out_ += "</ul>\n";
    }

    void versions() {
        if (r_.versions.empty()) return;
        out_ += "<h2>Signature and versions</h2>\n<ul>";
        for (const ReportVersion& v : r_.versions) {
            out_ += "<li>Version " + std::to_string(v.number) + ": signed by " + e(v.signed_by) + " on " + e(v.signed_at);
            if (!v.reason.empty()) out_ += " (amendment: " + e(v.reason) + ")";
            out_ += "</li>";
        }
        out_ += "</ul>\n";
    }

    void figure(const ImageLink& link, const std::string& caption) {
        auto it = images_.find(link.image);
        const ReportImage* img = it == images_.end() ? nullptr : it->second;
        const std::string mime = img ? image_mime_type(img->bytes) : "";
        out_ += "<figure>";
        if (mime.empty()) {
            out_ += "<div>[image " + e(link.image) + (img ? " is not in a format a page can show" : " not available") +
                    "]</div>";
        } else {
            out_ += "<div class=\"frame\"><img alt=\"" + e(link.image) + "\" src=\"data:" + mime + ";base64," +
                    base64_encode(img->bytes.data(), img->bytes.size()) + "\">" + overlay(*img, link.annotation_id) +
                    "</div>";
        }
        out_ += "<figcaption>" + e(caption) + " &middot; " + e(link.image) +
                (link.annotation_id ? " &middot; annotation " + std::to_string(link.annotation_id) : "") +
                "</figcaption></figure>";
    }

    std::string shape(const Annotation& a, bool highlighted) {
        const std::string style = highlighted ? " fill=\"none\" stroke=\"#ffd400\" stroke-width=\"3\" vector-effect=\"non-scaling-stroke\""
                                              : " fill=\"none\" stroke=\"#ffffff\" stroke-opacity=\"0.6\" stroke-width=\"1.5\" vector-effect=\"non-scaling-stroke\"";
        auto polygon = [&](const Polygon& p) {
            std::string pts;
            for (const Point& q : p) pts += (pts.empty() ? "" : " ") + svg_number(q.x) + "," + svg_number(q.y);
            return "<polygon points=\"" + pts + "\"" + style + "/>";
        };
        switch (a.kind) {
            case AnnotationKind::Box:
                return "<rect x=\"" + svg_number(a.box.x) + "\" y=\"" + svg_number(a.box.y) + "\" width=\"" +
                       svg_number(a.box.w) + "\" height=\"" + svg_number(a.box.h) + "\"" + style + "/>";
            case AnnotationKind::Polygon: {
                std::string s;
                for (const Polygon& p : a.polygons) s += polygon(p);
                return s;
            }
            case AnnotationKind::Mask: {
                std::string s;
                for (const Polygon& p : mask_to_polygons(a.mask, 1.0, 4).polygons) s += polygon(p);
                return s;
            }
            case AnnotationKind::Point:
                return "<circle cx=\"" + svg_number(a.point.x) + "\" cy=\"" + svg_number(a.point.y) + "\" r=\"6\"" + style + "/>";
        }
        return "";
    }

    std::string overlay(const ReportImage& img, uint64_t highlight) {
        if (!img.annotations) return "";
        const int w = img.width > 0 ? img.width : img.annotations->width;
        const int h = img.height > 0 ? img.height : img.annotations->height;
        if (w <= 0 || h <= 0) return "";
        std::string shapes;
        for (const Annotation& a : img.annotations->items) {
            const bool hit = highlight != 0 && a.id == highlight;
            if (hit || (o_.all_annotations && a.visible)) shapes += shape(a, hit);
        }
        if (shapes.empty()) return "";
        return "<svg viewBox=\"0 0 " + std::to_string(w) + " " + std::to_string(h) +
               "\" preserveAspectRatio=\"none\" aria-hidden=\"true\">" + shapes + "</svg>";
    }

    const Report& r_;
    const ReportVocabulary& v_;
    const ReportHtmlOptions& o_;
    std::map<std::string, const ReportImage*> images_;
    std::string out_;
};

// Length of the valid UTF-8 sequence at s[i], or 0 when invalid.
size_t utf8_sequence(const std::string& s, size_t i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    unsigned min = 0;
    unsigned cp = 0;
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) n = 2, min = 0x80, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) n = 3, min = 0x800, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) n = 4, min = 0x10000, cp = c & 0x07;
    else return 0;
    if (i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k) {
        const unsigned char cc = static_cast<unsigned char>(s[i + k]);
        if ((cc & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

}  // namespace

std::string html_escape(const std::string& text) {
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (size_t i = 0; i < text.size();) {
        const size_t n = utf8_sequence(text, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";  // U+FFFD
            ++i;
            continue;
        }
        if (n > 1) {
            out.append(text, i, n);
            i += n;
            continue;
        }
        const char c = text[i++];
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default:
                if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') out += c;
                break;
        }
    }
    return out;
}

std::string image_mime_type(const std::vector<uint8_t>& b) {
    auto starts = [&](std::initializer_list<uint8_t> magic) {
        if (b.size() < magic.size()) return false;
        return std::equal(magic.begin(), magic.end(), b.begin());
    };
    if (starts({0xFF, 0xD8, 0xFF})) return "image/jpeg";
    if (starts({0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A})) return "image/png";
    if (starts({'G', 'I', 'F', '8'})) return "image/gif";
    if (starts({'B', 'M'}) && b.size() > 26) return "image/bmp";
    if (b.size() >= 12 && starts({'R', 'I', 'F', 'F'}) && b[8] == 'W' && b[9] == 'E' && b[10] == 'B' && b[11] == 'P')
        return "image/webp";
    return "";
}

std::string report_html(const Report& report, const ReportVocabulary& vocab, const std::vector<ReportImage>& images,
                        const ReportHtmlOptions& options) {
    return HtmlWriter(report, vocab, images, options).run();
}

}  // namespace es
