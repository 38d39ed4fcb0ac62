// report_pdf.cpp: see report_pdf.h. The report is first turned into a list of
// blocks (headings, rows, paragraphs, images) so the note about unaccepted AI
// values can go at the top, then laid out by PdfFlow.
#include "report/report_pdf.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "image/image.h"
#include "image/image_resize.h"
#include "image/jpeg_encode.h"
#include "mask/contour.h"

namespace es {
namespace {

struct Block {
    enum Kind { Heading, Row, Paragraph, Subheading, Note, Images, Space } kind;
    std::string a, b;
};

const PdfColor kPalette[] = {{0.90f, 0.16f, 0.10f}, {0.10f, 0.45f, 0.90f}, {0.10f, 0.65f, 0.25f},
                             {0.85f, 0.50f, 0.05f}, {0.60f, 0.20f, 0.75f}, {0.85f, 0.20f, 0.55f}};
const PdfColor kLandmarkColor{0.05f, 0.60f, 0.65f};

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    std::string s = buf;
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
}

std::string join(const std::vector<std::string>& items, const char* sep = "; ") {
    std::string out;
    for (const std::string& s : items) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out;
}

// "2026-11-30T10:02:00Z" → "2026-11-30 10:02 UTC"; other text as it is.
std::string when(const std::string& iso) {
    if (iso.size() >= 16 && iso[10] == 'T' && iso.back() == 'Z') return iso.substr(0, 10) + " " + iso.substr(11, 5) + " UTC";
    return iso;
}

struct Writer {
    const Report& r;
    const ReportVocabulary& vocab;
    std::vector<Block> blocks;
    int ai_pending = 0;  // AI values not yet accepted
    int ai_values = 0;

    void heading(const std::string& s) { blocks.push_back({Block::Heading, s, ""}); }
    void sub(const std::string& s) { blocks.push_back({Block::Subheading, s, ""}); }
    void para(const std::string& s) { blocks.push_back({Block::Paragraph, s, ""}); }
    void note(const std::string& s) { blocks.push_back({Block::Note, s, ""}); }

    std::string option(const std::string& list, const std::string& id) const {
        const VocabOption* o = vocab.find(list, id);
        return o && !o->name.empty() ? o->name : id;
    }
    std::string term(const std::string& id) const {
        const ReportTerm* t = vocab.find_term(id);
        return t && !t->name.empty() ? t->name : id;
    }

    template <class T>
    std::string mark(const Field<T>& f) {
        if (!f.has_value() || f.source == ValueSource::User) return "";
        ++ai_values;
        if (f.source == ValueSource::AiEdited) return "  [AI suggestion, edited by the user]";
        std::string p = f.probability ? ", " + number(std::round(*f.probability * 100)) + "%" : "";
        if (!f.accepted) {
            ++ai_pending;
            return "  [AI suggestion" + p + ", NOT YET ACCEPTED]";
        }
        return "  [AI suggestion" + p + ", accepted]";
    }

    template <class T>
    void row(const std::string& label, const Field<T>& f, const std::string& text) {
        if (!f.has_value()) return;
        blocks.push_back({Block::Row, label, text + mark(f)});
    }
    void row_text(const std::string& label, const Field<std::string>& f, const std::string& list = "") {
        if (!f.has_value()) return;
        row(label, f, list.empty() ? *f.value : option(list, *f.value));
    }
    void row_list(const std::string& label, const Field<TextList>& f, const std::string& list) {
        if (!f.has_value()) return;
        std::vector<std::string> names;
        for (const std::string& id : *f.value) names.push_back(list.empty() ? id : option(list, id));
        row(label, f, names.empty() ? "none" : join(names));
    }

    std::string link_text(const ImageLink& l) const {
        std::string s = l.image;
        if (l.annotation_id) s += ", annotation " + std::to_string(l.annotation_id);
        if (!l.landmark.empty()) s = option("landmarks", l.landmark) + " (" + s + ")";
        return s;
    }

    std::string attribute_text(const std::string& id, const AttributeValue& v) const {
        const ReportAttribute* a = vocab.find_attribute(id);
        if (const std::string* s = std::get_if<std::string>(&v)) return a && !a->list.empty() ? option(a->list, *s) : *s;
        if (const double* d = std::get_if<double>(&v)) return number(*d) + (a && !a->unit.empty() ? " " + a->unit : "");
        return std::get<bool>(v) ? "yes" : "no";
    }

