#include "mask/contour.h"

#include <algorithm>
#include <cmath>

#include "mask/connected_components.h"

namespace es {

namespace {

// Directions: 0 east, 1 south, 2 west, 3 north (screen coordinates, y down).
const int kDx[4] = {1, 0, -1, 0};
const int kDy[4] = {0, 1, 0, -1};

struct EdgeGrid {
    int W, H;                    // corners: (width+1) x (height+1)
    std::vector<uint8_t> out;    // per corner: bit d set = an unused edge leaves in direction d
    int index(int x, int y) const { return y * W + x; }
};

}  // namespace

std::vector<Contour> trace_contours(const Mask& m) {
    std::vector<Contour> result;
    if (m.empty()) return result;
    Components comps = label_components(m, Connectivity::Eight);
    auto fg = [&](int x, int y) { return m.inside(x, y) && m.at(x, y); };
    EdgeGrid g{m.width + 1, m.height + 1, {}};
    g.out.assign(size_t(g.W) * g.H, 0);
    // Each set pixel contributes the sides that face unset pixels, oriented so
    // the set pixel lies on the right of the direction of travel.
    for (int y = 0; y < m.height; ++y)
        for (int x = 0; x < m.width; ++x) {
            if (!m.at(x, y)) continue;
            if (!fg(x, y - 1)) g.out[size_t(g.index(x, y))] |= 1 << 0;          // top: east
            if (!fg(x + 1, y)) g.out[size_t(g.index(x + 1, y))] |= 1 << 1;      // right: south
            if (!fg(x, y + 1)) g.out[size_t(g.index(x + 1, y + 1))] |= 1 << 2;  // bottom: west
            if (!fg(x - 1, y)) g.out[size_t(g.index(x, y + 1))] |= 1 << 3;      // left: north
        }
    for (int cy = 0; cy < g.H; ++cy)
        for (int cx = 0; cx < g.W; ++cx) {
            while (g.out[size_t(g.index(cx, cy))]) {
                uint8_t bits = g.out[size_t(g.index(cx, cy))];
                int dir = 0;
                while (!(bits & (1 << dir))) ++dir;
                // The pixel on the right of the first edge tells which region this ring bounds.
                int px = cx + (dir == 0 ? 0 : dir == 1 ? -1 : dir == 2 ? -1 : 0);
                int py = cy + (dir == 0 ? 0 : dir == 1 ? 0 : dir == 2 ? -1 : -1);
                Contour c;
                c.region = comps.labels[size_t(py) * m.width + px];
                int x = cx, y = cy, prev_dir = -1;
                while (true) {
                    uint8_t& here = g.out[size_t(g.index(x, y))];
                    int d = dir;
                    if (prev_dir >= 0) {
                        // The start edge is already used; offer it again at the start
                        // corner so that choosing it means the ring has closed.
                        uint8_t avail = here;
                        if (x == cx && y == cy) avail |= uint8_t(1 << dir);
                        // At a saddle two edges leave: turn left to keep diagonal
                        // pixels in one ring (8-connected regions).
                        int left = (prev_dir + 3) & 3, straight = prev_dir, right = (prev_dir + 1) & 3;
                        if (avail & (1 << left)) d = left;
                        else if (avail & (1 << straight)) d = straight;
                        else if (avail & (1 << right)) d = right;
                        else break;  // cannot happen on a consistent edge grid
                        if (x == cx && y == cy && d == dir) break;
                    }
                    if (d != prev_dir) c.points.push_back(Point{double(x), double(y)});
                    here &= uint8_t(~(1 << d));
                    x += kDx[d];
                    y += kDy[d];
                    prev_dir = d;
                }
                // The start vertex is a corner only if the ring turns there.
                if (c.points.size() > 1 && prev_dir == dir) c.points.erase(c.points.begin());
                c.hole = polygon_signed_area(c.points) < 0;
                if (c.points.size() >= 3) result.push_back(std::move(c));
            }
        }
    return result;
}

static double point_segment_distance(Point p, Point a, Point b) {
    double dx = b.x - a.x, dy = b.y - a.y;
    double len2 = dx * dx + dy * dy;
    if (len2 == 0) return std::hypot(p.x - a.x, p.y - a.y);
    double t = ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2;
    t = std::max(0.0, std::min(1.0, t));
    return std::hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

// Marks the vertices of line[first..last] that Douglas–Peucker keeps.
static void douglas_peucker(const Polygon& line, size_t first, size_t last, double epsilon, std::vector<char>& keep) {
    std::vector<std::pair<size_t, size_t>> stack{{first, last}};
    while (!stack.empty()) {
        auto [a, b] = stack.back();
        stack.pop_back();
        if (b <= a + 1) continue;
        double best = -1;
        size_t index = a;
        for (size_t i = a + 1; i < b; ++i) {
            double d = point_segment_distance(line[i], line[a], line[b]);
            if (d > best) {
                best = d;
                index = i;
            }
        }
        bool split = epsilon > 0 ? best > epsilon : best > 1e-9;
        if (split) {
            keep[index] = 1;
            stack.push_back({a, index});
            stack.push_back({index, b});
        }
    }
}

Polygon simplify_polyline(const Polygon& line, double epsilon) {
    if (line.size() <= 2) return line;
    std::vector<char> keep(line.size(), 0);
    keep.front() = keep.back() = 1;
    douglas_peucker(line, 0, line.size() - 1, epsilon, keep);
    Polygon out;
    for (size_t i = 0; i < line.size(); ++i)
        if (keep[i]) out.push_back(line[i]);
    return out;
}

Polygon simplify_ring(const Polygon& ring, double epsilon) {
    size_t n = ring.size();
    if (n <= 3) return ring;
    // Anchor the ring at vertex 0 and at the vertex farthest from it, then
    // simplify the two open halves.
    size_t far = 0;
    double best = -1;
    for (size_t i = 1; i < n; ++i) {
        double d = std::hypot(ring[i].x - ring[0].x, ring[i].y - ring[0].y);
        if (d > best) {
            best = d;
            far = i;
        }
    }
    Polygon closed = ring;
    closed.push_back(ring[0]);
    std::vector<char> keep(closed.size(), 0);
    keep[0] = keep[far] = keep[n] = 1;
    douglas_peucker(closed, 0, far, epsilon, keep);
    douglas_peucker(closed, far, n, epsilon, keep);
    Polygon out;
    for (size_t i = 0; i < n; ++i)
        if (keep[i]) out.push_back(closed[i]);
    if (out.size() < 3) {  // a ring thinner than epsilon: keep a minimal triangle
        size_t third = 0;
        double d3 = -1;
        for (size_t i = 0; i < n; ++i) {
            double d = point_segment_distance(ring[i], ring[0], ring[far]);
            if (d > d3) {
                d3 = d;
                third = i;
            }
        }
        out = {ring[0]};
        if (third < far) out.push_back(ring[third]), out.push_back(ring[far]);
        else out.push_back(ring[far]), out.push_back(ring[third]);
    }
    return out;
}

PolygonsFromMask mask_to_polygons(const Mask& m, double epsilon, size_t min_area) {
    PolygonsFromMask r;
    Components comps = label_components(m, Connectivity::Eight);
    std::vector<std::pair<size_t, Polygon>> outer;
    for (const Contour& c : trace_contours(m)) {
        if (c.hole) {
            r.dropped_holes = true;
            continue;
        }
        size_t area = c.region > 0 ? comps.stats[size_t(c.region - 1)].area : 0;
        if (area < min_area) continue;
        outer.push_back({area, simplify_ring(c.points, epsilon)});
    }
    std::stable_sort(outer.begin(), outer.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (auto& o : outer) r.polygons.push_back(std::move(o.second));
    return r;
}

Box mask_to_box(const Mask& m) {
    int x0, y0, x1, y1;
    if (!mask_bounds(m, x0, y0, x1, y1)) return Box{};
    return Box{double(x0), double(y0), double(x1 - x0 + 1), double(y1 - y0 + 1)};
}

}  // namespace es
