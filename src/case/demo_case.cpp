// demo_case.cpp: the synthetic endoscopy renderer and the demo case (see demo_case.h).
//
// Model: a height field (haustral folds around the lumen, fine mucosal relief,
// polyp domes) lit by a point light at the camera, as on an endoscope tip; the
// colour is a mucosa albedo (low-frequency mottling, branching submucosal
// vessels, paler polyp surface), then distance falloff toward the lumen,
// lens vignetting, specular glints from the wet surface, sensor noise, and the
// scope's black field-of-view border.
#include "case/demo_case.h"

#include <algorithm>
#include <cmath>

#include "image/png_encode.h"

namespace es {
namespace {

constexpr float kPi = 3.14159265358979f;

// Deterministic randomness: splitmix64 for sequences, an integer hash for noise lattices.
struct Rng {
    uint64_t state;
    explicit Rng(uint64_t seed) : state(seed) {}
    uint64_t next() {
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    float uniform() { return float(next() >> 40) / float(1u << 24); }          // [0, 1)
    float range(float lo, float hi) { return lo + (hi - lo) * uniform(); }
};

uint32_t hash3(int32_t x, int32_t y, uint32_t seed) {
    uint32_t h = seed * 0x27D4EB2Du ^ uint32_t(x) * 0x85EBCA6Bu ^ uint32_t(y) * 0xC2B2AE35u;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    h *= 0x297A2D39u;
    h ^= h >> 15;
    return h;
}

float lattice(int32_t x, int32_t y, uint32_t seed) { return float(hash3(x, y, seed) >> 8) / float(1u << 24) * 2.0f - 1.0f; }

float fade(float t) { return t * t * t * (t * (t * 6.0f - 15.0f) + 10.0f); }

// Value noise in [-1, 1].
float value_noise(float x, float y, uint32_t seed) {
    float fx = std::floor(x), fy = std::floor(y);
    int32_t ix = int32_t(fx), iy = int32_t(fy);
    float tx = fade(x - fx), ty = fade(y - fy);
    float a = lattice(ix, iy, seed), b = lattice(ix + 1, iy, seed);
    float c = lattice(ix, iy + 1, seed), d = lattice(ix + 1, iy + 1, seed);
    return (a + (b - a) * tx) + ((c + (d - c) * tx) - (a + (b - a) * tx)) * ty;
}

// Fractal sum of value noise, roughly in [-1, 1]; `scale` is the largest feature size in pixels.
float fbm(float x, float y, float scale, int octaves, uint32_t seed) {
    float sum = 0, amp = 1, norm = 0, f = 1.0f / scale;
    for (int o = 0; o < octaves; ++o) {
        sum += amp * value_noise(x * f, y * f, seed + uint32_t(o) * 101u);
        norm += amp;
        amp *= 0.5f;
        f *= 2.03f;
    }
    return sum / norm;
}

float clamp01(float v) { return v < 0 ? 0 : (v > 1 ? 1 : v); }
float smoothstep(float e0, float e1, float x) {
    float t = clamp01((x - e0) / (e1 - e0));
    return t * t * (3 - 2 * t);
}
float mix(float a, float b, float t) { return a + (b - a) * t; }

struct Vec3 {
    float r, g, b;
};
Vec3 mix(const Vec3& a, const Vec3& b, float t) { return {mix(a.r, b.r, t), mix(a.g, b.g, t), mix(a.b, b.b, t)}; }

// A polyp's normalised radial coordinate: q < 1 inside, q = 1 on its lobed boundary.
float polyp_q(const DemoPolyp& p, float x, float y, float phase1, float phase2) {
    float dx = x - p.cx, dy = y - p.cy;
    float c = std::cos(p.angle), s = std::sin(p.angle);
    float u = (dx * c + dy * s) / p.rx, v = (-dx * s + dy * c) / p.ry;
    float theta = std::atan2(v, u);
    float boundary = 1.0f + p.lobes * (0.6f * std::sin(3 * theta + phase1) + 0.4f * std::sin(5 * theta + phase2));
    return std::sqrt(u * u + v * v) / boundary;
}

// Submucosal vessels: branching random walks, drawn as soft lines into `map`.
void draw_vessels(std::vector<float>& map, int w, int h, Rng& rng) {
    struct Walker {
        float x, y, dir, width;
        int steps;
    };
    std::vector<Walker> stack;
    const int roots = 9;
    for (int i = 0; i < roots; ++i) {
        // Start on the image border, heading inward.
        float t = rng.uniform();
        int side = int(rng.next() % 4);
        float x = side == 0 ? 0 : side == 1 ? float(w - 1) : t * float(w);
        float y = side == 2 ? 0 : side == 3 ? float(h - 1) : t * float(h);
        float dir = std::atan2(float(h) / 2 - y, float(w) / 2 - x) + rng.range(-0.8f, 0.8f);
        stack.push_back({x, y, dir, rng.range(1.8f, 3.0f), 0});
    }
    int segments = 0;
    while (!stack.empty() && segments < 4000) {
        Walker wk = stack.back();
        stack.pop_back();
        while (wk.width > 0.45f && wk.steps < 120 && segments < 4000) {
            float step = 5.0f;
            float nx = wk.x + std::cos(wk.dir) * step, ny = wk.y + std::sin(wk.dir) * step;
            // Soft segment: intensity exp(-(d / width)^2).
            float reach = wk.width * 2.5f + 1;
            int x0 = std::max(0, int(std::floor(std::min(wk.x, nx) - reach)));
            int x1 = std::min(w - 1, int(std::ceil(std::max(wk.x, nx) + reach)));
            int y0 = std::max(0, int(std::floor(std::min(wk.y, ny) - reach)));
            int y1 = std::min(h - 1, int(std::ceil(std::max(wk.y, ny) + reach)));
            float sx = nx - wk.x, sy = ny - wk.y, len2 = sx * sx + sy * sy;
            float strength = std::min(1.0f, 0.35f + wk.width * 0.3f);
            for (int y = y0; y <= y1; ++y)
                for (int x = x0; x <= x1; ++x) {
                    float px = float(x) - wk.x, py = float(y) - wk.y;
                    float t = clamp01((px * sx + py * sy) / len2);
                    float dx = px - t * sx, dy = py - t * sy;
                    float d2 = (dx * dx + dy * dy) / (wk.width * wk.width);
                    float v = strength * std::exp(-d2);
                    float& m = map[size_t(y) * w + x];
                    if (v > m) m = v;
                }
            ++segments;
            wk.x = nx;
            wk.y = ny;
            wk.dir += rng.range(-0.28f, 0.28f);
            wk.width *= 0.992f;
            ++wk.steps;
            if (nx < -10 || ny < -10 || nx > float(w + 10) || ny > float(h + 10)) break;
            if (rng.uniform() < 0.07f) {
                float side = rng.uniform() < 0.5f ? -1.0f : 1.0f;
                stack.push_back({wk.x, wk.y, wk.dir + side * rng.range(0.4f, 0.9f), wk.width * 0.68f, wk.steps});
                wk.width *= 0.9f;
            }
        }
    }
}

}  // namespace

DemoRendering render_demo_image(const DemoImageSpec& spec) {
    const int w = spec.width, h = spec.height;
    DemoRendering out;
    if (w <= 0 || h <= 0) return out;
    const size_t n = size_t(w) * h;
    Rng rng(spec.seed);
    const uint32_t nseed = uint32_t(spec.seed * 7919u + 17u);

    // Polyp boundary phases (irregular outlines).
    std::vector<std::pair<float, float>> phases;
    for (size_t i = 0; i < spec.polyps.size(); ++i) phases.push_back({rng.range(0, 2 * kPi), rng.range(0, 2 * kPi)});

    // The scope's field of view: a rectangle with cut corners, black outside;
    // 1 inside, 0 outside, anti-aliased over one pixel.
    auto field_of_view = [w, h](int x, int y) {
        const float cx = float(w) / 2, cy = float(h) / 2, corner = 0.14f * float(h), inset = 3.0f;
        float ax = std::abs(float(x) + 0.5f - cx), ay = std::abs(float(y) + 0.5f - cy);
        float outside = std::max({ax - (cx - inset), ay - (cy - inset), (ax + ay - (cx + cy - 2 * inset - corner)) * 0.7071f});
        return clamp01(0.5f - outside);
    };

    // 1. Height field and polyp coverage.
    const float lx = spec.lumen_x * float(w), ly = spec.lumen_y * float(h);
    const float lumen_r = spec.lumen_radius * float(h);
    std::vector<float> height(n), polyp_cover(n, 0.0f), polyp_shadow(n, 0.0f);
    std::vector<int> polyp_id(n, -1);
    const float fold_period = 0.42f * float(h);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const size_t i = size_t(y) * w + x;
            const float fx = float(x), fy = float(y);
            float dx = fx - lx, dy = fy - ly, d = std::sqrt(dx * dx + dy * dy);
            // Haustral folds: warped rings around the lumen, flattening toward it.
            float warp = 40.0f * fbm(fx, fy, 160.0f, 3, nseed + 1);
            float ring = std::sin((d + warp) * 2 * kPi / fold_period);
            float fold = 16.0f * std::pow(0.5f + 0.5f * ring, 2.5f) * smoothstep(lumen_r * 0.8f, lumen_r * 2.2f, d);
            // Fine mucosal relief: the source of small specular glints.
            float relief = 0.45f * fbm(fx, fy, 9.0f, 3, nseed + 2);
            float hgt = fold + relief;
            for (size_t p = 0; p < spec.polyps.size(); ++p) {
                const DemoPolyp& pp = spec.polyps[p];
                float q = polyp_q(pp, fx, fy, phases[p].first, phases[p].second);
                if (q < 1.0f) {
                    float rmean = 0.5f * (pp.rx + pp.ry);
                    float dome = pp.height * rmean * std::pow(1.0f - q * q, 0.8f);
                    float bumps = 1.4f * fbm(fx, fy, 11.0f, 3, nseed + 10 + uint32_t(p));  // lobulated surface
                    hgt += dome + bumps * smoothstep(1.0f, 0.6f, q);  // sits on the mucosa: continuous at its edge
                    polyp_id[i] = int(p);
                }
                // Anti-aliased coverage over ~1 px of q, and a contact shadow just outside.
                float rmin = std::min(pp.rx, pp.ry);
                float cover = clamp01((1.0f - q) * rmin + 0.5f);
                polyp_cover[i] = std::max(polyp_cover[i], cover);
                if (q > 1.0f) polyp_shadow[i] = std::max(polyp_shadow[i], std::exp(-std::pow((q - 1.0f) / 0.12f, 2.0f)));
            }
            height[i] = hgt;
        }

