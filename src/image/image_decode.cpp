// image_decode.cpp: decode_image() over stb_image, with the checks stb leaves
// to its caller: the format is sniffed from the bytes, the header's size is
// checked against DecodeLimits before any pixel memory exists, and truncation
// is detected from the container structure (stb fills missing JPEG/BMP data
// with zeros instead of failing).
#include "image/image.h"

#include <cstring>
#include <new>
#include <vector>

#include "stb_image.h"

namespace es {
namespace {

bool starts_with(const uint8_t* data, size_t size, const char* magic, size_t n, size_t offset = 0) {
    return size >= offset + n && std::memcmp(data + offset, magic, n) == 0;
}

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
uint32_t le32(const uint8_t* p) { return uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]; }
uint16_t le16(const uint8_t* p) { return uint16_t(p[1] << 8 | p[0]); }

std::string upper(const std::string& s) {
    std::string u = s;
    for (char& c : u) c = char(c >= 'a' && c <= 'z' ? c - 32 : c);
    return u;
}

// JPEG: walk every marker segment from SOI to EOI, skipping entropy-coded
// data (where FF is stuffed as FF 00, so FF D9 there is always a real EOI).
// A file cut anywhere has no EOI. Huffman tables are checked here because
// stb_image 2.27 overruns its table arrays on a DHT with more than 256 codes.
struct Header {
    int64_t width = -1, height = -1;  // -1: not found
    std::string unsupported;          // set when the file is well-formed but of a kind stb cannot decode
};

// Which tables the file has defined so far: stb_image 2.27 reads a table a
// scan refers to whether or not it was ever defined (uninitialised memory,
// and out-of-bounds reads for Huffman tables), so every reference is checked.
struct JpegTables {
    bool dc[4] = {}, ac[4] = {}, quant[4] = {};
    struct Component {
        int id, quant;
    };
    std::vector<Component> components;  // from the frame header
    bool progressive = false;
};

std::string check_jpeg_huffman_tables(const uint8_t* p, size_t len, JpegTables& tables) {
    size_t k = 0;
    while (k < len) {
        if (k + 17 > len) return "corrupt JPEG: Huffman table segment too short";
        uint8_t table_class = p[k] >> 4, id = p[k] & 15;
        if (table_class > 1 || id > 3) return "corrupt JPEG: bad Huffman table header";
        size_t total = 0;
        uint64_t code = 0;
        for (int bits = 1; bits <= 16; ++bits) {
            total += p[k + size_t(bits)];
            code += p[k + size_t(bits)];
            if (code > (uint64_t(1) << bits)) return "corrupt JPEG: Huffman code lengths do not form a code";
            code <<= 1;
        }
        if (total > 256) return "corrupt JPEG: Huffman table with more than 256 codes";
        (table_class == 0 ? tables.dc : tables.ac)[id] = true;
        k += 17 + total;
        if (k > len) return "corrupt JPEG: Huffman table segment too short";
    }
    return "";
}

std::string check_jpeg_quant_tables(const uint8_t* p, size_t len, JpegTables& tables) {
    size_t k = 0;
    while (k < len) {
        uint8_t precision = p[k] >> 4, id = p[k] & 15;
        if (precision > 1 || id > 3) return "corrupt JPEG: bad quantization table header";
        k += 1 + (precision ? 128 : 64);
        if (k > len) return "corrupt JPEG: quantization table segment too short";
        tables.quant[id] = true;
    }
    return "";
}

// p: the SOS payload (after the length). Every table the scan will use must exist.
std::string check_jpeg_scan(const uint8_t* p, size_t len, const JpegTables& tables) {
    if (len < 1) return "corrupt JPEG: bad scan header";
    size_t count = p[0];
    if (len < 1 + 2 * count + 3) return "corrupt JPEG: bad scan header";
    uint8_t spectral_start = p[1 + 2 * count], spectral_end = p[2 + 2 * count], approx_high = p[3 + 2 * count] >> 4;
    bool uses_dc = tables.progressive ? (spectral_start == 0 && approx_high == 0) : true;
    bool uses_ac = tables.progressive ? spectral_start > 0 : true;
    (void)spectral_end;
    if (tables.components.empty()) return "corrupt JPEG: no frame header before the image data";
    if (uses_dc || uses_ac) {
        bool any_huffman = false;
        for (int t = 0; t < 4; ++t) any_huffman = any_huffman || tables.dc[t] || tables.ac[t];
        if (!any_huffman)
            return "unsupported JPEG: no Huffman tables (a Motion-JPEG video frame?); save it as a standard JPEG";
    }
    for (size_t c = 0; c < count; ++c) {
        int id = p[1 + 2 * c], dc = p[2 + 2 * c] >> 4, ac = p[2 + 2 * c] & 15;
        const JpegTables::Component* comp = nullptr;
        for (const auto& fc : tables.components)
            if (fc.id == id) comp = &fc;
        if (!comp) return "corrupt JPEG: scan refers to a component the frame does not have";
        if (comp->quant > 3 || !tables.quant[comp->quant]) return "corrupt JPEG: a quantization table is missing";
        if (uses_dc && (dc > 3 || !tables.dc[dc])) return "corrupt JPEG: a DC Huffman table is missing";
        if (uses_ac && (ac > 3 || !tables.ac[ac])) return "corrupt JPEG: an AC Huffman table is missing";
    }
    return "";
}

std::string check_jpeg_structure(const uint8_t* d, size_t n, Header& header) {
    JpegTables tables;
    size_t i = 2;  // after SOI
    bool seen_scan = false;
    const char* cut = "truncated JPEG: no end-of-image marker (the file was cut short)";
    for (;;) {
        size_t start = i;
        while (i < n && d[i] == 0xFF) ++i;  // a marker is FF (plus fill FFs) and a code
        if (i >= n) return seen_scan ? cut : "truncated JPEG: file ends inside the header";
        if (i == start) return "corrupt JPEG: expected a marker";
        uint8_t marker = d[i++];
        if (marker == 0xD9) {
            if (!seen_scan) return "corrupt JPEG: end-of-image marker before any image data";
            break;
        }
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // no length field
        if (i + 2 > n) return seen_scan ? cut : "truncated JPEG: file ends inside the header";
        size_t len = size_t(d[i]) << 8 | d[i + 1];
        if (len < 2) return "corrupt JPEG: bad segment length";
        if (i + len > n) return seen_scan ? cut : "truncated JPEG: file ends inside the header";
        // SOF0..SOF15 carry the frame size (C4 DHT, C8 JPG and CC DAC are not frames).
        if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC && len >= 7 &&
            header.width < 0) {
            header.height = int64_t(d[i + 3]) << 8 | d[i + 4];
            header.width = int64_t(d[i + 5]) << 8 | d[i + 6];
            // stb_image decodes 8-bit baseline and progressive Huffman JPEG only.
            if (marker == 0xC3 || marker == 0xC7 || marker == 0xCB || marker == 0xCF)
                header.unsupported = "unsupported JPEG: lossless JPEG is not supported (baseline and progressive only)";
            else if (marker >= 0xC9)
                header.unsupported = "unsupported JPEG: arithmetic-coded JPEG is not supported (baseline and progressive only)";
            else if (marker == 0xC5 || marker == 0xC6)
                header.unsupported = "unsupported JPEG: hierarchical JPEG is not supported (baseline and progressive only)";
            else if (d[i + 2] != 8)
                header.unsupported = "unsupported JPEG: " + std::to_string(d[i + 2]) +
                                     "-bit samples (only 8-bit JPEG is supported)";
            tables.progressive = marker == 0xC2;
            size_t count = len >= 8 ? d[i + 7] : 0;
            if (len < 8 + 3 * count) return "corrupt JPEG: bad frame header";
            for (size_t c = 0; c < count; ++c) tables.components.push_back({d[i + 8 + 3 * c], d[i + 10 + 3 * c]});
        }
        std::string bad;
        if (marker == 0xC4) bad = check_jpeg_huffman_tables(d + i + 2, len - 2, tables);
        if (marker == 0xDB) bad = check_jpeg_quant_tables(d + i + 2, len - 2, tables);
        if (marker == 0xDA && header.unsupported.empty()) bad = check_jpeg_scan(d + i + 2, len - 2, tables);
        if (!bad.empty()) return bad;
        i += len;
        if (marker == 0xDA) {  // start of scan: skip its entropy-coded data
            if (header.width < 0) return "corrupt JPEG: no frame header before the image data";
            seen_scan = true;
            while (i < n && !(d[i] == 0xFF && i + 1 < n && d[i + 1] != 0x00 && d[i + 1] != 0xFF &&
                              !(d[i + 1] >= 0xD0 && d[i + 1] <= 0xD7)))
                ++i;
            if (i >= n) return cut;
        }
    }
    return "";
}