    bool lower_gi() const {
        const std::string proc = r.header.procedure.value_or("");
        const VocabOption* p = vocab.find("procedures", proc);
        return proc.empty() || (p && p->property("tract") != "upper");
    }

    void header_section() {
        heading("Procedure");
        row_text("Procedure", r.header.procedure, "procedures");
        row_text("Date", r.header.date);
        row_text("Endoscopist", r.header.endoscopist);
        row_text("Instrument", r.header.instrument);
        row_text("Sedation", r.header.sedation, "sedation");
        row_list("Indications", r.header.indications, "indications");
    }

    void extent_section() {
        heading("Extent of examination");
        const size_t before = blocks.size();
        row_list("Landmarks reached", r.extent.landmarks_reached, "landmarks");
        if (r.extent.caecal_intubation.has_value())
            row("Caecal intubation", r.extent.caecal_intubation, *r.extent.caecal_intubation.value ? "yes" : "no");
        if (r.extent.caecal_evidence.has_value()) {
            std::vector<std::string> links;
            for (const ImageLink& l : *r.extent.caecal_evidence.value) links.push_back(link_text(l));
            row("Documented by images", r.extent.caecal_evidence, links.empty() ? "none" : join(links));
        }
        row_text("Reason incomplete", r.extent.incomplete_reason, "incomplete_reasons");
        if (blocks.size() == before) para("Not recorded.");
    }

    void preparation_section() {
        const BowelPreparation& p = r.bowel_preparation;
        const bool any = p.bbps_right.has_value() || p.bbps_transverse.has_value() || p.bbps_left.has_value() ||
                         p.withdrawal_time_min.has_value();
        if (!any && !lower_gi()) return;
        heading("Bowel preparation");
        auto bbps = [&](const char* label, const Field<int>& f) {
            if (f.has_value()) row(label, f, std::to_string(*f.value) + " of 3");
            else blocks.push_back({Block::Row, label, "not scored"});
        };
        bbps("BBPS right colon", p.bbps_right);
        bbps("BBPS transverse colon", p.bbps_transverse);
        bbps("BBPS left colon", p.bbps_left);
        const std::optional<int> total = bbps_total(p);
        const std::optional<bool> adequate = bbps_adequate(p);
        blocks.push_back({Block::Row, "BBPS total",
                          total ? std::to_string(*total) + " of 9, " +
                                      (*adequate ? "adequate" : "inadequate") +
                                      " (adequate: total 6 or more and every segment 2 or more)"
                                : "incomplete: every segment must be scored"});
        if (p.withdrawal_time_min.has_value())
            row("Withdrawal time", p.withdrawal_time_min, number(*p.withdrawal_time_min.value) + " min");
    }

    void findings_section() {
        heading("Findings");
        if (r.findings.empty()) {
            para("No findings recorded.");
            return;
        }
        for (const Finding& f : r.findings) {
            sub(f.id + "  " + (f.term.has_value() ? term(*f.term.value) : std::string("(term not chosen)")) + mark(f.term));
            if (f.location_segment.has_value() || f.distance_cm.has_value()) {
                std::string loc = f.location_segment.has_value() ? option("segments", *f.location_segment.value) : "";
                if (f.distance_cm.has_value()) {
                    const VocabOption* seg = f.location_segment.has_value() ? vocab.find("segments", *f.location_segment.value) : nullptr;
                    const std::string organ = seg ? seg->property("organ") : "";
                    const bool upper = organ == "esophagus" || organ == "stomach" || organ == "duodenum" ||
                                       (organ.empty() && !lower_gi());
                    loc += std::string(loc.empty() ? "" : ", ") + number(*f.distance_cm.value) + " cm from the " +
                           (upper ? "incisors" : "anus");
                }
                std::string m = mark(f.location_segment) + mark(f.distance_cm);
                blocks.push_back({Block::Row, "Location", loc + m});
            }
            if (f.size_mm.has_value()) row("Size", f.size_mm, number(*f.size_mm.value) + " mm");
            if (f.number.has_value()) row("Number", f.number, std::to_string(*f.number.value));
            row_text("Paris classification", f.paris);
            if (f.nice.has_value()) row("NICE", f.nice, option("nice", *f.nice.value));
            if (f.jnet.has_value()) row("JNET", f.jnet, option("jnet", *f.jnet.value));
            for (const auto& [id, field] : f.attributes) {
                if (!field.has_value()) continue;
                const ReportAttribute* a = vocab.find_attribute(id);
                row(a && !a->name.empty() ? a->name : id, field, attribute_text(id, *field.value));
            }
            if (f.evidence.has_value()) {
                std::vector<std::string> links;
                for (const ImageLink& l : *f.evidence.value) links.push_back(link_text(l));
                row("Evidence", f.evidence, links.empty() ? "none" : join(links));
            }
            row_text("Notes", f.notes);
        }
    }