    // 2. Vessels (hidden under polyps and fading into the lumen's darkness).
    std::vector<float> vessels(n, 0.0f);
    draw_vessels(vessels, w, h, rng);

    // 3. Shade.
    out.image.width = w;
    out.image.height = h;
    out.image.rgba.resize(n * 4);
    const Vec3 deep{0.62f, 0.20f, 0.19f}, pale{0.90f, 0.50f, 0.44f};
    const Vec3 vessel_colour{0.42f, 0.07f, 0.13f}, polyp_colour{0.88f, 0.47f, 0.42f}, lumen_colour{0.10f, 0.025f, 0.02f};
    const float cx = float(w) / 2, cy = float(h) / 2, focal = 0.9f * float(w);
    Rng noise_rng(spec.seed ^ 0xA5A5A5A5ull);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const size_t i = size_t(y) * w + x;
            const float fx = float(x), fy = float(y);
            auto H = [&](int xx, int yy) {
                xx = std::clamp(xx, 0, w - 1);
                yy = std::clamp(yy, 0, h - 1);
                return height[size_t(yy) * w + xx];
            };
            float gx = 0.5f * (H(x + 1, y) - H(x - 1, y)), gy = 0.5f * (H(x, y + 1) - H(x, y - 1));
            float nlen = std::sqrt(gx * gx + gy * gy + 1.0f);
            float nxv = -gx / nlen, nyv = -gy / nlen, nzv = 1.0f / nlen;
            // Light at the camera: direction from the surface point toward the lens.
            float lxv = cx - fx, lyv = cy - fy, lzv = focal, llen = std::sqrt(lxv * lxv + lyv * lyv + lzv * lzv);
            float ndotl = std::max(0.0f, (nxv * lxv + nyv * lyv + nzv * lzv) / llen);

