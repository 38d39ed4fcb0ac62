#include "assistant/box_parse.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace es {

bool parse_box_format(const std::string& s, BoxFormat* out) {
    if (s == "auto" || s.empty()) *out = BoxFormat::Auto;
    else if (s == "normalized_1" || s == "normalised_1" || s == "0-1") *out = BoxFormat::Normalized1;
    else if (s == "normalized_1000" || s == "normalised_1000" || s == "0-1000") *out = BoxFormat::Normalized1000;
    else if (s == "pixels" || s == "pixel") *out = BoxFormat::Pixels;
    else if (s == "paligemma_loc" || s == "loc") *out = BoxFormat::PaliGemmaLoc;
    else return false;
    return true;
}

static bool finish_box(float a, float b, float c, float d, const BoxParseOptions& o, BoxFormat f, ParsedBox* out) {
    float x1 = a, y1 = b, x2 = c, y2 = d;
    if (o.order == BoxOrder::YXYX && f != BoxFormat::PaliGemmaLoc) { x1 = b; y1 = a; x2 = d; y2 = c; }
    const float W = float(o.image_width), H = float(o.image_height);
    float sx = 1, sy = 1;
    switch (f) {
        case BoxFormat::Normalized1: sx = W; sy = H; break;
        case BoxFormat::Normalized1000: sx = W / 1000.0f; sy = H / 1000.0f; break;
        case BoxFormat::PaliGemmaLoc: sx = W / 1024.0f; sy = H / 1024.0f; break;
        default: break;
    }
    x1 *= sx; x2 *= sx; y1 *= sy; y2 *= sy;
    if (x1 > x2) std::swap(x1, x2);
    if (y1 > y2) std::swap(y1, y2);
    x1 = std::clamp(x1, 0.0f, W); x2 = std::clamp(x2, 0.0f, W);
    y1 = std::clamp(y1, 0.0f, H); y2 = std::clamp(y2, 0.0f, H);
    if (!(x2 - x1 > 0) || !(y2 - y1 > 0)) return false;
    out->x1 = x1; out->y1 = y1; out->x2 = x2; out->y2 = y2;
    out->format = f;
    return true;
}

// The label next to a box: the "label" value of the JSON object around it, or
// the words after a PaliGemma box up to ';' or the end of the line.
static std::string label_near(const std::string& t, size_t begin, size_t end, bool after_words) {
    if (after_words) {
        size_t s = end;
        while (s < t.size() && t[s] == ' ') ++s;
        size_t e = s;
        while (e < t.size() && t[e] != ';' && t[e] != '\n' && t[e] != '<') ++e;
        while (e > s && t[e - 1] == ' ') --e;
        return t.substr(s, e - s);
    }
    // Inside a {...}: look for "label": "..." within the enclosing braces.
    const size_t ob = t.rfind('{', begin);
    const size_t cb = t.find('}', end);
    if (ob == std::string::npos || cb == std::string::npos || t.find('}', ob) < begin) return {};
    const std::string obj = t.substr(ob, cb - ob);
    for (const char* key : {"\"label\"", "\"name\"", "\"class\""}) {
        size_t k = obj.find(key);
        if (k == std::string::npos) continue;
        size_t q1 = obj.find('"', obj.find(':', k) + 1);
        size_t q2 = q1 == std::string::npos ? q1 : obj.find('"', q1 + 1);
        if (q2 != std::string::npos) return obj.substr(q1 + 1, q2 - q1 - 1);
    }
    return {};
}

