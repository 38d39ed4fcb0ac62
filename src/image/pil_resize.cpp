// pil_resize.cpp: Pillow's convolution resampling (libImaging/Resample.c) and
// its nearest-neighbour scale (libImaging/Geometry.c), re-derived so every
// rounding step lands where Pillow's does: double-precision filter weights
// normalised per output pixel, then rounded half away from zero to 22-bit
// integers; integer accumulation starting at one half; the result shifted and
// clipped to 0..255 after each pass.
#include "image/pil_resize.h"

#include <cmath>
#include <cstring>

namespace es {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

double box_filter(double x) { return x > -0.5 && x <= 0.5 ? 1.0 : 0.0; }
double bilinear_filter(double x) {
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}
double hamming_filter(double x) {
    if (x < 0.0) x = -x;
    if (x == 0.0) return 1.0;
    if (x >= 1.0) return 0.0;
    x = x * M_PI;
    // Pillow writes these constants as floats: keep their float values.
    return std::sin(x) / x * (double(0.54f) + double(0.46f) * std::cos(x));
}
double bicubic_filter(double x) {
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}
double sinc_filter(double x) {
    if (x == 0.0) return 1.0;
    x = x * M_PI;
    return std::sin(x) / x;
}
double lanczos_filter(double x) {
    if (-3.0 <= x && x < 3.0) return sinc_filter(x) * sinc_filter(x / 3);
    return 0.0;
}

struct Filter {
    double (*fn)(double);
    double support;
};

bool filter_for(PilFilter f, Filter* out) {
    switch (f) {
        case PilFilter::Box: *out = {box_filter, 0.5}; return true;
        case PilFilter::Bilinear: *out = {bilinear_filter, 1.0}; return true;
        case PilFilter::Hamming: *out = {hamming_filter, 1.0}; return true;
        case PilFilter::Bicubic: *out = {bicubic_filter, 2.0}; return true;
        case PilFilter::Lanczos: *out = {lanczos_filter, 3.0}; return true;
        case PilFilter::Nearest: return false;
    }
    return false;
}

// Per output position: the first input index, how many inputs, and ksize
// fixed-point weights.
struct Coefficients {
    int ksize = 0;
    std::vector<int> first, count;
    std::vector<int32_t> weights;
};

Coefficients precompute(int in_size, int out_size, const Filter& filter) {
    Coefficients c;
    // Pillow's box is (0, 0, width, height) as floats.
    const float in0 = 0.0f, in1 = float(in_size);
    const double scale = double(in1 - in0) / out_size;
    const double filterscale = scale < 1.0 ? 1.0 : scale;
    const double support = filter.support * filterscale;
    c.ksize = int(std::ceil(support)) * 2 + 1;
    c.first.resize(out_size);
    c.count.resize(out_size);
    c.weights.assign(size_t(out_size) * c.ksize, 0);
    std::vector<double> k(c.ksize);
    for (int xx = 0; xx < out_size; ++xx) {
        const double center = in0 + (xx + 0.5) * scale;
        const double ss = 1.0 / filterscale;
        int xmin = int(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = int(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double ww = 0.0;
        for (int x = 0; x < xmax; ++x) {
            const double w = filter.fn((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (int x = 0; x < xmax; ++x)
            if (ww != 0.0) k[x] /= ww;
        int32_t* dst = &c.weights[size_t(xx) * c.ksize];
        for (int x = 0; x < xmax; ++x)
            dst[x] = k[x] < 0 ? int32_t(-0.5 + k[x] * (1 << kPrecisionBits))
                              : int32_t(0.5 + k[x] * (1 << kPrecisionBits));
        c.first[xx] = xmin;
        c.count[xx] = xmax;
    }
    return c;
}

inline uint8_t clip8(int32_t v) {
    const int32_t s = v >> kPrecisionBits;  // arithmetic shift, as in Pillow
    return uint8_t(s < 0 ? 0 : s > 255 ? 255 : s);
}

void horizontal_pass(const uint8_t* in, int in_w, int h, int ch, const Coefficients& c, int out_w, uint8_t* out) {
    for (int y = 0; y < h; ++y) {
        const uint8_t* row = in + size_t(y) * in_w * ch;
        uint8_t* orow = out + size_t(y) * out_w * ch;
        for (int xx = 0; xx < out_w; ++xx) {
            const int32_t* k = &c.weights[size_t(xx) * c.ksize];
            const int xmin = c.first[xx], n = c.count[xx];
            for (int b = 0; b < ch; ++b) {
                int32_t ss = 1 << (kPrecisionBits - 1);
                for (int x = 0; x < n; ++x) ss += int32_t(row[(x + xmin) * ch + b]) * k[x];
                orow[xx * ch + b] = clip8(ss);
            }
        }
    }
}

void vertical_pass(const uint8_t* in, int w, int ch, const Coefficients& c, int out_h, uint8_t* out) {
    const size_t stride = size_t(w) * ch;
    for (int yy = 0; yy < out_h; ++yy) {
        const int32_t* k = &c.weights[size_t(yy) * c.ksize];
        const int ymin = c.first[yy], n = c.count[yy];
        uint8_t* orow = out + size_t(yy) * stride;
        for (size_t i = 0; i < stride; ++i) {
            int32_t ss = 1 << (kPrecisionBits - 1);
            for (int y = 0; y < n; ++y) ss += int32_t(in[size_t(y + ymin) * stride + i]) * k[y];
            orow[i] = clip8(ss);
        }
    }
}

// Pillow's NEAREST resize: an affine scale whose source coordinate is
// accumulated in double precision from the first pixel centre.
void nearest(const uint8_t* in, int w, int h, int ch, int out_w, int out_h, uint8_t* out) {
    const double ax = double(float(w)) / out_w, ay = double(float(h)) / out_h;
    std::vector<int> xin(out_w);
    double xo = ax * 0.5;
    for (int x = 0; x < out_w; ++x) {
        xin[x] = xo < 0.0 ? -1 : int(xo);
        xo += ax;
    }
    double yo = ay * 0.5;
    for (int y = 0; y < out_h; ++y) {
        const int yi = yo < 0.0 ? -1 : int(yo);
        yo += ay;
        uint8_t* orow = out + size_t(y) * out_w * ch;
        for (int x = 0; x < out_w; ++x) {
            if (yi >= 0 && yi < h && xin[x] >= 0 && xin[x] < w)
                std::memcpy(orow + size_t(x) * ch, in + (size_t(yi) * w + xin[x]) * ch, size_t(ch));
            else
                std::memset(orow + size_t(x) * ch, 0, size_t(ch));
        }
    }
}

}  // namespace

bool pil_resize(const uint8_t* pixels, int width, int height, int channels, int out_width, int out_height,
                PilFilter filter, std::vector<uint8_t>* out) {
    if (!pixels || !out || width <= 0 || height <= 0 || out_width <= 0 || out_height <= 0 || channels < 1 ||
        channels > 4)
        return false;
    const size_t in_bytes = size_t(width) * height * channels;
    if (width == out_width && height == out_height) {
        out->assign(pixels, pixels + in_bytes);
        return true;
    }
    out->assign(size_t(out_width) * out_height * channels, 0);
    if (filter == PilFilter::Nearest) {
        nearest(pixels, width, height, channels, out_width, out_height, out->data());
        return true;
    }
    Filter f;
    if (!filter_for(filter, &f)) return false;
    std::vector<uint8_t> temp;
    const uint8_t* src = pixels;
    int src_w = width;
    if (out_width != width) {
        const Coefficients ch = precompute(width, out_width, f);
        temp.resize(size_t(out_width) * height * channels);
        horizontal_pass(pixels, width, height, channels, ch, out_width, temp.data());
        src = temp.data();
        src_w = out_width;
    }
    if (out_height != height) {
        const Coefficients cv = precompute(height, out_height, f);
        vertical_pass(src, src_w, channels, cv, out_height, out->data());
    } else {
        std::memcpy(out->data(), src, out->size());
    }
    return true;
}

}  // namespace es
