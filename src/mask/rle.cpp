#include "mask/rle.h"

#include <algorithm>

namespace es {

static void set_error(std::string* e, const std::string& msg) {
    if (e) *e = msg;
}

Rle rle_encode(const Mask& m) {
    Rle r;
    r.height = m.height;
    r.width = m.width;
    uint8_t current = 0;
    uint32_t run = 0;
    for (int x = 0; x < m.width; ++x)
        for (int y = 0; y < m.height; ++y) {
            uint8_t v = m.at(x, y) ? 1 : 0;
            if (v != current) {
                r.counts.push_back(run);
                run = 0;
                current = v;
            }
            ++run;
        }
    r.counts.push_back(run);
    return r;
}

bool rle_validate(const Rle& rle, std::string* error) {
    if (rle.height < 0 || rle.width < 0) {
        set_error(error, "RLE size is negative");
        return false;
    }
    uint64_t total = 0, expected = uint64_t(rle.height) * uint64_t(rle.width);
    for (uint32_t c : rle.counts) {
        total += c;
        if (total > expected) {
            set_error(error, "RLE counts cover more than height*width = " + std::to_string(expected) + " pixels");
            return false;
        }
    }
    if (total != expected) {
        set_error(error, "RLE counts cover " + std::to_string(total) + " pixels, expected height*width = " +
                             std::to_string(expected));
        return false;
    }
    return true;
}

bool rle_decode(const Rle& rle, Mask& out, std::string* error) {
    if (!rle_validate(rle, error)) return false;
    Mask m(rle.width, rle.height);
    uint64_t pos = 0;
    uint8_t v = 0;
    for (uint32_t c : rle.counts) {
        for (uint32_t k = 0; k < c; ++k, ++pos) {
            if (v) {
                int x = int(pos / uint64_t(rle.height)), y = int(pos % uint64_t(rle.height));
                m.at(x, y) = 1;
            }
        }
        v ^= 1;
    }
    out = std::move(m);
    return true;
}

uint64_t rle_area(const Rle& rle) {
    uint64_t a = 0;
    for (size_t i = 1; i < rle.counts.size(); i += 2) a += rle.counts[i];
    return a;
}

void rle_bbox(const Rle& rle, double box[4]) {
    box[0] = box[1] = box[2] = box[3] = 0;
    if (rle.height <= 0) return;
    uint64_t h = uint64_t(rle.height), pos = 0;
    uint64_t xmin = UINT64_MAX, xmax = 0, ymin = UINT64_MAX, ymax = 0;
    for (size_t i = 0; i < rle.counts.size(); ++i) {
        uint64_t start = pos, len = rle.counts[i];
        pos += len;
        if (i % 2 == 0 || len == 0) continue;
        uint64_t end = pos - 1;
        uint64_t x0 = start / h, x1 = end / h;
        xmin = std::min(xmin, x0);
        xmax = std::max(xmax, x1);
        if (x0 != x1) {  // the run wraps a column: it spans every row
            ymin = 0;
            ymax = h - 1;
        } else {
            ymin = std::min(ymin, start % h);
            ymax = std::max(ymax, end % h);
        }
    }
    if (xmin == UINT64_MAX) return;
    box[0] = double(xmin);
    box[1] = double(ymin);
    box[2] = double(xmax - xmin + 1);
    box[3] = double(ymax - ymin + 1);
}

std::string rle_to_string(const Rle& rle) {
    std::string s;
    for (size_t i = 0; i < rle.counts.size(); ++i) {
        int64_t x = int64_t(rle.counts[i]);
        if (i > 2) x -= int64_t(rle.counts[i - 2]);
        bool more = true;
        while (more) {
            int64_t c = x & 0x1f;
            x >>= 5;  // arithmetic shift keeps the sign, as in pycocotools
            more = (c & 0x10) ? x != -1 : x != 0;
            if (more) c |= 0x20;
            s.push_back(char(c + 48));
        }
    }
    return s;
}

bool rle_from_string(const std::string& s, int height, int width, Rle& out, std::string* error) {
    if (height < 0 || width < 0) {
        set_error(error, "RLE size is negative");
        return false;
    }
    Rle r;
    r.height = height;
    r.width = width;
    size_t p = 0;
    while (p < s.size()) {
        int64_t x = 0;
        int k = 0;
        bool more = true;
        while (more) {
            if (p >= s.size()) {
                set_error(error, "RLE string ends inside a count");
                return false;
            }
            int c = int((unsigned char)s[p]) - 48;
            if (c < 0 || c > 63) {
                set_error(error, "RLE string has a character outside COCO's alphabet at offset " + std::to_string(p));
                return false;
            }
            if (k >= 8) {  // 8 groups = 40 bits: far beyond any 32-bit count
                set_error(error, "RLE count too long at offset " + std::to_string(p));
                return false;
            }
            x |= int64_t(c & 0x1f) << (5 * k);
            more = (c & 0x20) != 0;
            ++p;
            ++k;
            if (!more && (c & 0x10)) x |= int64_t(-1) * (int64_t(1) << (5 * k));  // sign-extend
        }
        size_t m = r.counts.size();
        if (m > 2) x += int64_t(r.counts[m - 2]);
        if (x < 0 || x > int64_t(UINT32_MAX)) {
            set_error(error, "RLE count out of range at count " + std::to_string(m));
            return false;
        }
        r.counts.push_back(uint32_t(x));
        if (r.counts.size() > uint64_t(height) * uint64_t(width) + 1) {
            set_error(error, "RLE has more runs than pixels");
            return false;
        }
    }
    if (!rle_validate(r, error)) return false;
    out = std::move(r);
    return true;
}

}  // namespace es