            // Albedo.
            float mottle = 0.5f + 0.5f * fbm(fx, fy, 120.0f, 4, nseed + 3);
            Vec3 albedo = mix(deep, pale, clamp01(0.15f + 0.85f * mottle));
            float grain = 1.0f + 0.04f * fbm(fx, fy, 3.0f, 2, nseed + 4);
            float cover = polyp_cover[i];
            float v = vessels[i] * (1.0f - cover) * (0.55f + 0.45f * mottle);
            albedo = mix(albedo, vessel_colour, 0.62f * v);
            float polyp_tex = 0.5f + 0.5f * fbm(fx, fy, 9.0f, 3, nseed + 5);
            Vec3 pc = mix(polyp_colour, Vec3{0.80f, 0.33f, 0.31f}, 0.45f * polyp_tex);
            albedo = mix(albedo, pc, cover);

            // Illumination: distance falloff toward the lumen, vignetting, contact shadow.
            float dl = std::sqrt((fx - lx) * (fx - lx) + (fy - ly) * (fy - ly)) / lumen_r;
            float depth_light = 0.06f + 0.94f * smoothstep(0.35f, 2.6f, dl);
            float r2 = ((fx - cx) * (fx - cx) + (fy - cy) * (fy - cy)) / (cx * cx + cy * cy);
            float vignette = 1.0f - 0.55f * std::pow(r2, 1.3f);
            float shadow = 1.0f - 0.35f * polyp_shadow[i] * (1.0f - cover);
            float light = depth_light * vignette * shadow;
            float shade = 0.22f + 0.95f * ndotl;

