#include "segmentation/sam.h"

#include <algorithm>
#include <cmath>

namespace es {

SamFrame sam_frame(int width, int height, int target) {
    SamFrame f;
    f.orig_width = width;
    f.orig_height = height;
    f.target = target;
    int longest = std::max(width, height);
    if (longest <= 0) return f;
    double scale = double(target) / double(longest);
    f.resized_width = std::max(1, int(std::floor(width * scale + 0.5)));
    f.resized_height = std::max(1, int(std::floor(height * scale + 0.5)));
    return f;
}

namespace {

// One output sample's contributing input indices and weights (PIL's precompute_coeffs).
struct Taps {
    std::vector<int> first, count;
    std::vector<float> weights;  // count[i] weights at offset i * stride
    int stride = 0;
};

Taps triangle_taps(int in_size, int out_size) {
    Taps t;
    double scale = double(in_size) / double(out_size);
    double filterscale = std::max(1.0, scale);
    double support = 1.0 * filterscale;  // triangle filter has support 1
    t.stride = int(std::ceil(support)) * 2 + 1;
    t.first.resize(size_t(out_size));
    t.count.resize(size_t(out_size));
    t.weights.assign(size_t(out_size) * t.stride, 0.0f);
    for (int i = 0; i < out_size; ++i) {
        double center = (i + 0.5) * scale;
        int x0 = std::max(0, int(std::floor(center - support + 0.5)));
        int x1 = std::min(in_size, int(std::floor(center + support + 0.5)));
        double total = 0;
        std::vector<double> w;
        for (int x = x0; x < x1; ++x) {
            double d = (x - center + 0.5) / filterscale;
            double v = std::max(0.0, 1.0 - std::fabs(d));
            w.push_back(v);
            total += v;
        }
        t.first[size_t(i)] = x0;
        t.count[size_t(i)] = int(w.size());
        for (size_t k = 0; k < w.size() && int(k) < t.stride; ++k)
            t.weights[size_t(i) * t.stride + k] = float(total > 0 ? w[k] / total : 0.0);
    }
    return t;
}

}  // namespace

std::vector<uint8_t> resize_bilinear_antialias(const uint8_t* pixels, int width, int height, int channels,
                                               int new_width, int new_height) {
    std::vector<uint8_t> out(size_t(new_width) * new_height * channels);
    if (width <= 0 || height <= 0 || new_width <= 0 || new_height <= 0) return out;
    Taps tx = triangle_taps(width, new_width), ty = triangle_taps(height, new_height);
    std::vector<float> tmp(size_t(new_width) * height * channels);  // horizontal pass
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < new_width; ++x)
            for (int c = 0; c < channels; ++c) {
                float s = 0;
                for (int k = 0; k < tx.count[size_t(x)]; ++k)
                    s += tx.weights[size_t(x) * tx.stride + k] *
                         pixels[(size_t(y) * width + tx.first[size_t(x)] + k) * channels + c];
                tmp[(size_t(y) * new_width + x) * channels + c] = s;
            }
    for (int y = 0; y < new_height; ++y)
        for (int x = 0; x < new_width; ++x)
            for (int c = 0; c < channels; ++c) {
                float s = 0;
                for (int k = 0; k < ty.count[size_t(y)]; ++k)
                    s += ty.weights[size_t(y) * ty.stride + k] *
                         tmp[(size_t(ty.first[size_t(y)] + k) * new_width + x) * channels + c];
                out[(size_t(y) * new_width + x) * channels + c] = uint8_t(std::clamp(std::lround(s), 0L, 255L));
            }
    return out;
}

std::vector<float> sam_preprocess(const uint8_t* pixels, int width, int height, int channels, const SamFrame& f) {
    const int T = f.target;
    std::vector<float> out(size_t(3) * T * T, 0.0f);
    if (width <= 0 || height <= 0 || channels < 3 || f.resized_width <= 0) return out;
    std::vector<uint8_t> resized =
        resize_bilinear_antialias(pixels, width, height, channels, f.resized_width, f.resized_height);
    for (int c = 0; c < 3; ++c) {
        float* plane = &out[size_t(c) * T * T];
        for (int y = 0; y < f.resized_height; ++y)
            for (int x = 0; x < f.resized_width; ++x)
                plane[size_t(y) * T + x] =
                    (float(resized[(size_t(y) * f.resized_width + x) * channels + c]) - kSamPixelMean[c]) /
                    kSamPixelStd[c];
    }
    return out;
}