std::vector<ParsedBox> parse_boxes(const std::string& t, const BoxParseOptions& o) {
    std::vector<ParsedBox> boxes;
    if (o.image_width <= 0 || o.image_height <= 0) return boxes;
    // PaliGemma: four consecutive <locNNNN>.
    if (o.format == BoxFormat::Auto || o.format == BoxFormat::PaliGemmaLoc) {
        size_t p = 0;
        while ((p = t.find("<loc", p)) != std::string::npos) {
            int v[4];
            size_t q = p;
            int n = 0;
            while (n < 4 && t.compare(q, 4, "<loc") == 0 && q + 9 <= t.size() && t[q + 8] == '>') {
                bool digits = true;
                for (int k = 4; k < 8; ++k) digits = digits && isdigit(static_cast<unsigned char>(t[q + size_t(k)]));
                if (!digits) break;
                v[n++] = std::atoi(t.substr(q + 4, 4).c_str());
                q += 9;
            }
            if (n == 4) {
                ParsedBox b;
                if (v[0] < 1024 && v[1] < 1024 && v[2] < 1024 && v[3] < 1024 &&
                    finish_box(float(v[1]), float(v[0]), float(v[3]), float(v[2]), o, BoxFormat::PaliGemmaLoc, &b)) {
                    b.begin = p;
                    b.end = q;
                    b.label = label_near(t, p, q, true);
                    boxes.push_back(b);
                }
                p = q;
            } else {
                p += 4;
            }
        }
        if (o.format == BoxFormat::PaliGemmaLoc) return boxes;
    }
    // Bracketed: [a, b, c, d] with numbers.
    size_t p = 0;
    while ((p = t.find('[', p)) != std::string::npos) {
        const size_t close = t.find(']', p);
        if (close == std::string::npos) break;
        const std::string inner = t.substr(p + 1, close - p - 1);
        float v[4];
        int n = 0;
        const char* s = inner.c_str();
        char* endp = nullptr;
        bool ok = true;
        while (*s && ok) {
            while (*s == ' ' || *s == '\n' || *s == '\t') ++s;
            if (!*s) break;
            if (n == 4) { ok = false; break; }
            float x = std::strtof(s, &endp);
            if (endp == s || !std::isfinite(x)) { ok = false; break; }
            v[n++] = x;
            s = endp;
            while (*s == ' ') ++s;
            if (*s == ',') ++s;
            else if (*s) { ok = false; }
        }
        if (ok && n == 4) {
            BoxFormat f = o.format;
            const float mx = std::max(std::max(v[0], v[1]), std::max(v[2], v[3]));
            const float mn = std::min(std::min(v[0], v[1]), std::min(v[2], v[3]));
            if (f == BoxFormat::Auto) f = mx <= 1.0f ? BoxFormat::Normalized1 : mx <= 1000.0f ? BoxFormat::Normalized1000 : BoxFormat::Pixels;
            bool in_range = mn >= 0.0f && (f != BoxFormat::Normalized1 || mx <= 1.0f) &&
                            (f != BoxFormat::Normalized1000 || mx <= 1000.0f);
            ParsedBox b;
            if (in_range && finish_box(v[0], v[1], v[2], v[3], o, f, &b)) {
                b.begin = p;
                b.end = close + 1;
                b.label = label_near(t, p, close + 1, false);
                boxes.push_back(b);
            }
            p = close + 1;
        } else {
            p += 1;  // e.g. the '[' of an enclosing JSON list: look inside it
        }
    }
    std::sort(boxes.begin(), boxes.end(), [](const ParsedBox& a, const ParsedBox& b) { return a.begin < b.begin; });
    return boxes;
}

std::string format_box(float x1, float y1, float x2, float y2, const BoxParseOptions& o) {
    const float W = float(std::max(o.image_width, 1)), H = float(std::max(o.image_height, 1));
    char buf[128];
    if (o.format == BoxFormat::PaliGemmaLoc) {
        auto bin = [](float v, float size) { return std::clamp(int(std::floor(v / size * 1024.0f)), 0, 1023); };
        std::snprintf(buf, sizeof buf, "<loc%04d><loc%04d><loc%04d><loc%04d>", bin(y1, H), bin(x1, W), bin(y2, H), bin(x2, W));
        return buf;
    }
    float a = x1, b = y1, c = x2, d = y2;
    if (o.format == BoxFormat::Normalized1) { a /= W; c /= W; b /= H; d /= H; }
    if (o.format == BoxFormat::Normalized1000 || o.format == BoxFormat::Auto) {
        a = std::round(a / W * 1000); c = std::round(c / W * 1000); b = std::round(b / H * 1000); d = std::round(d / H * 1000);
    }
    if (o.format == BoxFormat::Pixels) { a = std::round(a); b = std::round(b); c = std::round(c); d = std::round(d); }
    if (o.order == BoxOrder::YXYX) { std::swap(a, b); std::swap(c, d); }
    if (o.format == BoxFormat::Normalized1)
        std::snprintf(buf, sizeof buf, "[%.3f, %.3f, %.3f, %.3f]", a, b, c, d);
    else
        std::snprintf(buf, sizeof buf, "[%d, %d, %d, %d]", int(a), int(b), int(c), int(d));
    return buf;
}

}  // namespace es