    void interventions_section() {
        heading("Interventions");
        if (r.interventions.empty()) {
            para("None recorded.");
            return;
        }
        for (const Intervention& i : r.interventions) {
            std::vector<std::string> parts;
            std::string marks;
            if (i.method.has_value()) parts.push_back(option("interventions", *i.method.value)), marks += mark(i.method);
            if (i.resection.has_value()) parts.push_back(option("resection", *i.resection.value)), marks += mark(i.resection);
            if (i.retrieved.has_value())
                parts.push_back(*i.retrieved.value ? "specimen retrieved" : "specimen NOT retrieved"), marks += mark(i.retrieved);
            if (i.specimen_container.has_value())
                parts.push_back("container " + *i.specimen_container.value), marks += mark(i.specimen_container);
            std::string label = i.id + (i.finding_id.empty() ? "" : " (" + i.finding_id + ")");
            blocks.push_back({Block::Row, label, (parts.empty() ? std::string("method not recorded") : join(parts, ", ")) + marks});
        }
    }

    void outcome_sections() {
        heading("Adverse events");
        if (r.adverse_events.has_value()) row_list("Adverse events", r.adverse_events, "adverse_events");
        else para("Not recorded.");

        heading("Diagnoses and impression");
        const size_t before = blocks.size();
        if (r.diagnoses.has_value()) {
            std::vector<std::string> names;
            for (const std::string& d : *r.diagnoses.value) names.push_back(vocab.find_term(d) ? term(d) : d);
            row("Diagnoses", r.diagnoses, names.empty() ? "none" : join(names));
        }
        if (r.impression.has_value()) {
            sub("Impression" + mark(r.impression));
            para(*r.impression.value);
        }
        if (blocks.size() == before) para("Not recorded.");

        heading("Recommendations");
        const size_t before_rec = blocks.size();
        if (r.recommendations.has_value()) {
            const std::string m = mark(r.recommendations);
            if (!m.empty()) sub("Recommendations" + m);
            para(*r.recommendations.value);
        }
        const Surveillance& s = r.surveillance;
        if (s.interval_years.has_value()) {
            const double y = *s.interval_years.value;
            std::string interval = y < 1 ? number(std::round(y * 12)) + " months" : number(y) + (y == 1 ? " year" : " years");
            std::string text = "Next " + std::string(lower_gi() ? "colonoscopy" : "endoscopy") + " in " + interval;
            if (s.rule_id.has_value() && !s.rule_id.value->empty()) text += " (suggested by guideline rule " + *s.rule_id.value + ")";
            const bool confirmed = s.confirmed.has_value() && *s.confirmed.value;
            text += confirmed ? "; confirmed by the endoscopist" : "; a suggestion, NOT YET CONFIRMED by the endoscopist";
            row("Surveillance", s.interval_years, text);
        }
        if (blocks.size() == before_rec) para("None recorded.");
    }

