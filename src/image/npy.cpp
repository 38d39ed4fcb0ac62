#include "image/npy.h"

#include <cstring>

namespace es {

static std::string dict_value(const std::string& header, const std::string& key) {
    const auto k = header.find("'" + key + "'");
    if (k == std::string::npos) return {};
    auto p = header.find(':', k);
    if (p == std::string::npos) return {};
    ++p;
    while (p < header.size() && header[p] == ' ') ++p;
    if (p >= header.size()) return {};
    const char open = header[p];
    const char close = open == '(' ? ')' : open == '\'' ? '\'' : ',';
    const auto e = header.find(close, p + 1);
    if (e == std::string::npos) return {};
    return open == ',' ? header.substr(p, e - p) : header.substr(p + 1, e - p - 1);
}

bool parse_npy(const uint8_t* data, size_t size, NpyArray* out, std::string* error) {
    auto fail = [&](const std::string& m) { if (error) *error = m; return false; };
    if (size < 10 || std::memcmp(data, "\x93NUMPY", 6) != 0) return fail("not a .npy file");
    const int major = data[6];
    size_t header_len, offset;
    if (major == 1) {
        header_len = data[8] | (size_t(data[9]) << 8);
        offset = 10;
    } else {
        if (size < 12) return fail("truncated .npy header");
        header_len = data[8] | (size_t(data[9]) << 8) | (size_t(data[10]) << 16) | (size_t(data[11]) << 24);
        offset = 12;
    }
    if (offset + header_len > size) return fail("truncated .npy header");
    const std::string header(reinterpret_cast<const char*>(data + offset), header_len);
    offset += header_len;
    NpyArray a;
    a.dtype = dict_value(header, "descr");
    if (dict_value(header, "fortran_order").find("True") != std::string::npos)
        return fail("fortran-order .npy is not supported");
    const std::string shape = dict_value(header, "shape");
    size_t p = 0;
    while (p < shape.size()) {
        while (p < shape.size() && (shape[p] < '0' || shape[p] > '9')) ++p;
        if (p >= shape.size()) break;
        int64_t v = 0;
        while (p < shape.size() && shape[p] >= '0' && shape[p] <= '9') v = v * 10 + (shape[p++] - '0');
        a.shape.push_back(v);
    }
    const size_t n = a.count();
    size_t item;
    if (a.dtype == "<f4") item = 4;
    else if (a.dtype == "<i8") item = 8;
    else if (a.dtype == "<i4") item = 4;
    else return fail("unsupported .npy dtype '" + a.dtype + "'");
    if (offset + n * item > size) return fail("truncated .npy data");
    const uint8_t* d = data + offset;
    if (a.dtype == "<f4") {
        a.f32.resize(n);
        std::memcpy(a.f32.data(), d, n * 4);
    } else if (a.dtype == "<i8") {
        a.i64.resize(n);
        std::memcpy(a.i64.data(), d, n * 8);
    } else {
        a.i64.resize(n);
        for (size_t i = 0; i < n; ++i) {
            int32_t v;
            std::memcpy(&v, d + i * 4, 4);
            a.i64[i] = v;
        }
    }
    *out = std::move(a);
    return true;
}

}  // namespace es
