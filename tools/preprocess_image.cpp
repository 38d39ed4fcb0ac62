// preprocess_image CONFIG IMAGE OUTDIR: runs the assistant's image
// preprocessing (src/assistant/image_preprocess.h) on one image file the way
// the app does, for comparing with transformers/PIL
// (tests/python/test_pil_preprocess.py). Writes into OUTDIR:
//   resized.npy       uint8 [images, H, W, 3]: what the resize produced
//   pixel_values.npy  float32 [images, 3, H, W]: what the vision encoder gets
//   crops.json        the pan-and-scan crops as [[x, y, width, height], ...]
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "assistant/image_preprocess.h"
#include "image/image.h"

namespace {

std::vector<uint8_t> read_file(const std::string& path, bool* ok) {
    std::ifstream f(path, std::ios::binary);
    *ok = bool(f);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// NumPy .npy version 1.0, C order.
bool write_npy(const std::string& path, const char* dtype, const std::vector<long>& shape, const void* data,
               size_t bytes) {
    std::string dims;
    for (size_t i = 0; i < shape.size(); ++i) dims += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? ", " : "");
    std::string header = "{'descr': '" + std::string(dtype) + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    while ((10 + header.size() + 1) % 64) header += ' ';
    header += '\n';
    std::ofstream f(path, std::ios::binary);
    const uint16_t len = uint16_t(header.size());
    f.write("\x93NUMPY\x01\x00", 8);
    f.put(char(len & 0xff));
    f.put(char(len >> 8));
    f.write(header.data(), std::streamsize(header.size()));
    f.write(static_cast<const char*>(data), std::streamsize(bytes));
    return bool(f);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: preprocess_image PREPROCESSOR_CONFIG.json IMAGE OUTDIR\n");
        return 2;
    }
    bool ok = false;
    const std::vector<uint8_t> cfg_bytes = read_file(argv[1], &ok);
    if (!ok) { std::fprintf(stderr, "preprocess_image: cannot read %s\n", argv[1]); return 1; }
    es::ImagePreprocessConfig cfg;
    std::string err;
    if (!es::parse_preprocessor_config(std::string(cfg_bytes.begin(), cfg_bytes.end()), &cfg, &err)) {
        std::fprintf(stderr, "preprocess_image: %s\n", err.c_str());
        return 1;
    }
    const std::vector<uint8_t> bytes = read_file(argv[2], &ok);
    if (!ok) { std::fprintf(stderr, "preprocess_image: cannot read %s\n", argv[2]); return 1; }
    es::DecodeResult d = es::decode_image(bytes.data(), bytes.size());
    if (!d.ok) { std::fprintf(stderr, "preprocess_image: %s: %s\n", argv[2], d.error.c_str()); return 1; }
    es::PixelValues pv;
    if (!es::preprocess_image(d.image, cfg, &pv, &err)) { std::fprintf(stderr, "preprocess_image: %s\n", err.c_str()); return 1; }

    std::vector<es::CropRect> parts{es::CropRect{0, 0, d.image.width, d.image.height}};
    for (const auto& c : es::pan_and_scan_crops(d.image.width, d.image.height, cfg)) parts.push_back(c);
    std::vector<uint8_t> resized, rgb;
    std::string crops = "[";
    for (size_t i = 0; i < parts.size(); ++i) {
        int w = 0, h = 0;
        if (!es::resize_for_model(d.image, parts[i], cfg, &rgb, &w, &h, &err)) {
            std::fprintf(stderr, "preprocess_image: %s\n", err.c_str());
            return 1;
        }
        resized.insert(resized.end(), rgb.begin(), rgb.end());
        if (i > 0)
            crops += std::string(i > 1 ? ", " : "") + "[" + std::to_string(parts[i].x) + ", " + std::to_string(parts[i].y) +
                     ", " + std::to_string(parts[i].width) + ", " + std::to_string(parts[i].height) + "]";
    }
    crops += "]\n";
    const std::filesystem::path out = argv[3];
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    const long n = pv.images, h = pv.height, w = pv.width;
    bool written = write_npy((out / "resized.npy").string(), "|u1", {n, h, w, 3}, resized.data(), resized.size()) &&
                   write_npy((out / "pixel_values.npy").string(), "<f4", {n, 3, h, w}, pv.data.data(),
                             pv.data.size() * sizeof(float));
    std::ofstream((out / "crops.json").string()) << crops;
    if (!written) { std::fprintf(stderr, "preprocess_image: cannot write into %s\n", argv[3]); return 1; }
    return 0;
}
