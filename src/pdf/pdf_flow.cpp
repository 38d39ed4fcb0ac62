// pdf_flow.cpp: see pdf_flow.h. Coordinates: PDF points (1/72 inch), origin at
// the bottom-left of the page; the flow keeps a cursor `y` that moves down.
#include "pdf/pdf_flow.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include <hpdf.h>
// libharu 2.3.0 (Debian's) can load a TrueType font only from a file; 2.4 adds
// HPDF_LoadTTFontFromMemory. These internal headers (installed with the library)
// let us do what that function does, from bytes in memory.
#include <hpdf_doc.h>
#include <hpdf_fontdef.h>

namespace es {
namespace {

constexpr double kPageW = 595.276, kPageH = 841.89;  // A4
constexpr double kMarginX = 50, kMarginTop = 64, kMarginBottom = 56;
constexpr double kContentW = kPageW - 2 * kMarginX;
constexpr double kLabelW = 150;  // label column of rows

struct StyleSpec {
    bool bold;
    double size, leading;
    PdfColor color;
};

StyleSpec spec(PdfTextStyle s) {
    switch (s) {
    case PdfTextStyle::Bold: return {true, 10, 13.5, {0, 0, 0}};
    case PdfTextStyle::Small: return {false, 8, 10.5, {0.3f, 0.3f, 0.3f}};
    case PdfTextStyle::Title: return {true, 17, 22, {0.05f, 0.2f, 0.4f}};
    case PdfTextStyle::Body: break;
    }
    return {false, 10, 13.5, {0, 0, 0}};
}

void on_error(HPDF_STATUS error_no, HPDF_STATUS detail_no, void* user);

// Decodes one UTF-8 sequence at s[i]; returns its length (0 when invalid) and the code point.
size_t utf8_next(const std::string& s, size_t i, uint32_t& cp) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n;
    if (c < 0x80) {
        cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        n = 2;
        cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3;
        cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k) {
        const unsigned char d = static_cast<unsigned char>(s[i + k]);
        if ((d & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (d & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

// UTF-8 → Windows-1252 for the base-14 fallback font; what it lacks becomes '?'.
std::string to_win_ansi(const std::string& s) {
    static const struct {
        uint32_t cp;
        unsigned char b;
    } extra[] = {{0x20AC, 0x80}, {0x201A, 0x82}, {0x0192, 0x83}, {0x201E, 0x84}, {0x2026, 0x85}, {0x2020, 0x86},
                 {0x2021, 0x87}, {0x02C6, 0x88}, {0x2030, 0x89}, {0x0160, 0x8A}, {0x2039, 0x8B}, {0x0152, 0x8C},
                 {0x017D, 0x8E}, {0x2018, 0x91}, {0x2019, 0x92}, {0x201C, 0x93}, {0x201D, 0x94}, {0x2022, 0x95},
                 {0x2013, 0x96}, {0x2014, 0x97}, {0x02DC, 0x98}, {0x2122, 0x99}, {0x0161, 0x9A}, {0x203A, 0x9B},
                 {0x0153, 0x9C}, {0x017E, 0x9E}, {0x0178, 0x9F}};
    std::string out;
    for (size_t i = 0; i < s.size();) {
        uint32_t cp = 0;
        size_t n = utf8_next(s, i, cp);
        if (!n) {
            out += '?';
            ++i;
            continue;
        }
        i += n;
        if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF)) {
            out += char(cp);
            continue;
        }
        char b = '?';
        for (const auto& e : extra)
            if (e.cp == cp) b = char(e.b);
        if (cp == 0x2265) {  // ≥ is common in reports and missing from WinAnsi
            out += ">=";
            continue;
        }
        if (cp == 0x2264) {
            out += "<=";
            continue;
        }
        out += b;
    }
    return out;
}

}  // namespace

std::string pdf_clean_text(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        uint32_t cp = 0;
        size_t n = utf8_next(text, i, cp);
        if (!n) {
            out += "\xEF\xBF\xBD";  // U+FFFD
            ++i;
            continue;
        }
        if (cp == '\t') out += ' ';
        else if (cp == '\n' || (cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp < 0xA0))) out.append(text, i, n);
        i += n;
    }
    return out;
}

struct PdfFlow::Impl {
    HPDF_Doc doc = nullptr;
    HPDF_Font regular = nullptr, bold = nullptr;
    bool utf8 = false;
    Style style;
    std::vector<HPDF_Page> pages;
    HPDF_Page page = nullptr;
    double y = 0;
    std::string error;
    std::vector<std::string> warnings;
    HPDF_ExtGState translucent = nullptr;