    void signature_section() {
        heading("Sign-off");
        blocks.push_back({Block::Row, "Status", report_version_label(r)});
        if (r.status == ReportStatus::Final && !r.versions.empty()) {
            const ReportVersion& v = r.versions.back();
            blocks.push_back({Block::Row, "Signed by", v.signed_by});
            blocks.push_back({Block::Row, "Signed at", when(v.signed_at)});
            if (!v.reason.empty()) blocks.push_back({Block::Row, "Reason for amendment", v.reason});
        } else {
            if (r.status == ReportStatus::Amended && !r.amendment_reason.empty())
                blocks.push_back({Block::Row, "Reason for amendment", r.amendment_reason});
            para("Not signed: this is a draft and not a valid report until the endoscopist signs it.");
            blocks.push_back({Block::Row, "Signature", "______________________________   Date: ______________"});
        }
        if (!r.versions.empty()) {
            sub("Version history");
            for (const ReportVersion& v : r.versions) {
                std::string text = "signed by " + v.signed_by + ", " + when(v.signed_at);
                if (!v.reason.empty()) text += "; reason: " + v.reason;
                blocks.push_back({Block::Row, v.number > 1 ? "Amendment " + std::to_string(v.number - 1) + " (v" +
                                                                 std::to_string(v.number) + ")"
                                                           : "Version 1",
                                  text});
            }
        }
    }
};

// The annotation as vector paths (image pixel coordinates).
PdfOverlay overlay_for(const Annotation& a) {
    PdfOverlay o;
    switch (a.kind) {
    case AnnotationKind::Box:
        o.rings.push_back({{a.box.x, a.box.y}, {a.box.x2(), a.box.y}, {a.box.x2(), a.box.y2()}, {a.box.x, a.box.y2()}});
        break;
    case AnnotationKind::Polygon:
        o.rings = a.polygons;
        o.fill = true;
        break;
    case AnnotationKind::Mask:
        for (const Contour& c : trace_contours(a.mask)) o.rings.push_back(simplify_ring(c.points, 0.75));
        o.fill = true;
        break;
    case AnnotationKind::Point:
        o.points.push_back(a.point);
        break;
    }
    return o;
}

}  // namespace

std::string report_version_label(const Report& r) {
    const bool signed_now = r.status == ReportStatus::Final;
    if (r.version <= 1) return signed_now ? "Final, version 1" : "Draft, not signed";
    return "Amendment " + std::to_string(r.version - 1) + " (version " + std::to_string(r.version) + "), " +
           (signed_now ? "final" : "draft, not signed");
}

