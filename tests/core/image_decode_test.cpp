// Tests for decode_image(): valid JPEG/PNG/BMP, and every kind of bad input
// (corrupt, truncated, unsupported, oversized, zero-size) failing with a clear error.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "image/image.h"
#include "image/png_encode.h"
#include "stb_image_write.h"

namespace {

using Bytes = std::vector<uint8_t>;

void append(void* ctx, void* data, int size) {
    auto* out = static_cast<Bytes*>(ctx);
    out->insert(out->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

// A w x h RGBA gradient with a distinct value in every channel.
es::Image gradient(int w, int h) {
    es::Image img;
    img.width = w;
    img.height = h;
    img.rgba.resize(size_t(w) * h * 4);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            uint8_t* p = img.pixel(x, y);
            p[0] = uint8_t(x * 255 / (w - 1));
            p[1] = uint8_t(y * 255 / (h - 1));
            p[2] = uint8_t((x + y) * 127 / (w + h - 2));
            p[3] = 255;
        }
    return img;
}

Bytes jpeg_of(const es::Image& img, int quality = 95) {
    Bytes out;
    stbi_write_jpg_to_func(append, &out, img.width, img.height, 4, img.rgba.data(), quality);
    return out;
}

Bytes bmp_of(const es::Image& img) {
    // 24-bit: stb_image_write writes alpha-less BMP for 3 channels.
    std::vector<uint8_t> rgb;
    for (size_t i = 0; i < img.rgba.size(); i += 4) rgb.insert(rgb.end(), {img.rgba[i], img.rgba[i + 1], img.rgba[i + 2]});
    Bytes out;
    stbi_write_bmp_to_func(append, &out, img.width, img.height, 3, rgb.data());
    return out;
}

es::DecodeResult decode(const Bytes& b, const es::DecodeLimits& limits = {}) {
    return es::decode_image(b.data(), b.size(), limits);
}

// A PNG consisting of the signature and an IHDR claiming w x h (no pixel data).
Bytes png_header_only(uint32_t w, uint32_t h) {
    Bytes b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    for (uint32_t v : {w, h})
        for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
    b.insert(b.end(), {8, 6, 0, 0, 0, 0, 0, 0, 0});  // depth, colour type, methods, CRC (unchecked)
    return b;
}

TEST(DecodeImage, PngRoundTripIsExact) {
    es::Image src = gradient(37, 23);
    src.pixel(3, 4)[3] = 17;  // alpha survives too
    Bytes png = es::encode_png(src);
    ASSERT_FALSE(png.empty());
    es::DecodeResult r = decode(png);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.format, "png");
    EXPECT_EQ(r.image.width, 37);
    EXPECT_EQ(r.image.height, 23);
    EXPECT_EQ(r.image.rgba, src.rgba);
}

TEST(DecodeImage, GreyPngExpandsToRgba) {
    std::vector<uint8_t> grey = {0, 50, 100, 150, 200, 255};
    Bytes png = es::encode_png_gray(grey.data(), 3, 2);
    es::DecodeResult r = decode(png);
    ASSERT_TRUE(r.ok) << r.error;
    ASSERT_EQ(r.image.rgba.size(), 6u * 4);
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(r.image.rgba[i * 4 + 0], grey[i]);
        EXPECT_EQ(r.image.rgba[i * 4 + 1], grey[i]);
        EXPECT_EQ(r.image.rgba[i * 4 + 2], grey[i]);
        EXPECT_EQ(r.image.rgba[i * 4 + 3], 255);
    }
}

TEST(DecodeImage, JpegDecodesCloseToSource) {
    es::Image src = gradient(64, 48);
    es::DecodeResult r = decode(jpeg_of(src));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.format, "jpeg");
    ASSERT_EQ(r.image.width, 64);
    ASSERT_EQ(r.image.height, 48);
    double err = 0;
    for (size_t i = 0; i < src.rgba.size(); ++i) err += std::abs(int(src.rgba[i]) - int(r.image.rgba[i]));
    EXPECT_LT(err / src.rgba.size(), 3.0);  // lossy, but close
    EXPECT_EQ(r.image.pixel(10, 10)[3], 255);
}

TEST(DecodeImage, JpegWithTrailingBytesAfterEndMarkerIsFine) {
    Bytes j = jpeg_of(gradient(16, 16));
    es::DecodeResult plain = decode(j);
    ASSERT_TRUE(plain.ok) << plain.error;
    j.insert(j.end(), {0, 1, 2, 3, 4, 5});
    es::DecodeResult r = decode(j);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.image.rgba, plain.image.rgba);  // the trailing bytes change nothing
}

TEST(DecodeImage, BmpRoundTripIsExact) {
    es::Image src = gradient(13, 7);  // odd width: rows are padded to 4 bytes
    es::DecodeResult r = decode(bmp_of(src));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.format, "bmp");
    EXPECT_EQ(r.image.rgba, src.rgba);
}