    void fail(const std::string& what) {
        if (error.empty()) error = what;
    }
    bool ok() const { return doc && error.empty(); }

    // Loads a TrueType font from bytes into the document (what libharu's
    // LoadTTFontFromStream does for a file), returning its name or nullptr.
    const char* load_font(const std::vector<uint8_t>& bytes) {
        if (bytes.empty() || bytes.size() > (64u << 20)) return nullptr;
        HPDF_Stream stream = HPDF_MemStream_New(doc->mmgr, 64 * 1024);
        if (!stream) return nullptr;
        if (HPDF_Stream_Write(stream, bytes.data(), HPDF_UINT(bytes.size())) != HPDF_OK) {
            HPDF_Stream_Free(stream);
            return nullptr;
        }
        HPDF_FontDef def = HPDF_TTFontDef_Load(doc->mmgr, stream, HPDF_TRUE);  // owns the stream from here
        if (!def) return nullptr;
        if (HPDF_FontDef existing = HPDF_Doc_FindFontDef(doc, def->base_font)) {
            HPDF_FontDef_Free(def);
            return existing->base_font;
        }
        if (HPDF_List_Add(doc->fontdef_list, def) != HPDF_OK) {
            HPDF_FontDef_Free(def);
            return nullptr;
        }
        // Subset tag ("HPDFAA+DejaVuSans"), incremented per embedded font as libharu does.
        if (doc->ttfont_tag[0] == 0) {
            std::memcpy(doc->ttfont_tag, "HPDFAA", 6);
        } else {
            for (int i = 5; i >= 0; --i) {
                if (++doc->ttfont_tag[i] > 'Z') doc->ttfont_tag[i] = 'A';
                else break;
            }
        }
        HPDF_TTFontDef_SetTagName(def, reinterpret_cast<char*>(doc->ttfont_tag));
        return def->base_font;
    }

    void setup_fonts(const PdfFonts& fonts) {
        if (!fonts.regular.empty()) {
            HPDF_UseUTFEncodings(doc);
            const char* name = load_font(fonts.regular);
            if (name) regular = HPDF_GetFont(doc, name, "UTF-8");
            if (regular && !fonts.bold.empty()) {
                const char* bold_name = load_font(fonts.bold);
                if (bold_name) bold = HPDF_GetFont(doc, bold_name, "UTF-8");
            }
            if (regular && !bold) bold = regular;
            if (regular) {
                utf8 = true;
                return;
            }
            warnings.push_back("the TrueType font could not be loaded (" + error + ")");
            HPDF_ResetError(doc);
            error.clear();
        }
        warnings.push_back(
            "no TrueType font: the PDF uses Helvetica, which has Western European characters only (others print as '?')");
        regular = HPDF_GetFont(doc, "Helvetica", "WinAnsiEncoding");
        bold = HPDF_GetFont(doc, "Helvetica-Bold", "WinAnsiEncoding");
    }

    std::string encode(const std::string& s) const { return utf8 ? s : to_win_ansi(s); }
    HPDF_Font font(bool b) const { return b ? bold : regular; }
    // Width in points of already encoded text.
    double width(const std::string& encoded, bool b, double size) const {
        if (encoded.empty()) return 0;
        HPDF_TextWidth w = HPDF_Font_TextWidth(font(b), reinterpret_cast<const HPDF_BYTE*>(encoded.data()),
                                               HPDF_UINT(encoded.size()));
        return w.width * size / 1000.0;
    }

    void text_at(HPDF_Page p, double x, double yy, const std::string& encoded, bool b, double size, PdfColor c) {
        if (encoded.empty()) return;
        HPDF_Page_BeginText(p);
        HPDF_Page_SetFontAndSize(p, font(b), HPDF_REAL(size));
        HPDF_Page_SetRGBFill(p, c.r, c.g, c.b);
        HPDF_Page_TextOut(p, HPDF_REAL(x), HPDF_REAL(yy), encoded.c_str());
        HPDF_Page_EndText(p);
    }