ReportPdf report_to_pdf(const Report& r, const ReportVocabulary& vocab, const std::vector<ReportImage>& images,
                        const ReportPdfOptions& options) {
    ReportPdf out;
    Writer w{r, vocab, {}, 0, 0};
    w.header_section();
    w.extent_section();
    w.preparation_section();
    w.findings_section();
    w.interventions_section();
    w.outcome_sections();

    // Key images: every image an evidence link names, in order of first mention,
    // with the linked annotations drawn over it.
    struct Key {
        std::string image;
        std::vector<std::pair<uint64_t, std::string>> marks;  // annotation id → label
        std::vector<std::string> refs;                          // "F1", "Appendiceal orifice"
    };
    std::vector<Key> keys;
    auto add_link = [&](const ImageLink& l, const std::string& label) {
        Key* k = nullptr;
        for (Key& e : keys)
            if (e.image == l.image) k = &e;
        if (!k) keys.push_back({l.image, {}, {}}), k = &keys.back();
        if (l.annotation_id) k->marks.push_back({l.annotation_id, label});
        if (std::find(k->refs.begin(), k->refs.end(), label) == k->refs.end()) k->refs.push_back(label);
    };
    if (r.extent.caecal_evidence.has_value())
        for (const ImageLink& l : *r.extent.caecal_evidence.value)
            add_link(l, l.landmark.empty() ? "caecum" : w.option("landmarks", l.landmark));
    for (const Finding& f : r.findings)
        if (f.evidence.has_value())
            for (const ImageLink& l : *f.evidence.value) add_link(l, f.id);

    std::vector<PdfImage> pdf_images;
    std::set<std::string> warned;
    for (const Key& k : keys) {
        PdfImage pi;
        pi.caption = k.image + ": " + join(k.refs, ", ");
        const ReportImage* file = nullptr;
        for (const ReportImage& b : images)
            if (b.name == k.image) file = &b;
        if (!file) {
            out.warnings.push_back("the report links image \"" + k.image + "\", which is not in the case");
            pi.caption += " (image not in the case)";
            pdf_images.push_back(std::move(pi));
            continue;
        }
        DecodeResult d = decode_image(file->bytes.data(), file->bytes.size());
        if (!d.ok) {
            out.warnings.push_back("image \"" + k.image + "\" could not be read: " + d.error);
            pi.caption += " (image could not be read)";
            pdf_images.push_back(std::move(pi));
            continue;
        }
        const int original_w = d.image.width;
        FitResult fit = fit_to_max_dimension(std::move(d.image), std::max(64, options.max_image_side));
        pi.width = fit.image.width;
        pi.height = fit.image.height;
        pi.scale = double(pi.width) / original_w;
        pi.jpeg = encode_jpeg(fit.image, options.jpeg_quality);
        const ImageAnnotations* ann = file->annotations;
        for (const auto& [id, label] : k.marks) {
            const Annotation* a = ann ? ann->find(id) : nullptr;
            if (!a) {
                if (warned.insert(k.image + "#" + std::to_string(id)).second)
                    out.warnings.push_back("image \"" + k.image + "\" has no annotation " + std::to_string(id) +
                                           " (linked by " + label + ")");
                continue;
            }
            PdfOverlay o = overlay_for(*a);
            o.label = label;
            o.emphasis = true;
            o.color = kLandmarkColor;  // caecal landmarks; findings get a colour each
            for (size_t i = 0; i < r.findings.size(); ++i)
                if (r.findings[i].id == label) o.color = kPalette[i % (sizeof kPalette / sizeof kPalette[0])];
            pi.overlays.push_back(std::move(o));
        }
        pdf_images.push_back(std::move(pi));
    }
    if (!pdf_images.empty()) w.heading("Key images");
    if (!pdf_images.empty()) w.blocks.push_back({Block::Images, "", ""});
    w.signature_section();

    const std::string procedure = r.header.procedure.has_value() ? w.option("procedures", *r.header.procedure.value) : "Endoscopy";
    PdfFlow::Style style;
    style.title = procedure + " report";
    style.author = r.header.endoscopist.value_or("");
    style.header_left = "EndoScribe · " + procedure + " report" + (r.header.date.has_value() ? " · " + *r.header.date.value : "");
    style.header_right = report_version_label(r);
    style.footer_left = report_version_label(r);
    if (r.status != ReportStatus::Final) style.watermark = "DRAFT";
    PdfFlow flow(options.fonts, style);
    flow.title(procedure + " report");
    if (!options.institution.empty()) flow.paragraph(options.institution, PdfTextStyle::Small);
    if (r.version > 1) flow.paragraph(report_version_label(r), PdfTextStyle::Bold);
    if (w.ai_pending > 0)
        flow.paragraph(std::to_string(w.ai_pending) + (w.ai_pending == 1 ? " value was" : " values were") +
                           " suggested by the AI assistant and not yet accepted by the endoscopist (marked NOT YET "
                           "ACCEPTED). AI suggestions are not a diagnosis.",
                       PdfTextStyle::Bold);
    else if (w.ai_values > 0)
        flow.paragraph("Values marked [AI suggestion] were proposed by the AI assistant and reviewed by the endoscopist.",
                       PdfTextStyle::Small);
    for (size_t i = 0; i < w.blocks.size(); ++i) {
        const Block& b = w.blocks[i];
        switch (b.kind) {
        case Block::Heading: flow.heading(b.a); break;
        case Block::Subheading: flow.space(3), flow.paragraph(b.a, PdfTextStyle::Bold); break;
        case Block::Row: flow.row(b.a, b.b); break;
        case Block::Paragraph: flow.paragraph(b.a); break;
        case Block::Note: flow.paragraph(b.a, PdfTextStyle::Small); break;
        case Block::Space: flow.space(8); break;
        case Block::Images: flow.images(pdf_images, options.images_per_row); break;
        }
    }
    out.bytes = flow.finish();
    out.pages = flow.page_count();
    for (const std::string& s : flow.warnings()) out.warnings.push_back(s);
    if (out.bytes.empty()) {
        out.error = "the PDF could not be made: " + (flow.error().empty() ? std::string("unknown libharu failure") : flow.error());
        return out;
    }
    out.ok = true;
    return out;
}

}  // namespace es
