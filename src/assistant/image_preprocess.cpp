#include "assistant/image_preprocess.h"

#include <nlohmann/json.hpp>

#include "stb_image_resize.h"

namespace es {

bool parse_preprocessor_config(const std::string& json_text, ImagePreprocessConfig* out, std::string* error) {
    auto fail = [&](const std::string& m) { if (error) *error = "preprocessor_config.json: " + m; return false; };
    nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return fail("not a JSON object");
    ImagePreprocessConfig c;
    try {
        if (j.contains("do_resize")) c.do_resize = j["do_resize"].get<bool>();
        if (j.contains("size")) {
            const auto& s = j["size"];
            if (s.is_object() && s.contains("height") && s.contains("width")) {
                c.height = s["height"].get<int>();
                c.width = s["width"].get<int>();
            } else if (s.is_object() && s.contains("shortest_edge")) {
                c.height = c.width = s["shortest_edge"].get<int>();
            } else if (s.is_number_integer()) {
                c.height = c.width = s.get<int>();
            } else {
                return fail("'size' must have height and width");
            }
        }
        if (j.contains("resample")) c.resample = j["resample"].get<int>();
        if (j.contains("do_rescale")) c.do_rescale = j["do_rescale"].get<bool>();
        if (j.contains("rescale_factor")) c.rescale_factor = j["rescale_factor"].get<float>();
        if (j.contains("do_normalize")) c.do_normalize = j["do_normalize"].get<bool>();
        for (const char* key : {"image_mean", "image_std"}) {
            if (!j.contains(key)) continue;
            const auto& v = j[key];
            float* dst = key[6] == 'm' ? c.mean : c.std;
            if (v.is_number()) {
                dst[0] = dst[1] = dst[2] = v.get<float>();
            } else if (v.is_array() && v.size() == 3) {
                for (int i = 0; i < 3; ++i) dst[i] = v[i].get<float>();
            } else {
                return fail(std::string("'") + key + "' must be a number or 3 numbers");
            }
        }
        if (j.contains("do_pan_and_scan") && j["do_pan_and_scan"].is_boolean())
            c.pan_and_scan_requested = j["do_pan_and_scan"].get<bool>();
    } catch (const nlohmann::json::exception& e) {
        return fail(std::string("wrong value type (") + e.what() + ")");
    }
    if (c.width <= 0 || c.height <= 0 || c.width > 8192 || c.height > 8192) return fail("image size out of range");
    for (int i = 0; i < 3; ++i)
        if (!(c.std[i] > 0.0f)) return fail("image_std must be positive");
    if (c.resample < 0 || c.resample > 5) return fail("unknown resample code " + std::to_string(c.resample));
    *out = c;
    return true;
}

static stbir_filter filter_for(int resample) {
    switch (resample) {
        case 2: return STBIR_FILTER_TRIANGLE;    // PIL BILINEAR: tent, widened when shrinking
        case 4: return STBIR_FILTER_BOX;         // PIL BOX
        case 0: return STBIR_FILTER_BOX;         // NEAREST: box is the closest stb offers
        default: return STBIR_FILTER_CATMULLROM; // BICUBIC (PIL a=-0.5 is Catmull-Rom), LANCZOS, HAMMING
    }
}

bool preprocess_image(const Image& image, const ImagePreprocessConfig& cfg, PixelValues* out, std::string* error) {
    if (image.empty() || image.rgba.size() != size_t(image.width) * image.height * 4) {
        if (error) *error = "image is empty or malformed";
        return false;
    }
    const int w = cfg.do_resize ? cfg.width : image.width;
    const int h = cfg.do_resize ? cfg.height : image.height;
    // RGB bytes first: PIL resizes the RGB image (alpha already dropped).
    std::vector<uint8_t> rgb(size_t(image.width) * image.height * 3);
    for (size_t i = 0, n = size_t(image.width) * image.height; i < n; ++i)
        for (int c = 0; c < 3; ++c) rgb[i * 3 + c] = image.rgba[i * 4 + c];
    std::vector<uint8_t> resized;
    const uint8_t* px = rgb.data();
    if (w != image.width || h != image.height) {
        resized.resize(size_t(w) * h * 3);
        const stbir_filter f = filter_for(cfg.resample);
        if (!stbir_resize_uint8_generic(rgb.data(), image.width, image.height, 0, resized.data(), w, h, 0, 3,
                                        STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP, f, STBIR_COLORSPACE_LINEAR,
                                        nullptr)) {
            if (error) *error = "resize failed";
            return false;
        }
        px = resized.data();
    }
    PixelValues pv;
    pv.height = h;
    pv.width = w;
    pv.data.resize(size_t(3) * w * h);
    const size_t plane = size_t(w) * h;
    for (int c = 0; c < 3; ++c) {
        // Same operation order as transformers: x * rescale_factor, then (x - mean) / std.
        for (size_t i = 0; i < plane; ++i) {
            float v = float(px[i * 3 + c]);
            if (cfg.do_rescale) v = v * cfg.rescale_factor;
            if (cfg.do_normalize) v = (v - cfg.mean[c]) / cfg.std[c];
            pv.data[c * plane + i] = v;
        }
    }
    *out = std::move(pv);
    return true;
}

std::string expand_image_tokens(const std::string& text, const std::string& boi, const std::string& image_token,
                                const std::string& eoi, int tokens_per_image) {
    if (boi.empty()) return text;
    std::string block = "\n\n" + boi;
    for (int i = 0; i < tokens_per_image; ++i) block += image_token;
    block += eoi + "\n\n";
    std::string out;
    size_t pos = 0;
    for (;;) {
        const size_t at = text.find(boi, pos);
        if (at == std::string::npos) break;
        out.append(text, pos, at - pos);
        out += block;
        pos = at + boi.size();
    }
    out.append(text, pos, std::string::npos);
    return out;
}

}  // namespace es
