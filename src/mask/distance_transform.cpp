#include "mask/distance_transform.h"

#include <cmath>
#include <limits>

namespace es {

// 1-D squared distance transform of a sampled function f (length n) into d.
static void edt_1d(const float* f, int n, float* d, std::vector<int>& v, std::vector<float>& z) {
    const float inf = std::numeric_limits<float>::infinity();
    v.resize(size_t(n));
    z.resize(size_t(n) + 1);
    int k = 0;
    v[0] = 0;
    z[0] = -inf;
    z[1] = inf;
    for (int q = 1; q < n; ++q) {
        if (f[q] == inf) continue;  // no parabola from an infinite sample
        if (f[v[size_t(k)]] == inf) {  // only infinite samples so far: restart the envelope
            v[0] = q;
            k = 0;
            z[0] = -inf;
            z[1] = inf;
            continue;
        }
        float s;
        while (true) {
            int p = v[size_t(k)];
            s = ((f[q] + float(q) * q) - (f[p] + float(p) * p)) / (2.0f * float(q - p));
            if (s <= z[size_t(k)] && k > 0) {
                --k;
                continue;
            }
            break;
        }
        if (s <= z[size_t(k)]) {  // k == 0: replace the only parabola
            v[0] = q;
            z[0] = -inf;
            z[1] = inf;
            continue;
        }
        ++k;
        v[size_t(k)] = q;
        z[size_t(k)] = s;
        z[size_t(k) + 1] = inf;
    }
    if (f[v[0]] == inf) {
        for (int q = 0; q < n; ++q) d[q] = inf;
        return;
    }
    k = 0;
    for (int q = 0; q < n; ++q) {
        while (z[size_t(k) + 1] < float(q)) ++k;
        int p = v[size_t(k)];
        d[q] = float(q - p) * float(q - p) + f[p];
    }
}

std::vector<float> distance_transform(const Mask& m, bool border_is_background) {
    const int pad = border_is_background ? 1 : 0;
    const int W = m.width + 2 * pad, H = m.height + 2 * pad;
    std::vector<float> out(m.data.size(), 0.0f);
    if (m.empty()) return out;
    const float inf = std::numeric_limits<float>::infinity();
    std::vector<float> g(size_t(W) * H, 0.0f);
    for (int y = 0; y < m.height; ++y)
        for (int x = 0; x < m.width; ++x)
            if (m.at(x, y)) g[size_t(y + pad) * W + x + pad] = inf;
    std::vector<float> f(size_t(std::max(W, H))), d(size_t(std::max(W, H)));
    std::vector<int> v;
    std::vector<float> z;
    for (int x = 0; x < W; ++x) {  // columns
        for (int y = 0; y < H; ++y) f[size_t(y)] = g[size_t(y) * W + x];
        edt_1d(f.data(), H, d.data(), v, z);
        for (int y = 0; y < H; ++y) g[size_t(y) * W + x] = d[size_t(y)];
    }
    for (int y = 0; y < H; ++y) {  // rows
        edt_1d(&g[size_t(y) * W], W, d.data(), v, z);
        for (int x = 0; x < W; ++x) g[size_t(y) * W + x] = d[size_t(x)];
    }
    for (int y = 0; y < m.height; ++y)
        for (int x = 0; x < m.width; ++x) {
            float s = g[size_t(y + pad) * W + x + pad];
            out[size_t(y) * m.width + x] = std::isinf(s) ? inf : std::sqrt(s);
        }
    return out;
}

InteriorPoint most_interior_point(const Mask& m, bool border_is_background) {
    InteriorPoint best;
    std::vector<float> d = distance_transform(m, border_is_background);
    for (int y = 0; y < m.height; ++y)
        for (int x = 0; x < m.width; ++x) {
            float v = d[size_t(y) * m.width + x];
            if (m.at(x, y) && v > best.distance) {
                best.distance = v;
                best.x = x;
                best.y = y;
            }
        }
    return best;
}

}  // namespace es