// PNG: every chunk must be complete and the last one must be IEND.
std::string check_png_structure(const uint8_t* d, size_t n, Header& header) {
    if (n < 24) return "truncated PNG: file ends inside the header";
    if (std::memcmp(d + 12, "IHDR", 4) != 0 || be32(d + 8) != 13) return "corrupt PNG: the first chunk is not IHDR";
    header.width = be32(d + 16);
    header.height = be32(d + 20);
    size_t i = 8;
    while (i + 8 <= n) {
        uint32_t len = be32(d + i);
        char type[5] = {char(d[i + 4]), char(d[i + 5]), char(d[i + 6]), char(d[i + 7]), 0};
        if (len > 0x7FFFFFFFu) return "corrupt PNG: bad chunk length";
        if (uint64_t(i) + 12 + len > n) return std::string("truncated PNG: file ends inside chunk '") + type + "'";
        i += 12 + size_t(len);
        if (std::memcmp(type, "IEND", 4) == 0) return "";
    }
    return "truncated PNG: no IEND chunk (the file was cut short)";
}

// BMP: uncompressed pixel rows must all be present (stb reads zeros past the end).
std::string check_bmp_structure(const uint8_t* d, size_t n, Header& header) {
    if (n < 26) return "truncated BMP: file ends inside the header";
    uint32_t offset = le32(d + 10);
    uint32_t header_size = le32(d + 14);
    int64_t w, h;
    uint32_t bpp, compression = 0;
    if (header_size == 12) {
        w = le16(d + 18);
        h = le16(d + 20);
        bpp = le16(d + 24);
    } else {
        if (n < 34) return "truncated BMP: file ends inside the header";
        w = int32_t(le32(d + 18));
        h = int32_t(le32(d + 22));
        bpp = le16(d + 28);
        compression = le32(d + 30);
    }
    if (h < 0) h = -h;  // negative height: rows stored top-down
    header.width = w;
    header.height = h;
    if (w <= 0 || h <= 0) return "";  // reported by the caller
    if (compression == 1 || compression == 2) return "unsupported BMP: run-length encoded (RLE) BMP files are not supported";
    if (compression != 0 && compression != 3 && compression != 6) return "";  // stb rejects it with its reason
    if (bpp == 0 || bpp > 32) return "";
    uint64_t stride = (uint64_t(w) * bpp + 31) / 32 * 4;
    uint64_t needed = uint64_t(offset) + stride * uint64_t(h);
    if (stride * uint64_t(h) / uint64_t(h) != stride) return "";  // overflow: stb rejects the size
    if (needed > n)
        return "truncated BMP: " + std::to_string(needed - n) + " bytes of pixel data missing (the file was cut short)";
    return "";
}

}  // namespace

