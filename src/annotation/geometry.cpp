#include "annotation/geometry.h"

#include <algorithm>
#include <cmath>

namespace es {

Box box_from_corners(double x0, double y0, double x1, double y1) {
    Box b;
    b.x = std::min(x0, x1);
    b.y = std::min(y0, y1);
    b.w = std::fabs(x1 - x0);
    b.h = std::fabs(y1 - y0);
    return b;
}

Box box_intersection(const Box& a, const Box& b) {
    double x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
    double x1 = std::min(a.x2(), b.x2()), y1 = std::min(a.y2(), b.y2());
    if (x1 <= x0 || y1 <= y0) return Box{x0, y0, 0, 0};
    return Box{x0, y0, x1 - x0, y1 - y0};
}

double box_iou(const Box& a, const Box& b) {
    double inter = box_intersection(a, b).area();
    double uni = a.area() + b.area() - inter;
    return uni > 0 ? inter / uni : 0.0;
}

bool box_contains(const Box& b, Point p) { return p.x >= b.x && p.x <= b.x2() && p.y >= b.y && p.y <= b.y2(); }

double polygon_signed_area(const Polygon& p) {
    double s = 0;
    size_t n = p.size();
    for (size_t i = 0; i < n; ++i) {
        const Point& a = p[i];
        const Point& b = p[(i + 1) % n];
        s += a.x * b.y - b.x * a.y;
    }
    return s / 2;
}

double polygon_area(const Polygon& p) { return std::fabs(polygon_signed_area(p)); }

double polygon_perimeter(const Polygon& p) {
    double s = 0;
    for (size_t i = 0; i < p.size(); ++i) {
        const Point& a = p[i];
        const Point& b = p[(i + 1) % p.size()];
        s += std::hypot(b.x - a.x, b.y - a.y);
    }
    return s;
}

Box polygon_bounds(const Polygon& p) {
    if (p.empty()) return Box{};
    double x0 = p[0].x, y0 = p[0].y, x1 = x0, y1 = y0;
    for (const Point& q : p) {
        x0 = std::min(x0, q.x); x1 = std::max(x1, q.x);
        y0 = std::min(y0, q.y); y1 = std::max(y1, q.y);
    }
    return Box{x0, y0, x1 - x0, y1 - y0};
}

static bool on_segment(Point a, Point b, Point q) {
    double cross = (b.x - a.x) * (q.y - a.y) - (b.y - a.y) * (q.x - a.x);
    double scale = std::max({1.0, std::fabs(b.x - a.x), std::fabs(b.y - a.y)});
    if (std::fabs(cross) > 1e-9 * scale) return false;
    return q.x >= std::min(a.x, b.x) - 1e-12 && q.x <= std::max(a.x, b.x) + 1e-12 &&
           q.y >= std::min(a.y, b.y) - 1e-12 && q.y <= std::max(a.y, b.y) + 1e-12;
}

bool point_in_polygon(const Polygon& p, Point q) {
    size_t n = p.size();
    if (n < 3) return false;
    bool inside = false;
    for (size_t i = 0, j = n - 1; i < n; j = i++) {
        const Point& a = p[i];
        const Point& b = p[j];
        if (on_segment(a, b, q)) return true;
        // Half-open rule on y so a vertex shared by two edges is counted once.
        if ((a.y > q.y) != (b.y > q.y)) {
            double x = a.x + (q.y - a.y) * (b.x - a.x) / (b.y - a.y);
            if (q.x < x) inside = !inside;
        }
    }
    return inside;
}

Mask rasterize_polygons(const std::vector<Polygon>& rings, int width, int height) {
    Mask m(width, height);
    if (m.empty()) return m;
    std::vector<double> xs;
    for (int y = 0; y < height; ++y) {
        double cy = y + 0.5;
        xs.clear();
        for (const Polygon& p : rings) {
            size_t n = p.size();
            if (n < 3) continue;
            for (size_t i = 0, j = n - 1; i < n; j = i++) {
                const Point& a = p[i];
                const Point& b = p[j];
                if ((a.y > cy) != (b.y > cy)) xs.push_back(a.x + (cy - a.y) * (b.x - a.x) / (b.y - a.y));
            }
        }
        std::sort(xs.begin(), xs.end());
        // Spans between crossing pairs: pixel x is set when x0 <= x+0.5 < x1.
        for (size_t k = 0; k + 1 < xs.size(); k += 2) {
            double x0 = xs[k], x1 = xs[k + 1];
            if (!std::isfinite(x0) || !std::isfinite(x1)) continue;
            long first = long(std::ceil(std::max(-1.0, x0 - 0.5)));
            long last = long(std::ceil(std::min(double(width) + 1, x1 - 0.5))) - 1;
            first = std::max(first, 0L);
            last = std::min(last, long(width) - 1);
            for (long x = first; x <= last; ++x) m.at(int(x), y) ^= 1;
        }
    }
    return m;
}

Mask rasterize_box(const Box& b, int width, int height) {
    Polygon p{{b.x, b.y}, {b.x2(), b.y}, {b.x2(), b.y2()}, {b.x, b.y2()}};
    return rasterize_polygons({p}, width, height);
}

double mask_iou(const Mask& a, const Mask& b) {
    if (!a.same_size(b)) return 0.0;
    size_t inter = 0, uni = 0;
    for (size_t i = 0; i < a.data.size(); ++i) {
        bool x = a.data[i] != 0, y = b.data[i] != 0;
        inter += x && y;
        uni += x || y;
    }
    return uni ? double(inter) / double(uni) : 1.0;
}

double mask_dice(const Mask& a, const Mask& b) {
    if (!a.same_size(b)) return 0.0;
    size_t inter = mask_intersection_count(a, b);
    size_t sum = a.count() + b.count();
    return sum ? 2.0 * double(inter) / double(sum) : 1.0;
}

double polygon_iou(const Polygon& a, const Polygon& b, int width, int height) {
    return mask_iou(rasterize_polygons({a}, width, height), rasterize_polygons({b}, width, height));
}

}  // namespace es