    void new_page() {
        if (!ok()) return;
        page = HPDF_AddPage(doc);
        if (!page) return fail("could not add a page");
        HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
        pages.push_back(page);
        if (!style.watermark.empty()) {
            // Diagonal, light grey, beneath everything drawn later on the page.
            const std::string w = encode(style.watermark);
            const double size = 110;
            const double len = width(w, true, size);
            const double a = std::atan2(kPageH, kPageW);
            const double ca = std::cos(a), sa = std::sin(a);
            const double cx = kPageW / 2 - (len / 2) * ca + (size * 0.35) * sa;
            const double cy = kPageH / 2 - (len / 2) * sa - (size * 0.35) * ca;
            HPDF_Page_BeginText(page);
            HPDF_Page_SetFontAndSize(page, bold, HPDF_REAL(size));
            HPDF_Page_SetRGBFill(page, 0.88f, 0.88f, 0.88f);
            HPDF_Page_SetTextMatrix(page, HPDF_REAL(ca), HPDF_REAL(sa), HPDF_REAL(-sa), HPDF_REAL(ca), HPDF_REAL(cx),
                                    HPDF_REAL(cy));
            HPDF_Page_ShowText(page, w.c_str());
            HPDF_Page_EndText(page);
        }
        // Running header.
        const double hy = kPageH - 36;
        text_at(page, kMarginX, hy, encode(style.header_left), false, 8, {0.35f, 0.35f, 0.35f});
        const std::string right = encode(style.header_right);
        text_at(page, kPageW - kMarginX - width(right, true, 8), hy, right, true, 8, {0.6f, 0.1f, 0.1f});
        HPDF_Page_SetRGBStroke(page, 0.7f, 0.7f, 0.7f);
        HPDF_Page_SetLineWidth(page, 0.5f);
        HPDF_Page_MoveTo(page, HPDF_REAL(kMarginX), HPDF_REAL(hy - 5));
        HPDF_Page_LineTo(page, HPDF_REAL(kPageW - kMarginX), HPDF_REAL(hy - 5));
        HPDF_Page_Stroke(page);
        y = kPageH - kMarginTop;
    }

    void ensure(double h) {
        if (!page || y - h < kMarginBottom) new_page();
    }

    // Splits a paragraph (no '\n') into lines of at most `max_w` points.
    std::vector<std::string> wrap(const std::string& paragraph, bool b, double size, double max_w) const {
        std::vector<std::string> lines;
        std::string line;
        double line_w = 0;
        const double space_w = width(encode(" "), b, size);
        size_t i = 0;
        while (i <= paragraph.size()) {
            size_t j = paragraph.find(' ', i);
            if (j == std::string::npos) j = paragraph.size();
            std::string word = encode(paragraph.substr(i, j - i));
            i = j + 1;
            if (word.empty()) {
                if (j >= paragraph.size()) break;
                continue;
            }
            double w = width(word, b, size);
            if (!line.empty() && line_w + space_w + w <= max_w) {
                line += ' ';
                line += word;
                line_w += space_w + w;
                continue;
            }
            if (!line.empty()) lines.push_back(line);
            line.clear();
            line_w = 0;
            // A word wider than the column is broken between characters.
            while (w > max_w) {
                size_t cut = 0, k = 0;
                double cw = 0;
                while (k < word.size()) {
                    uint32_t cp;
                    size_t n = utf8 ? utf8_next(word, k, cp) : 1;
                    if (!n) n = 1;
                    const double chw = width(word.substr(k, n), b, size);
                    if (cw + chw > max_w && cut > 0) break;
                    cw += chw;
                    k += n;
                    cut = k;
                }
                lines.push_back(word.substr(0, cut));
                word = word.substr(cut);
                w = width(word, b, size);
            }
            line = word;
            line_w = w;
            if (j >= paragraph.size()) break;
        }
        if (!line.empty()) lines.push_back(line);
        if (lines.empty()) lines.push_back("");
        return lines;
    }

    std::vector<std::string> wrap_text(const std::string& text, bool b, double size, double max_w) const {
        std::vector<std::string> out;
        const std::string clean = pdf_clean_text(text);
        size_t i = 0;
        while (true) {
            size_t j = clean.find('\n', i);
            std::vector<std::string> part = wrap(clean.substr(i, j == std::string::npos ? std::string::npos : j - i), b, size, max_w);
            out.insert(out.end(), part.begin(), part.end());
            if (j == std::string::npos) break;
            i = j + 1;
        }
        return out;
    }