std::string sniff_image_format(const uint8_t* d, size_t n) {
    if (!d || n == 0) return "";
    if (starts_with(d, n, "\xFF\xD8\xFF", 3)) return "jpeg";
    if (starts_with(d, n, "\x89PNG\r\n\x1A\n", 8)) return "png";
    if (starts_with(d, n, "BM", 2) && n >= 18) return "bmp";
    // Known formats we do not decode, so the error can name them.
    if (starts_with(d, n, "GIF8", 4)) return "gif";
    if (starts_with(d, n, "II*\0", 4) || starts_with(d, n, "MM\0*", 4)) return "tiff";
    if (starts_with(d, n, "RIFF", 4) && starts_with(d, n, "WEBP", 4, 8)) return "webp";
    if (starts_with(d, n, "ftypavif", 8, 4)) return "avif";
    if (starts_with(d, n, "ftyphei", 7, 4) || starts_with(d, n, "ftypmif1", 8, 4)) return "heic";
    if (starts_with(d, n, "\0\0\0\x0cjP  ", 8)) return "jpeg2000";
    if (starts_with(d, n, "\xFF\x0A", 2) || starts_with(d, n, "\0\0\0\x0cJXL ", 8)) return "jpegxl";
    if (starts_with(d, n, "DICM", 4, 128)) return "dicom";
    if (starts_with(d, n, "8BPS", 4)) return "psd";
    if (starts_with(d, n, "%PDF", 4)) return "pdf";
    return "";
}