            // Wet surface: sharp specular glints where the surface faces the lens.
            // Glints gather in wet patches of the mucosa; the polyp dome is wet all over.
            float wet = polyp_id[i] >= 0 ? 1.0f : smoothstep(0.1f, 0.6f, fbm(fx, fy, 50.0f, 2, nseed + 6));
            float shininess = polyp_id[i] >= 0 ? 120.0f : 260.0f;
            float spec_light = 1.4f * wet * std::pow(ndotl, shininess) * depth_light;

            float rgb[3] = {albedo.r, albedo.g, albedo.b};
            float lumen_t = smoothstep(1.3f, 0.2f, dl);
            const float lumen_rgb[3] = {lumen_colour.r, lumen_colour.g, lumen_colour.b};
            float fov = field_of_view(x, y);
            uint8_t* px = out.image.pixel(x, y);
            for (int c = 0; c < 3; ++c) {
                float col = rgb[c] * grain * shade * light + spec_light * (c == 0 ? 1.0f : c == 1 ? 0.97f : 0.95f);
                col = mix(col, lumen_rgb[c] * (0.6f + 0.4f * mottle), lumen_t);
                col += (noise_rng.uniform() - 0.5f) * 0.012f;
                col *= fov;
                px[c] = uint8_t(std::lround(clamp01(col) * 255.0f));
            }
            px[3] = 255;
        }

    // 4. Ground-truth masks: inside the polyp's outline and the field of view.
    for (size_t p = 0; p < spec.polyps.size(); ++p) {
        std::vector<uint8_t> mask(n, 0);
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                float q = polyp_q(spec.polyps[p], float(x), float(y), phases[p].first, phases[p].second);
                if (q < 1.0f && field_of_view(x, y) >= 0.5f) mask[size_t(y) * w + x] = 255;
            }
        out.masks.push_back(std::move(mask));
    }
    return out;
}

