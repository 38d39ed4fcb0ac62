#include "mask/connected_components.h"

#include <algorithm>

namespace es {

Components label_components(const Mask& m, Connectivity conn) {
    Components c;
    c.width = m.width;
    c.height = m.height;
    c.labels.assign(m.data.size(), 0);
    std::vector<int> stack;
    const int dx8[] = {1, -1, 0, 0, 1, 1, -1, -1};
    const int dy8[] = {0, 0, 1, -1, 1, -1, 1, -1};
    const int nn = conn == Connectivity::Eight ? 8 : 4;
    for (int y = 0; y < m.height; ++y)
        for (int x = 0; x < m.width; ++x) {
            size_t i = size_t(y) * m.width + x;
            if (!m.data[i] || c.labels[i]) continue;
            ComponentStats s;
            s.label = c.count() + 1;
            s.x0 = s.x1 = x;
            s.y0 = s.y1 = y;
            double sx = 0, sy = 0;
            c.labels[i] = s.label;
            stack.assign(1, int(i));
            while (!stack.empty()) {
                int p = stack.back();
                stack.pop_back();
                int px = p % m.width, py = p / m.width;
                ++s.area;
                sx += px + 0.5;
                sy += py + 0.5;
                s.x0 = std::min(s.x0, px); s.x1 = std::max(s.x1, px);
                s.y0 = std::min(s.y0, py); s.y1 = std::max(s.y1, py);
                for (int k = 0; k < nn; ++k) {
                    int qx = px + dx8[k], qy = py + dy8[k];
                    if (!m.inside(qx, qy)) continue;
                    size_t q = size_t(qy) * m.width + qx;
                    if (m.data[q] && !c.labels[q]) {
                        c.labels[q] = s.label;
                        stack.push_back(int(q));
                    }
                }
            }
            s.cx = sx / double(s.area);
            s.cy = sy / double(s.area);
            c.stats.push_back(s);
        }
    return c;
}

Mask component_mask(const Components& c, int label) {
    Mask m(c.width, c.height);
    for (size_t i = 0; i < c.labels.size(); ++i) m.data[i] = c.labels[i] == label ? 1 : 0;
    return m;
}

int count_regions(const Mask& m, size_t min_area) {
    Components c = label_components(m);
    int n = 0;
    for (const ComponentStats& s : c.stats) n += s.area >= min_area;
    return n;
}

Mask remove_small_regions(const Mask& m, size_t min_area) {
    Components c = label_components(m);
    Mask r(m.width, m.height);
    for (size_t i = 0; i < c.labels.size(); ++i)
        if (c.labels[i]) r.data[i] = c.stats[size_t(c.labels[i] - 1)].area >= min_area ? 1 : 0;
    return r;
}

Mask largest_component(const Mask& m) {
    Components c = label_components(m);
    if (c.stats.empty()) return Mask(m.width, m.height);
    auto it = std::max_element(c.stats.begin(), c.stats.end(),
                               [](const ComponentStats& a, const ComponentStats& b) { return a.area < b.area; });
    return component_mask(c, it->label);
}

std::vector<Mask> split_regions(const Mask& m, size_t min_area) {
    Components c = label_components(m);
    std::vector<Mask> out;
    for (const ComponentStats& s : c.stats)
        if (s.area >= min_area) out.push_back(component_mask(c, s.label));
    return out;
}

Mask fill_holes(const Mask& m) {
    // Background is 4-connected when foreground is 8-connected.
    Components bg = label_components(mask_not(m), Connectivity::Four);
    std::vector<char> touches(size_t(bg.count()) + 1, 0);
    for (const ComponentStats& s : bg.stats)
        touches[size_t(s.label)] = s.x0 == 0 || s.y0 == 0 || s.x1 == m.width - 1 || s.y1 == m.height - 1;
    Mask r = m;
    for (size_t i = 0; i < r.data.size(); ++i)
        if (bg.labels[i] && !touches[size_t(bg.labels[i])]) r.data[i] = 1;
    return r;
}

}  // namespace es