TEST(DecodeImage, TopDownBmpIsUpright) {
    // Negative height = rows stored top first. Rewrite a bottom-up BMP that way.
    es::Image src = gradient(5, 3);
    Bytes b = bmp_of(src);
    uint32_t offset = b[10] | b[11] << 8 | b[12] << 16 | uint32_t(b[13]) << 24;
    size_t stride = (5 * 3 + 3) / 4 * 4;
    Bytes flipped(b.begin(), b.begin() + offset);
    for (int row = 2; row >= 0; --row)
        flipped.insert(flipped.end(), b.begin() + offset + row * stride, b.begin() + offset + (row + 1) * stride);
    int32_t h = -3;
    std::memcpy(&flipped[22], &h, 4);
    es::DecodeResult r = decode(flipped);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.image.height, 3);
    EXPECT_EQ(r.image.rgba, src.rgba);
}

TEST(DecodeImage, FormatComesFromBytesNotName) {
    EXPECT_EQ(es::sniff_image_format(es::encode_png(gradient(4, 4)).data(), 100), "png");
    Bytes j = jpeg_of(gradient(8, 8));
    EXPECT_EQ(es::sniff_image_format(j.data(), j.size()), "jpeg");
    Bytes b = bmp_of(gradient(8, 8));
    EXPECT_EQ(es::sniff_image_format(b.data(), b.size()), "bmp");
}

TEST(DecodeImage, EmptyAndNullInputFail) {
    es::DecodeResult r = es::decode_image(nullptr, 0);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("empty"), std::string::npos) << r.error;
    Bytes none;
    EXPECT_FALSE(decode(none).ok);
    uint8_t one = 0xFF;
    EXPECT_FALSE(es::decode_image(&one, 1).ok);
}

TEST(DecodeImage, UnknownBytesAreNotAnImage) {
    Bytes text(200, 'a');
    es::DecodeResult r = decode(text);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.format, "");
    EXPECT_NE(r.error.find("not a supported image"), std::string::npos) << r.error;
}

TEST(DecodeImage, KnownButUnsupportedFormatsAreNamed) {
    Bytes gif = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0};
    es::DecodeResult r = decode(gif);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("GIF"), std::string::npos) << r.error;

    Bytes webp = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', ' '};
    r = decode(webp);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("WEBP"), std::string::npos) << r.error;

    Bytes dicom(140, 0);
    std::memcpy(dicom.data() + 128, "DICM", 4);
    r = decode(dicom);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("DICOM"), std::string::npos) << r.error;
}

TEST(DecodeImage, CorruptPngDataFails) {
    Bytes png = es::encode_png(gradient(32, 32));
    // Overwrite the compressed IDAT payload (after signature 8 + IHDR 25 + IDAT header 8).
    for (size_t i = 8 + 25 + 8 + 2; i < png.size() - 16; ++i) png[i] = uint8_t(i * 131);
    es::DecodeResult r = decode(png);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.format, "png");
    EXPECT_NE(r.error.find("PNG"), std::string::npos) << r.error;
}

TEST(DecodeImage, CorruptJpegHeaderFails) {
    Bytes j = jpeg_of(gradient(32, 32));
    for (size_t i = 4; i < 200 && i < j.size(); ++i) j[i] = 0x00;  // destroy the segment structure
    es::DecodeResult r = decode(j);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("JPEG"), std::string::npos) << r.error;
}

TEST(DecodeImage, TruncatedFilesFailAtEveryCut) {
    const es::Image src = gradient(40, 30);
    const std::vector<std::pair<std::string, Bytes>> files = {
        {"PNG", es::encode_png(src)}, {"JPEG", jpeg_of(src)}, {"BMP", bmp_of(src)}};
    for (const auto& [name, full] : files) {
        ASSERT_TRUE(decode(full).ok) << name;
        // Every cut point past the magic bytes, from the header into the last byte.
        for (size_t cut = 3; cut < full.size(); cut += (cut < 64 ? 1 : 7)) {
            Bytes part(full.begin(), full.begin() + cut);
            es::DecodeResult r = decode(part);
            EXPECT_FALSE(r.ok) << name << " cut at " << cut << " of " << full.size();
            EXPECT_FALSE(r.error.empty());
        }
        Bytes last(full.begin(), full.end() - 1);
        es::DecodeResult r = decode(last);
        EXPECT_FALSE(r.ok) << name << " missing its last byte";
        EXPECT_NE(r.error.find("truncated"), std::string::npos) << name << ": " << r.error;
    }
}

