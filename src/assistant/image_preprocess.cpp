#include "assistant/image_preprocess.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "image/pil_resize.h"

namespace es {

bool parse_preprocessor_config(const std::string& json_text, ImagePreprocessConfig* out, std::string* error) {
    auto fail = [&](const std::string& m) { if (error) *error = "preprocessor_config.json: " + m; return false; };
    nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return fail("not a JSON object");
    ImagePreprocessConfig c;
    // A key set to null means "the processor's default", as in transformers.
    auto has = [&](const char* key) { return j.contains(key) && !j[key].is_null(); };
    try {
        if (has("do_resize")) c.do_resize = j["do_resize"].get<bool>();
        if (has("size")) {
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
        if (has("resample")) c.resample = j["resample"].get<int>();
        if (has("do_rescale")) c.do_rescale = j["do_rescale"].get<bool>();
        if (has("rescale_factor")) c.rescale_factor = j["rescale_factor"].get<double>();
        if (has("do_normalize")) c.do_normalize = j["do_normalize"].get<bool>();
        for (const char* key : {"image_mean", "image_std"}) {
            if (!has(key)) continue;
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
        if (has("do_pan_and_scan")) c.do_pan_and_scan = j["do_pan_and_scan"].get<bool>();
        if (has("pan_and_scan_min_crop_size")) c.pan_and_scan_min_crop_size = j["pan_and_scan_min_crop_size"].get<int>();
        if (has("pan_and_scan_max_num_crops")) c.pan_and_scan_max_num_crops = j["pan_and_scan_max_num_crops"].get<int>();
        if (has("pan_and_scan_min_ratio_to_activate"))
            c.pan_and_scan_min_ratio_to_activate = j["pan_and_scan_min_ratio_to_activate"].get<double>();
    } catch (const nlohmann::json::exception& e) {
        return fail(std::string("wrong value type (") + e.what() + ")");
    }
    if (c.width <= 0 || c.height <= 0 || c.width > 8192 || c.height > 8192) return fail("image size out of range");
    for (int i = 0; i < 3; ++i)
        if (!(c.std[i] > 0.0f)) return fail("image_std must be positive");
    if (c.resample < 0 || c.resample > 5) return fail("unknown resample code " + std::to_string(c.resample));
    if (c.do_pan_and_scan && (c.pan_and_scan_min_crop_size < 1 || c.pan_and_scan_max_num_crops < 1 ||
                              c.pan_and_scan_max_num_crops > 64 || !(c.pan_and_scan_min_ratio_to_activate > 0)))
        return fail("pan-and-scan settings out of range (min crop size >= 1, 1..64 crops, positive ratio)");
    *out = c;
    return true;
}

std::vector<CropRect> pan_and_scan_crops(int width, int height, const ImagePreprocessConfig& cfg) {
    std::vector<CropRect> crops;
    if (!cfg.do_pan_and_scan || width <= 0 || height <= 0) return crops;
    const double min_crop = cfg.pan_and_scan_min_crop_size;
    int n_w = 1, n_h = 1;
    // Python's floor(a / b + 0.5) and int(ceil(a / b)) over doubles, as transformers writes them.
    if (width >= height) {
        if (double(width) / height < cfg.pan_and_scan_min_ratio_to_activate) return crops;
        n_w = int(std::floor(double(width) / height + 0.5));
        n_w = std::min(int(std::floor(width / min_crop)), n_w);
        n_w = std::max(2, n_w);
        n_w = std::min(cfg.pan_and_scan_max_num_crops, n_w);
    } else {
        if (double(height) / width < cfg.pan_and_scan_min_ratio_to_activate) return crops;
        n_h = int(std::floor(double(height) / width + 0.5));
        n_h = std::min(int(std::floor(height / min_crop)), n_h);
        n_h = std::max(2, n_h);
        n_h = std::min(cfg.pan_and_scan_max_num_crops, n_h);
    }
    const int crop_w = int(std::ceil(double(width) / n_w));
    const int crop_h = int(std::ceil(double(height) / n_h));
    if (std::min(crop_w, crop_h) < cfg.pan_and_scan_min_crop_size) return crops;
    for (int i = 0; i < n_h; ++i)
        for (int k = 0; k < n_w; ++k) {
            CropRect r;
            r.x = crop_w * k;
            r.y = crop_h * i;
            r.width = std::min(crop_w, width - r.x);
            r.height = std::min(crop_h, height - r.y);
            // transformers would fail on an empty slice; such tiny images get no crops here.
            if (r.width <= 0 || r.height <= 0) return {};
            crops.push_back(r);
        }
    return crops;
}

bool resize_for_model(const Image& image, const CropRect& crop, const ImagePreprocessConfig& cfg,
                      std::vector<uint8_t>* rgb, int* width, int* height, std::string* error) {
    if (image.empty() || image.rgba.size() != size_t(image.width) * image.height * 4) {
        if (error) *error = "image is empty or malformed";
        return false;
    }
    if (crop.x < 0 || crop.y < 0 || crop.width <= 0 || crop.height <= 0 || crop.x + crop.width > image.width ||
        crop.y + crop.height > image.height) {
        if (error) *error = "crop outside the image";
        return false;
    }
    // RGB bytes of the crop: PIL's convert("RGB") drops alpha without blending.
    std::vector<uint8_t> src(size_t(crop.width) * crop.height * 3);
    for (int y = 0; y < crop.height; ++y)
        for (int x = 0; x < crop.width; ++x) {
            const uint8_t* p = &image.rgba[(size_t(crop.y + y) * image.width + crop.x + x) * 4];
            uint8_t* q = &src[(size_t(y) * crop.width + x) * 3];
            q[0] = p[0];
            q[1] = p[1];
            q[2] = p[2];
        }
    const int w = cfg.do_resize ? cfg.width : crop.width;
    const int h = cfg.do_resize ? cfg.height : crop.height;
    if (!pil_resize(src.data(), crop.width, crop.height, 3, w, h, PilFilter(cfg.resample), rgb)) {
        if (error) *error = "resize failed";
        return false;
    }
    *width = w;
    *height = h;
    return true;
}

bool preprocess_image(const Image& image, const ImagePreprocessConfig& cfg, PixelValues* out, std::string* error) {
    if (image.empty() || image.rgba.size() != size_t(image.width) * image.height * 4) {
        if (error) *error = "image is empty or malformed";
        return false;
    }
    std::vector<CropRect> parts{CropRect{0, 0, image.width, image.height}};
    for (const CropRect& c : pan_and_scan_crops(image.width, image.height, cfg)) parts.push_back(c);
    if (!cfg.do_resize && parts.size() > 1) {
        if (error) *error = "pan-and-scan needs do_resize (crops differ in size)";
        return false;
    }
    PixelValues pv;
    pv.images = int(parts.size());
    std::vector<uint8_t> rgb;
    for (size_t n = 0; n < parts.size(); ++n) {
        int w = 0, h = 0;
        if (!resize_for_model(image, parts[n], cfg, &rgb, &w, &h, error)) return false;
        pv.width = w;
        pv.height = h;
        const size_t plane = size_t(w) * h;
        if (n == 0) pv.data.resize(parts.size() * 3 * plane);
        float* dst = pv.data.data() + n * 3 * plane;
        for (int c = 0; c < 3; ++c) {
            // transformers: rescale in float64 then store float32; normalise in float32.
            for (size_t i = 0; i < plane; ++i) {
                float v = float(rgb[i * 3 + c]);
                if (cfg.do_rescale) v = float(double(rgb[i * 3 + c]) * cfg.rescale_factor);
                if (cfg.do_normalize) v = (v - cfg.mean[c]) / cfg.std[c];
                dst[c * plane + i] = v;
            }
        }
    }
    *out = std::move(pv);
    return true;
}

std::string expand_image_tokens(const std::string& text, const std::string& boi, const std::string& image_token,
                                const std::string& eoi, int tokens_per_image, const std::vector<int>& crops_per_image) {
    if (boi.empty()) return text;
    // Pan-and-scan first: an image with crops becomes the original plus one boi per crop.
    std::string with_crops;
    size_t pos = 0;
    for (size_t image = 0;; ++image) {
        const size_t at = text.find(boi, pos);
        if (at == std::string::npos) break;
        with_crops.append(text, pos, at - pos);
        const int crops = image < crops_per_image.size() ? crops_per_image[image] : 0;
        if (crops > 0) {
            with_crops += "Here is the original image " + boi + " and here are some crops to help you see better ";
            for (int i = 0; i < crops; ++i) with_crops += (i ? " " : "") + boi;
        } else {
            with_crops += boi;
        }
        pos = at + boi.size();
    }
    with_crops.append(text, pos, std::string::npos);

    std::string block = "\n\n" + boi;
    for (int i = 0; i < tokens_per_image; ++i) block += image_token;
    block += eoi + "\n\n";
    std::string out;
    pos = 0;
    for (;;) {
        const size_t at = with_crops.find(boi, pos);
        if (at == std::string::npos) break;
        out.append(with_crops, pos, at - pos);
        out += block;
        pos = at + boi.size();
    }
    out.append(with_crops, pos, std::string::npos);
    return out;
}

}  // namespace es