Point sam_to_model(const SamFrame& f, Point p) {
    if (f.orig_width <= 0 || f.orig_height <= 0) return p;
    return Point{p.x * double(f.resized_width) / double(f.orig_width),
                 p.y * double(f.resized_height) / double(f.orig_height)};
}

SamDecoderPrompt sam_encode_prompt(const SamFrame& f, const SamPrompt& prompt) {
    SamDecoderPrompt d;
    auto add = [&](Point p, float label) {
        Point q = sam_to_model(f, p);
        d.coords.push_back(float(q.x));
        d.coords.push_back(float(q.y));
        d.labels.push_back(label);
    };
    for (const SamPoint& sp : prompt.points) add(sp.p, sp.positive ? 1.0f : 0.0f);
    if (prompt.has_box) {
        add(Point{prompt.box.x, prompt.box.y}, 2.0f);
        add(Point{prompt.box.x2(), prompt.box.y2()}, 3.0f);
    } else {
        d.coords.push_back(0.0f);
        d.coords.push_back(0.0f);
        d.labels.push_back(-1.0f);
    }
    return d;
}

namespace {

// Bilinear sample positions for align_corners=False resizing along one axis.
struct Lerp {
    std::vector<int> i0, i1;
    std::vector<float> w1;
};

Lerp lerp_axis(int in_size, int out_size, int in_extent_used) {
    // out pixel o maps to source coordinate (o + 0.5) * in_size / out_size - 0.5,
    // clamped to [0, in_extent_used - 1] (PyTorch's upsample_bilinear2d).
    Lerp l;
    l.i0.resize(size_t(out_size));
    l.i1.resize(size_t(out_size));
    l.w1.resize(size_t(out_size));
    double scale = double(in_size) / double(out_size);
    for (int o = 0; o < out_size; ++o) {
        double s = std::max(0.0, (o + 0.5) * scale - 0.5);
        int a = std::min(int(std::floor(s)), in_extent_used - 1);
        int b = std::min(a + 1, in_extent_used - 1);
        l.i0[size_t(o)] = a;
        l.i1[size_t(o)] = b;
        l.w1[size_t(o)] = float(s - a);
        if (a == b) l.w1[size_t(o)] = 0.0f;
    }
    return l;
}

std::vector<float> resize_plane(const float* in, int w, int h, int out_w, int out_h, int region_w, int region_h,
                                int scale_w, int scale_h) {
    // Resizes in[0..h)[0..w) as if the full input were scale_w x scale_h → out_w x out_h,
    // but computes only the top-left region_w x region_h outputs.
    Lerp lx = lerp_axis(scale_w, out_w, w), ly = lerp_axis(scale_h, out_h, h);
    std::vector<float> out(size_t(region_w) * region_h);
    for (int y = 0; y < region_h; ++y) {
        const float* r0 = in + size_t(ly.i0[size_t(y)]) * w;
        const float* r1 = in + size_t(ly.i1[size_t(y)]) * w;
        float wy = ly.w1[size_t(y)];
        for (int x = 0; x < region_w; ++x) {
            int a = lx.i0[size_t(x)], b = lx.i1[size_t(x)];
            float wx = lx.w1[size_t(x)];
            float top = r0[a] + (r0[b] - r0[a]) * wx;
            float bottom = r1[a] + (r1[b] - r1[a]) * wx;
            out[size_t(y) * region_w + x] = top + (bottom - top) * wy;
        }
    }
    return out;
}

}  // namespace

Mask sam_postprocess(const float* low_res, int lw, int lh, const SamFrame& f, float threshold) {
    if (lw <= 0 || lh <= 0 || f.orig_width <= 0 || f.orig_height <= 0) return Mask();
    // Step 1: low-res → target x target, only the unpadded region is needed.
    std::vector<float> up =
        resize_plane(low_res, lw, lh, f.target, f.target, f.resized_width, f.resized_height, lw, lh);
    // Step 2: the cropped region → original size.
    std::vector<float> full = resize_plane(up.data(), f.resized_width, f.resized_height, f.orig_width,
                                           f.orig_height, f.orig_width, f.orig_height, f.resized_width,
                                           f.resized_height);
    return mask_from_floats(full.data(), f.orig_width, f.orig_height, threshold);
}

int sam_select_mask(const float* iou, int count, bool skip_first_when_multimask) {
    if (count <= 0) return -1;
    int start = (skip_first_when_multimask && count > 1) ? 1 : 0;
    int best = start;
    for (int i = start + 1; i < count; ++i)
        if (iou[i] > iou[best]) best = i;
    return best;
}

}  // namespace es