std::vector<DemoImageSpec> demo_image_specs() {
    std::vector<DemoImageSpec> specs(4);
    specs[0].file = "image-1.png";
    specs[0].title = "Sigmoid colon: sessile polyp";
    specs[0].location = "sigmoid colon";
    specs[0].seed = 101;
    specs[0].lumen_x = 0.30f, specs[0].lumen_y = 0.32f, specs[0].lumen_radius = 0.15f;
    specs[0].polyps = {{420, 320, 72, 58, 0.35f, 0.55f, 0.08f}};

    specs[1].file = "image-2.png";
    specs[1].title = "Descending colon: two small polyps";
    specs[1].location = "descending colon";
    specs[1].seed = 202;
    specs[1].lumen_x = 0.62f, specs[1].lumen_y = 0.26f, specs[1].lumen_radius = 0.13f;
    specs[1].polyps = {{210, 330, 44, 38, -0.4f, 0.6f, 0.06f}, {455, 375, 30, 26, 0.9f, 0.7f, 0.05f}};

    specs[2].file = "image-3.png";
    specs[2].title = "Rectum: large lobulated polyp";
    specs[2].location = "rectum";
    specs[2].seed = 303;
    specs[2].lumen_x = 0.80f, specs[2].lumen_y = 0.24f, specs[2].lumen_radius = 0.14f;
    specs[2].polyps = {{290, 300, 118, 92, -0.25f, 0.5f, 0.11f}};

    specs[3].file = "image-4.png";
    specs[3].title = "Transverse colon: normal mucosa";
    specs[3].location = "transverse colon";
    specs[3].seed = 404;
    specs[3].lumen_x = 0.48f, specs[3].lumen_y = 0.45f, specs[3].lumen_radius = 0.17f;
    return specs;
}

std::vector<NamedFile> make_demo_case(Case* manifest) {
    Case c;
    c.id = "demo";
    c.title = "Demo case (synthetic)";
    c.procedure = "colonoscopy";
    c.description =
        "Synthetic colonoscopy-like images made by tools/make_demo_case with exact lesion masks. "
        "Not patient data; for trying the viewer, segmentation, questions and reports.";
    std::vector<NamedFile> files;
    for (const DemoImageSpec& spec : demo_image_specs()) {
        DemoRendering r = render_demo_image(spec);
        CaseImage ci;
        ci.file = spec.file;
        ci.width = spec.width;
        ci.height = spec.height;
        ci.title = spec.title;
        ci.location = spec.location;
        std::string stem = spec.file.substr(0, spec.file.rfind('.'));
        for (size_t p = 0; p < r.masks.size(); ++p) {
            const std::vector<uint8_t>& m = r.masks[p];
            Lesion l;
            l.id = "lesion-" + std::to_string(p + 1);
            l.label = "polyp";
            l.mask = stem + "-lesion-" + std::to_string(p + 1) + ".png";
            int x1 = spec.width, y1 = spec.height, x2 = 0, y2 = 0;
            for (int y = 0; y < spec.height; ++y)
                for (int x = 0; x < spec.width; ++x)
                    if (m[size_t(y) * spec.width + x]) {
                        ++l.area;
                        x1 = std::min(x1, x), y1 = std::min(y1, y);
                        x2 = std::max(x2, x + 1), y2 = std::max(y2, y + 1);
                    }
            l.box = {x1, y1, x2, y2};
            files.push_back({l.mask, encode_png_gray(m.data(), spec.width, spec.height)});
            ci.lesions.push_back(l);
        }
        files.push_back({spec.file, encode_png(r.image)});
        c.images.push_back(ci);
    }
    std::string json = case_to_json(c);
    files.insert(files.begin(), {"case.json", std::vector<uint8_t>(json.begin(), json.end())});
    if (manifest) *manifest = c;
    return files;
}

}  // namespace es
