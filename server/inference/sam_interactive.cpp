// sam_interactive.cpp: see sam_interactive.h (a port of web/segmentation/interactive.js).
#include "inference/sam_interactive.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "mask/contour.h"

namespace es::server {

namespace {

// Values cross the WASM bindings as float32 in the app: do the same here.
double f32(double v) { return double(float(v)); }
Box f32_box(const Box& b) { return Box{f32(b.x), f32(b.y), f32(b.w), f32(b.h)}; }

struct Session {
    SamEngine& engine;
    const SamEmbedding& emb;
    const SamStrategy& s;
    std::optional<Box> user_box;
    std::vector<SamPoint> points;
    std::optional<Box> auto_box;
    std::vector<float> low_res;  // empty = none yet
    int passes = 0;

    SamDecoded decode(const std::optional<Box>& box, const std::vector<float>* mask_input) {
        SamDecodeInput in;
        for (const SamPoint& p : points) in.prompt.points.push_back({{f32(p.p.x), f32(p.p.y)}, p.positive});
        if (box) {
            in.prompt.has_box = true;
            in.prompt.box = f32_box(*box);
        }
        in.mask_input = mask_input;
        ++passes;
        return std::move(engine.decode(emb, in).front());
    }

    double score(const SamDecoded& c) const {
        return s.select_stable ? double(c.iou) * sam_stability_score(c.low_res) : double(c.iou);
    }

    Box grow_box(const Box& b) const {
        double x0 = b.x, y0 = b.y, x1 = b.x + b.w, y1 = b.y + b.h;
        bool grown = false;
        for (const SamPoint& p : points) {
            if (!p.positive || (p.p.x >= x0 && p.p.x <= x1 && p.p.y >= y0 && p.p.y <= y1)) continue;
            x0 = std::min(x0, p.p.x);
            y0 = std::min(y0, p.p.y);
            x1 = std::max(x1, p.p.x);
            y1 = std::max(y1, p.p.y);
            grown = true;
        }
        if (!grown) return b;
        const double W = emb.width, H = emb.height, m = s.box_margin;
        const double mx = (x1 - x0) * m, my = (y1 - y0) * m;
        x0 = std::max(0.0, x0 - mx);
        y0 = std::max(0.0, y0 - my);
        x1 = std::min(W, x1 + mx);
        y1 = std::min(H, y1 + my);
        return Box{x0, y0, x1 - x0, y1 - y0};
    }

    std::optional<Box> derived_box(const Mask& mask) const {
        const double W = emb.width, H = emb.height;
        const double inf = std::numeric_limits<double>::infinity();
        double x0 = inf, y0 = inf, x1 = -inf, y1 = -inf;
        Box b = f32_box(mask_to_box(mask));
        if (!b.empty()) {
            x0 = b.x;
            y0 = b.y;
            x1 = b.x + b.w;
            y1 = b.y + b.h;
        }
        for (const SamPoint& p : points) {
            if (!p.positive) continue;
            x0 = std::min(x0, p.p.x - 1);
            y0 = std::min(y0, p.p.y - 1);
            x1 = std::max(x1, p.p.x + 1);
            y1 = std::max(y1, p.p.y + 1);
        }
        if (!(x1 > x0 && y1 > y0)) return std::nullopt;
        const double mx = (x1 - x0) * s.box_margin, my = (y1 - y0) * s.box_margin;
        x0 = std::max(0.0, x0 - mx);
        y0 = std::max(0.0, y0 - my);
        x1 = std::min(W, x1 + mx);
        y1 = std::min(H, y1 + my);
        return Box{x0, y0, x1 - x0, y1 - y0};
    }

    // InteractiveSegmentation.run().
    SamDecoded run() {
        const double W = emb.width, H = emb.height;
        if (points.size() <= 1) auto_box.reset();
        if (auto_box) auto_box = grow_box(*auto_box);
        const std::optional<Box> box = user_box ? user_box : auto_box;
        SamDecoded r = decode(box, s.feedback && !low_res.empty() ? &low_res : nullptr);
        if (!s.multi_scale.empty() && !user_box && points.size() == 1 && points[0].positive) {
            const double L = std::max(W, H);
            const SamPoint p = points[0];
            double best_score = double(r.mask.count()) < 0.5 * W * H ? score(r) : -std::numeric_limits<double>::infinity();
            for (double f : s.multi_scale) {
                const double half = (f * L) / 2;
                const double x0 = std::max(0.0, p.p.x - half), y0 = std::max(0.0, p.p.y - half);
                Box b{x0, y0, std::min(W, p.p.x + half) - x0, std::min(H, p.p.y + half) - y0};
                SamDecoded c = decode(b, nullptr);
                const double sc = score(c);
                if (sc > best_score) {
                    r = std::move(c);
                    best_score = sc;
                    if (s.keep_box) auto_box = b;
                }
            }
        }
        for (int i = 0; i < s.iterations; ++i) {
            std::vector<float> fed = r.low_res;
            r = decode(user_box, &fed);
        }
        if (s.box_refine && !user_box) {
            if (std::optional<Box> b = derived_box(r.mask)) {
                std::vector<float> fed = r.low_res;
                r = decode(b, s.feedback ? &fed : nullptr);
            }
        }
        low_res = r.low_res;
        return r;
    }
};

}  // namespace

double sam_stability_score(const std::vector<float>& logits, double offset) {
    size_t inner = 0, outer = 0;
    for (float v : logits) {
        if (v > offset) ++inner;
        if (v > -offset) ++outer;
    }
    return outer ? double(inner) / double(outer) : 0.0;
}

std::optional<InteractiveResult> sam_segment_interactive(SamEngine& engine, const SamEmbedding& embedding,
                                                         const std::vector<SamPoint>& points,
                                                         const std::optional<Box>& box, const SamStrategy& strategy) {
    if (points.empty() && !box) return std::nullopt;
    Session s{engine, embedding, strategy, box ? std::optional<Box>(f32_box(*box)) : std::nullopt, {}, {}, {}, 0};
    std::optional<SamDecoded> last;
    for (const SamPoint& p : points) {
        s.points.push_back(p);
        last = s.run();
    }
    if (!last) last = s.run();  // a box alone
    return InteractiveResult{std::move(*last), s.passes};
}

}  // namespace es::server
