// base64.cpp: see base64.h.
#include "encoding/base64.h"

namespace es {
namespace {

const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

}  // namespace

std::string base64_encode(const uint8_t* data, size_t size) {
    std::string out;
    out.reserve((size + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= size; i += 3) {
        const uint32_t v = uint32_t(data[i]) << 16 | uint32_t(data[i + 1]) << 8 | data[i + 2];
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (size - i == 1) {
        const uint32_t v = uint32_t(data[i]) << 16;
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += "==";
    } else if (size - i == 2) {
        const uint32_t v = uint32_t(data[i]) << 16 | uint32_t(data[i + 1]) << 8;
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

bool base64_decode(const std::string& text, std::vector<uint8_t>* out, std::string* error) {
    out->clear();
    out->reserve(text.size() / 4 * 3);
    uint32_t quad[4];
    int n = 0;      // characters in the current group of four
    int pad = 0;    // '=' seen in the current group
    bool ended = false;  // a padded group was completed: nothing may follow
    auto fail = [&](const std::string& what) {
        out->clear();
        if (error) *error = what;
        return false;
    };
    for (size_t i = 0; i < text.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (is_space(c)) continue;
        if (ended) return fail("text continues after the closing '=' (character " + std::to_string(i + 1) + ")");
        if (c == '=') {
            if (n < 2) return fail("'=' too early (character " + std::to_string(i + 1) + ")");
            ++pad;
            quad[n++] = 0;
        } else {
            const int s = sextet(c);
            if (s < 0) return fail("character " + std::to_string(i + 1) + " is not base64");
            if (pad) return fail("text continues after '=' (character " + std::to_string(i + 1) + ")");
            quad[n++] = uint32_t(s);
        }
        if (n == 4) {
            const uint32_t v = quad[0] << 18 | quad[1] << 12 | quad[2] << 6 | quad[3];
            out->push_back(uint8_t(v >> 16));
            if (pad < 2) out->push_back(uint8_t(v >> 8));
            if (pad < 1) out->push_back(uint8_t(v));
            if (pad) ended = true;
            n = 0;
            pad = 0;
        }
    }
    if (n != 0) return fail("length is not a multiple of 4 (the text is cut short)");
    return true;
}

}  // namespace es