TEST(DecodeImage, TruncatedMessagesSayTruncated) {
    Bytes png = es::encode_png(gradient(40, 30));
    Bytes half(png.begin(), png.begin() + png.size() / 2);
    EXPECT_NE(decode(half).error.find("truncated PNG"), std::string::npos) << decode(half).error;
    Bytes j = jpeg_of(gradient(40, 30));
    Bytes jhalf(j.begin(), j.begin() + j.size() * 3 / 4);
    EXPECT_NE(decode(jhalf).error.find("truncated JPEG"), std::string::npos) << decode(jhalf).error;
    Bytes b = bmp_of(gradient(40, 30));
    Bytes bhalf(b.begin(), b.begin() + b.size() / 2);
    EXPECT_NE(decode(bhalf).error.find("truncated BMP"), std::string::npos) << decode(bhalf).error;
}

TEST(DecodeImage, OverLimitImagesFailBeforeDecoding) {
    es::DecodeLimits small;
    small.max_width = 32;
    small.max_height = 32;
    small.max_pixels = 32 * 32;
    es::DecodeResult r = decode(es::encode_png(gradient(40, 10)), small);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("40 x 10 pixels, larger than the maximum of 32 x 32"), std::string::npos) << r.error;

    small.max_width = small.max_height = 1000;
    small.max_pixels = 100;  // the pixel count limit alone
    r = decode(es::encode_png(gradient(20, 20)), small);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("more than the maximum of 100 pixels"), std::string::npos) << r.error;
    EXPECT_TRUE(decode(es::encode_png(gradient(10, 10)), small).ok);
}

TEST(DecodeImage, HugeDeclaredSizeIsRejectedFromTheHeader) {
    // 60000 x 60000 RGBA would need 14 GB: it must be refused from the header
    // alone (this test would run out of memory or time otherwise).
    es::DecodeResult r = decode(png_header_only(60000, 60000));
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("60000 x 60000"), std::string::npos) << r.error;

    r = decode(png_header_only(0x7FFFFFFF, 16));  // beyond stb's own dimension limit
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("2147483647 x 16"), std::string::npos) << r.error;

    es::DecodeLimits huge;
    huge.max_width = huge.max_height = 1 << 30;
    huge.max_pixels = ~0ull;
    r = decode(png_header_only(1u << 20, 16), huge);  // our limits allow it; stb's do not
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.error.empty());
}

TEST(DecodeImage, ZeroSizedImageFails) {
    es::DecodeResult r = decode(png_header_only(0, 16));
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("zero"), std::string::npos) << r.error;

    Bytes bmp = bmp_of(gradient(8, 8));
    for (int i = 18; i < 26; ++i) bmp[size_t(i)] = 0;  // width = height = 0
    r = decode(bmp);
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.error.empty());
}

// Rewrites the SOF0 marker of a baseline JPEG to another frame type / precision.
Bytes with_frame(Bytes j, uint8_t sof, uint8_t precision) {
    for (size_t i = 2; i + 4 < j.size(); ++i)
        if (j[i] == 0xFF && j[i + 1] == 0xC0) {
            j[i + 1] = sof;
            j[i + 4] = precision;
            return j;
        }
    ADD_FAILURE() << "no SOF0";
    return j;
}

TEST(DecodeImage, UnsupportedJpegKindsAreNamed) {
    Bytes j = jpeg_of(gradient(16, 16));
    EXPECT_NE(decode(with_frame(j, 0xC3, 8)).error.find("lossless JPEG"), std::string::npos);
    EXPECT_NE(decode(with_frame(j, 0xC9, 8)).error.find("arithmetic-coded"), std::string::npos);
    EXPECT_NE(decode(with_frame(j, 0xC5, 8)).error.find("hierarchical"), std::string::npos);
    es::DecodeResult r = decode(with_frame(j, 0xC1, 12));
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("12-bit"), std::string::npos) << r.error;
    EXPECT_TRUE(decode(with_frame(j, 0xC1, 8)).ok);  // extended sequential, 8-bit: fine
}

// Byte offset of the first FF <marker> segment.
size_t find_marker(const Bytes& j, uint8_t marker) {
    for (size_t i = 2; i + 1 < j.size(); ++i)
        if (j[i] == 0xFF && j[i + 1] == marker) return i;
    return 0;
}

TEST(DecodeImage, ScansMayUseOnlyDefinedTables) {
    // stb_image 2.27 reads undefined tables from uninitialised memory.
    const Bytes j = jpeg_of(gradient(16, 16));
    ASSERT_TRUE(decode(j).ok);

    Bytes bad_huffman = j;
    size_t sos = find_marker(bad_huffman, 0xDA);
    ASSERT_GT(sos, 0u);
    bad_huffman[sos + 6] = 0x23;  // first component: DC table 2, AC table 3 (never defined)
    es::DecodeResult r = decode(bad_huffman);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("Huffman table is missing"), std::string::npos) << r.error;

    Bytes bad_quant = j;
    size_t sof = find_marker(bad_quant, 0xC0);
    ASSERT_GT(sof, 0u);
    bad_quant[sof + 12] = 3;  // first component: quantization table 3 (never defined)
    r = decode(bad_quant);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("quantization table is missing"), std::string::npos) << r.error;

    // Motion-JPEG frames leave out the Huffman tables (players assume defaults).
    Bytes mjpeg = j;
    for (size_t dht; (dht = find_marker(mjpeg, 0xC4)) != 0;)
        mjpeg.erase(mjpeg.begin() + dht, mjpeg.begin() + dht + 2 + (mjpeg[dht + 2] << 8 | mjpeg[dht + 3]));
    r = decode(mjpeg);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("no Huffman tables"), std::string::npos) << r.error;
}