    void draw_overlays(const PdfImage& img, double x0, double y_top, double s) {
        // s: points per JPEG pixel; overlay coordinates are image pixels * img.scale.
        const double k = s * img.scale;
        HPDF_Page_GSave(page);
        HPDF_Page_Rectangle(page, HPDF_REAL(x0), HPDF_REAL(y_top - img.height * s), HPDF_REAL(img.width * s),
                            HPDF_REAL(img.height * s));
        HPDF_Page_Clip(page);
        HPDF_Page_EndPath(page);
        auto px = [&](const Point& p) { return HPDF_REAL(x0 + p.x * k); };
        auto py = [&](const Point& p) { return HPDF_REAL(y_top - p.y * k); };
        for (const PdfOverlay& o : img.overlays) {
            auto path = [&] {
                for (const Polygon& ring : o.rings) {
                    if (ring.size() < 2) continue;
                    HPDF_Page_MoveTo(page, px(ring[0]), py(ring[0]));
                    for (size_t i = 1; i < ring.size(); ++i) HPDF_Page_LineTo(page, px(ring[i]), py(ring[i]));
                    HPDF_Page_ClosePath(page);
                }
            };
            bool any_ring = false;
            for (const Polygon& ring : o.rings) any_ring |= ring.size() >= 2;
            if (any_ring && o.fill && translucent) {
                HPDF_Page_GSave(page);
                HPDF_Page_SetExtGState(page, translucent);
                HPDF_Page_SetRGBFill(page, o.color.r, o.color.g, o.color.b);
                path();
                HPDF_Page_Eofill(page);
                HPDF_Page_GRestore(page);
            }
            HPDF_Page_SetRGBStroke(page, o.color.r, o.color.g, o.color.b);
            HPDF_Page_SetLineWidth(page, o.emphasis ? 2.0f : 1.0f);
            if (any_ring) {
                path();
                HPDF_Page_Stroke(page);
            }
            for (const Point& p : o.points) {
                HPDF_Page_Circle(page, px(p), py(p), 3);
                HPDF_Page_Stroke(page);
            }
            if (!o.label.empty()) {
                double lx = 1e18, ly = 1e18;
                for (const Polygon& ring : o.rings)
                    for (const Point& p : ring) lx = std::min(lx, p.x), ly = std::min(ly, p.y);
                for (const Point& p : o.points) lx = std::min(lx, p.x), ly = std::min(ly, p.y);
                if (lx > 1e17) continue;
                const std::string label = encode(o.label);
                const double size = 7, tw = width(label, true, size);
                double bx = std::max(x0, x0 + lx * k), by = y_top - ly * k;
                bx = std::min(bx, x0 + img.width * s - tw - 3);
                by = std::min(by + size + 2, y_top);  // above the shape's top edge, inside the image
                HPDF_Page_SetRGBFill(page, o.color.r, o.color.g, o.color.b);
                HPDF_Page_Rectangle(page, HPDF_REAL(bx), HPDF_REAL(by - size - 2), HPDF_REAL(tw + 3), HPDF_REAL(size + 2));
                HPDF_Page_Fill(page);
                text_at(page, bx + 1.5, by - size, label, true, size, {1, 1, 1});
            }
        }
        HPDF_Page_GRestore(page);
    }
};

namespace {
void on_error(HPDF_STATUS error_no, HPDF_STATUS detail_no, void* user) {
    auto* impl = static_cast<PdfFlow::Impl*>(user);
    char buf[96];
    std::snprintf(buf, sizeof buf, "libharu error 0x%04X (detail %u)", unsigned(error_no), unsigned(detail_no));
    impl->fail(buf);
}
}  // namespace

PdfFlow::PdfFlow(const PdfFonts& fonts, const Style& style) : impl_(new Impl) {
    Impl& m = *impl_;
    m.style = style;
    m.style.header_left = pdf_clean_text(style.header_left);
    m.style.header_right = pdf_clean_text(style.header_right);
    m.style.footer_left = pdf_clean_text(style.footer_left);
    m.style.watermark = pdf_clean_text(style.watermark);
    m.doc = HPDF_New(on_error, &m);
    if (!m.doc) {
        m.error = "libharu could not start a document (out of memory)";
        return;
    }
    // Without zlib (the WebAssembly build) this refuses quietly and streams stay uncompressed.
    HPDF_SetCompressionMode(m.doc, HPDF_COMP_ALL);
    m.setup_fonts(fonts);
    if (!m.regular || !m.bold) m.fail("no font could be loaded");
    m.translucent = HPDF_CreateExtGState(m.doc);
    if (m.translucent) HPDF_ExtGState_SetAlphaFill(m.translucent, 0.25f);
    if (!style.title.empty()) HPDF_SetInfoAttr(m.doc, HPDF_INFO_TITLE, m.encode(pdf_clean_text(style.title)).c_str());
    if (!style.author.empty()) HPDF_SetInfoAttr(m.doc, HPDF_INFO_AUTHOR, m.encode(pdf_clean_text(style.author)).c_str());
    HPDF_SetInfoAttr(m.doc, HPDF_INFO_CREATOR, "EndoScribe");
}

PdfFlow::~PdfFlow() {
    if (impl_->doc) HPDF_Free(impl_->doc);
}

void PdfFlow::title(const std::string& text) {
    Impl& m = *impl_;
    const StyleSpec s = spec(PdfTextStyle::Title);
    auto lines = m.wrap_text(text, true, s.size, kContentW);
    m.ensure(s.leading * lines.size() + 6);
    if (!m.ok()) return;
    for (const std::string& l : lines) {
        m.y -= s.leading;
        m.text_at(m.page, kMarginX, m.y + 5, l, true, s.size, s.color);
    }
    m.y -= 6;
}

void PdfFlow::heading(const std::string& text) {
    Impl& m = *impl_;
    const double size = 12.5, leading = 17;
    // Keep the heading with at least three lines of what follows.
    m.ensure(leading + 10 + 3 * 13.5);
    if (!m.ok()) return;
    m.y -= 8 + leading;
    m.text_at(m.page, kMarginX, m.y + 4, m.encode(pdf_clean_text(text)), true, size, {0.05f, 0.2f, 0.4f});
    HPDF_Page_SetRGBStroke(m.page, 0.05f, 0.2f, 0.4f);
    HPDF_Page_SetLineWidth(m.page, 0.8f);
    HPDF_Page_MoveTo(m.page, HPDF_REAL(kMarginX), HPDF_REAL(m.y + 1));
    HPDF_Page_LineTo(m.page, HPDF_REAL(kMarginX + kContentW), HPDF_REAL(m.y + 1));
    HPDF_Page_Stroke(m.page);
    m.y -= 4;
}

void PdfFlow::row(const std::string& label, const std::string& value) {
    Impl& m = *impl_;
    const StyleSpec s = spec(PdfTextStyle::Body);
    auto label_lines = m.wrap_text(label, true, s.size, kLabelW - 8);
    auto value_lines = m.wrap_text(value, false, s.size, kContentW - kLabelW);
    const size_t n = std::max(label_lines.size(), value_lines.size());
    for (size_t i = 0; i < n; ++i) {
        m.ensure(s.leading);
        if (!m.ok()) return;
        m.y -= s.leading;
        if (i < label_lines.size()) m.text_at(m.page, kMarginX, m.y + 3, label_lines[i], true, s.size, {0.25f, 0.25f, 0.25f});
        if (i < value_lines.size()) m.text_at(m.page, kMarginX + kLabelW, m.y + 3, value_lines[i], false, s.size, s.color);
    }
    m.y -= 1.5;
}

void PdfFlow::paragraph(const std::string& text, PdfTextStyle style, double indent) {
    Impl& m = *impl_;
    const StyleSpec s = spec(style);
    indent = std::max(0.0, std::min(indent, kContentW / 2));
    for (const std::string& l : m.wrap_text(text, s.bold, s.size, kContentW - indent)) {
        m.ensure(s.leading);
        if (!m.ok()) return;
        m.y -= s.leading;
        m.text_at(m.page, kMarginX + indent, m.y + 3, l, s.bold, s.size, s.color);
    }
    m.y -= 2;
}

void PdfFlow::images(const std::vector<PdfImage>& images, int per_row) {
    Impl& m = *impl_;
    per_row = std::max(1, std::min(per_row, 4));
    const double gap = 14, max_h = 210;
    const double cell_w = (kContentW - gap * (per_row - 1)) / per_row;
    const StyleSpec cap = spec(PdfTextStyle::Small);
    for (size_t first = 0; first < images.size(); first += size_t(per_row)) {
        const size_t last = std::min(images.size(), first + size_t(per_row));
        // Row height: the tallest image plus its caption.
        double row_h = 0;
        std::vector<double> scales;
        std::vector<std::vector<std::string>> captions;
        for (size_t i = first; i < last; ++i) {
            const PdfImage& img = images[i];
            double s = img.width > 0 && img.height > 0 ? std::min(cell_w / img.width, max_h / img.height) : 0;
            scales.push_back(s);
            captions.push_back(m.wrap_text(img.caption, false, cap.size, cell_w));
            row_h = std::max(row_h, img.height * s + 4 + cap.leading * captions.back().size());
        }
        m.ensure(row_h + 8);
        if (!m.ok()) return;
        const double top = m.y - 6;
        for (size_t i = first; i < last; ++i) {
            const PdfImage& img = images[i];
            const double s = scales[i - first];
            const double x = kMarginX + (i - first) * (cell_w + gap);
            double cy = top;
            if (s > 0 && !img.jpeg.empty()) {
                HPDF_Image im = HPDF_LoadJpegImageFromMem(m.doc, img.jpeg.data(), HPDF_UINT(img.jpeg.size()));
                if (!im) return m.fail("an image could not be embedded (" + m.error + ")");
                HPDF_Page_DrawImage(m.page, im, HPDF_REAL(x), HPDF_REAL(top - img.height * s), HPDF_REAL(img.width * s),
                                    HPDF_REAL(img.height * s));
                m.draw_overlays(img, x, top, s);
                cy = top - img.height * s - 4;
            }
            for (const std::string& l : captions[i - first]) {
                cy -= cap.leading;
                m.text_at(m.page, x, cy + 3, l, false, cap.size, cap.color);
            }
        }
        m.y = top - row_h - 6;
    }
}

void PdfFlow::space(double points) {
    Impl& m = *impl_;
    if (!m.page) return;
    m.y -= points;
    if (m.y < kMarginBottom) m.new_page();
}

void PdfFlow::rule() {
    Impl& m = *impl_;
    m.ensure(8);
    if (!m.ok()) return;
    m.y -= 4;
    HPDF_Page_SetRGBStroke(m.page, 0.6f, 0.6f, 0.6f);
    HPDF_Page_SetLineWidth(m.page, 0.5f);
    HPDF_Page_MoveTo(m.page, HPDF_REAL(kMarginX), HPDF_REAL(m.y));
    HPDF_Page_LineTo(m.page, HPDF_REAL(kMarginX + kContentW), HPDF_REAL(m.y));
    HPDF_Page_Stroke(m.page);
    m.y -= 4;
}

void PdfFlow::keep(double points) { impl_->ensure(points); }

std::vector<uint8_t> PdfFlow::finish() {
    Impl& m = *impl_;
    if (!m.page) m.new_page();
    if (!m.ok()) return {};
    const size_t n = m.pages.size();
    const std::string left = m.encode(m.style.footer_left);
    for (size_t i = 0; i < n; ++i) {
        HPDF_Page p = m.pages[i];
        const double fy = 30;
        HPDF_Page_SetRGBStroke(p, 0.7f, 0.7f, 0.7f);
        HPDF_Page_SetLineWidth(p, 0.5f);
        HPDF_Page_MoveTo(p, HPDF_REAL(kMarginX), HPDF_REAL(fy + 12));
        HPDF_Page_LineTo(p, HPDF_REAL(kPageW - kMarginX), HPDF_REAL(fy + 12));
        HPDF_Page_Stroke(p);
        m.text_at(p, kMarginX, fy, left, false, 8, {0.35f, 0.35f, 0.35f});
        const std::string num = m.encode("page " + std::to_string(i + 1) + " of " + std::to_string(n));
        m.text_at(p, kPageW - kMarginX - m.width(num, false, 8), fy, num, false, 8, {0.35f, 0.35f, 0.35f});
    }
    if (!m.ok()) return {};
    if (HPDF_SaveToStream(m.doc) != HPDF_OK || !m.ok()) {
        m.fail("the PDF could not be written");
        return {};
    }
    HPDF_UINT32 size = HPDF_GetStreamSize(m.doc);
    std::vector<uint8_t> out(size);
    HPDF_UINT32 got = size;
    if (size == 0 || HPDF_ReadFromStream(m.doc, out.data(), &got) != HPDF_OK || got != size) {
        // HPDF_ReadFromStream reports HPDF_STREAM_EOF after the last byte; accept a full read.
        if (got != size || size == 0) {
            m.fail("the PDF could not be read back from libharu");
            return {};
        }
    }
    return out;
}

int PdfFlow::page_count() const { return int(impl_->pages.size()); }
const std::string& PdfFlow::error() const { return impl_->error; }
const std::vector<std::string>& PdfFlow::warnings() const { return impl_->warnings; }

}  // namespace es