DecodeResult decode_image(const uint8_t* data, size_t size, const DecodeLimits& limits) {
    DecodeResult r;
    if (!data || size == 0) {
        r.error = "empty file (0 bytes)";
        r.reason = "the file is empty";
        return r;
    }
    r.format = sniff_image_format(data, size);
    r.reason = "the file is damaged or not an image";  // the usual case below; others say more
    if (r.format.empty()) {
        r.error = "not a supported image: the data is not JPEG, PNG or BMP";
        return r;
    }
    if (r.format != "jpeg" && r.format != "png" && r.format != "bmp") {
        r.error = "unsupported image format " + upper(r.format) + ": open JPEG, PNG or BMP files";
        r.reason = upper(r.format) + " files are not supported; save it as JPEG, PNG or BMP and open that";
        return r;
    }
    const std::string name = upper(r.format);
    if (size > size_t(INT32_MAX)) {  // stb takes an int length
        r.error = name + " file too large (over 2 GiB)";
        r.reason = "the file is too large (over 2 GiB)";
        return r;
    }

    // Our own header parse first: it gives the size (checked against the limits
    // before stb allocates anything) and catches truncation stb would paper over.
    Header header;
    std::string structure = r.format == "jpeg" ? check_jpeg_structure(data, size, header)
                          : r.format == "png"  ? check_png_structure(data, size, header)
                                               : check_bmp_structure(data, size, header);
    if (header.width == 0 || header.height == 0) {
        r.error = name + " image has zero width or height";
        return r;
    }
    const std::string size_text = std::to_string(header.width) + " x " + std::to_string(header.height);
    if (header.width > limits.max_width || header.height > limits.max_height) {
        r.error = name + " image is " + size_text + " pixels, larger than the maximum of " +
                  std::to_string(limits.max_width) + " x " + std::to_string(limits.max_height);
        r.reason = "the image is too large to open (" + size_text + " pixels)";
        return r;
    }
    if (header.width > 0 && header.height > 0 && uint64_t(header.width) * uint64_t(header.height) > limits.max_pixels) {
        r.error = name + " image is " + size_text + " pixels, more than the maximum of " +
                  std::to_string(limits.max_pixels) + " pixels";
        r.reason = "the image is too large to open (" + size_text + " pixels)";
        return r;
    }
    if (!structure.empty()) {
        r.error = structure;
        if (structure.rfind("truncated", 0) == 0 && structure.find("inside the header") == std::string::npos)
            r.reason = "the file is incomplete (cut short, for example by an interrupted copy or download)";
        return r;
    }
    if (!header.unsupported.empty()) {
        r.error = header.unsupported;
        r.reason = "it is a kind of " + name + " EndoScribe cannot read; save it again as a standard JPEG or PNG";
        return r;
    }

    int w = 0, h = 0, channels = 0;
    if (!stbi_info_from_memory(data, int(size), &w, &h, &channels)) {
        const char* why = stbi_failure_reason();
        r.error = "corrupt or unsupported " + name + " header (" + std::string(why ? why : "unreadable") + ")";
        return r;
    }
    if (r.format == "bmp" && h < 0) h = -h;  // stb 2.27's info reports top-down BMPs with negative height
    if (w != header.width || h != header.height || w <= 0 || h <= 0) {
        r.error = "corrupt " + name + " header (inconsistent image size)";
        return r;
    }

    int dw = 0, dh = 0, dc = 0;
    stbi_uc* pixels = stbi_load_from_memory(data, int(size), &dw, &dh, &dc, 4);
    if (!pixels) {
        const char* why = stbi_failure_reason();
        std::string reason = why ? why : "unknown error";
        if (reason == "outofmem")
            r.error = "out of memory decoding " + name + " image of " + std::to_string(w) + " x " + std::to_string(h);
        if (reason == "outofmem") r.reason = "there is not enough memory; close other images or browser tabs and try again";
        else
            r.error = "corrupt " + name + " data (" + reason + ")";
        return r;
    }
    if (dw != w || dh != h) {  // cannot happen with a consistent stb; never trust it blindly
        stbi_image_free(pixels);
        r.error = "corrupt " + name + " data (size changed while decoding)";
        return r;
    }
    try {
        r.image.rgba.assign(pixels, pixels + size_t(w) * size_t(h) * 4);
    } catch (const std::bad_alloc&) {
        stbi_image_free(pixels);
        r.error = "out of memory decoding " + name + " image of " + std::to_string(w) + " x " + std::to_string(h);
        r.reason = "there is not enough memory; close other images or browser tabs and try again";
        return r;
    }
    stbi_image_free(pixels);
    r.image.width = w;
    r.image.height = h;
    r.ok = true;
    r.reason.clear();
    return r;
}

}  // namespace es