TEST(DecodeImage, HuffmanTableWithTooManyCodesIsRejected) {
    // stb_image 2.27 overruns its tables on such a DHT; decode_image must refuse it first.
    Bytes j = jpeg_of(gradient(16, 16));
    size_t dht = 0;
    for (size_t i = 2; i + 1 < j.size(); ++i)
        if (j[i] == 0xFF && j[i + 1] == 0xC4) {
            dht = i;
            break;
        }
    ASSERT_GT(dht, 0u);
    for (int k = 0; k < 16; ++k) j[dht + 5 + size_t(k)] = 0;
    j[dht + 5 + 15] = 255;  // 255 codes of 16 bits ...
    j[dht + 5 + 14] = 2;    // ... and 2 of 15 bits: 257 codes, still a prefix code
    es::DecodeResult r = decode(j);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("Huffman"), std::string::npos) << r.error;
}

Bytes read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Real colonoscopy JPEGs/PNGs and masks from ../shared/datasets (never committed;
// $ES_SHARED_DIR names another shared folder): every one decodes at the size
// labels.csv gives, and every cut copy fails.
TEST(DecodeImage, RealEndoscopyImagesDecode) {
    namespace fs = std::filesystem;
    const char* shared = std::getenv("ES_SHARED_DIR");
    const fs::path root = fs::path(shared && *shared ? shared : ES_SHARED_DIR) / "datasets";
    int decoded = 0;
    for (const char* set : {"kvasir-seg", "cvc-clinicdb"}) {
        std::ifstream csv(root / set / "labels.csv");
        if (!csv) continue;
        std::string line;
        std::getline(csv, line);  // header: image,mask,width,height,...
        while (std::getline(csv, line)) {
            std::vector<std::string> f;
            size_t a = 0, b;
            while ((b = line.find(',', a)) != std::string::npos && f.size() < 4) f.push_back(line.substr(a, b - a)), a = b + 1;
            ASSERT_EQ(f.size(), 4u) << line;
            for (const std::string& file : {f[0], f[1]}) {
                Bytes bytes = read_file(root / set / file);
                es::DecodeResult r = decode(bytes);
                ASSERT_TRUE(r.ok) << set << "/" << file << ": " << r.error;
                EXPECT_EQ(r.image.width, std::stoi(f[2])) << file;
                EXPECT_EQ(r.image.height, std::stoi(f[3])) << file;
                ++decoded;
                if (decoded % 10 == 1) {  // a sample of truncated copies
                    Bytes cut(bytes.begin(), bytes.begin() + bytes.size() * 2 / 3);
                    EXPECT_FALSE(decode(cut).ok) << file << " cut to 2/3";
                }
            }
        }
    }
    if (decoded == 0) GTEST_SKIP() << "no datasets at " << root << " (real images are not part of the repository)";
    EXPECT_GE(decoded, 100);
}

// Inputs that once crashed the fuzzer (tests/fuzz/regressions/) are corrupt
// files: each must be refused with the reason for that file. A new regression
// file must be added to the table.
TEST(DecodeImage, FuzzRegressionsFailWithTheirReason) {
    namespace fs = std::filesystem;
    fs::path dir = fs::path(ES_SOURCE_DIR) / "tests" / "fuzz" / "regressions";
    const std::map<std::string, std::string> expected = {
        {"jpeg_dht_over_256_codes.jpg", "corrupt JPEG: Huffman code lengths do not form a code"},
        {"jpeg_scan_uses_undefined_huffman_table.jpg", "corrupt JPEG: a DC Huffman table is missing"},
    };
    ASSERT_TRUE(fs::is_directory(dir)) << dir;
    size_t count = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        std::string name = entry.path().filename().string();
        auto want = expected.find(name);
        ASSERT_NE(want, expected.end()) << name << " is not in this test's table";
        es::DecodeResult r = decode(read_file(entry.path()));
        EXPECT_FALSE(r.ok) << name;
        EXPECT_EQ(r.error, want->second) << name;
        EXPECT_TRUE(r.image.rgba.empty()) << name;
        ++count;
    }
    EXPECT_EQ(count, expected.size());
}

}  // namespace
