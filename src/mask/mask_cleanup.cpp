#include "mask/mask_cleanup.h"

#include <algorithm>
#include <cmath>

#include "mask/connected_components.h"

namespace es {

size_t cleanup_min_area(const MaskCleanupOptions& o, int width, int height) {
    if (!o.enabled || width <= 0 || height <= 0) return 0;
    if (o.min_area_px > 0) return size_t(o.min_area_px);
    double f = std::clamp(o.min_area_fraction, 0.0, 1.0);
    return size_t(std::llround(f * double(width) * double(height)));
}

// Keeps the regions of `c` whose area is >= min_area; when none is, the largest.
static std::vector<char> keep_large(const Components& c, size_t min_area, int* dropped) {
    std::vector<char> keep(size_t(c.count()) + 1, 0);
    int n = 0, largest = 0;
    size_t largest_area = 0;
    for (const ComponentStats& s : c.stats) {
        keep[size_t(s.label)] = s.area >= min_area;
        n += s.area < min_area;
        if (s.area > largest_area) { largest_area = s.area; largest = s.label; }
    }
    if (n == c.count() && largest) { keep[size_t(largest)] = 1; --n; }
    if (dropped) *dropped = n;
    return keep;
}

Mask fill_small_holes(const Mask& m, size_t min_area, int* filled) {
    if (filled) *filled = 0;
    if (min_area <= 1 || m.empty()) return m;
    Components bg = label_components(mask_not(m), Connectivity::Eight);
    int n = 0;
    Mask r = m;
    std::vector<char> small(size_t(bg.count()) + 1, 0);
    for (const ComponentStats& s : bg.stats)
        if (s.area < min_area) { small[size_t(s.label)] = 1; ++n; }
    if (!n) return r;
    for (size_t i = 0; i < r.data.size(); ++i)
        if (bg.labels[i] && small[size_t(bg.labels[i])]) r.data[i] = 1;
    if (filled) *filled = n;
    return r;
}

Mask remove_small_islands(const Mask& m, size_t min_area, int* removed) {
    if (removed) *removed = 0;
    if (min_area <= 1 || m.empty()) return m;
    Components c = label_components(m, Connectivity::Eight);
    int n = 0;
    std::vector<char> keep = keep_large(c, min_area, &n);
    if (!n) return m;
    Mask r(m.width, m.height);
    for (size_t i = 0; i < r.data.size(); ++i) r.data[i] = c.labels[i] && keep[size_t(c.labels[i])] ? 1 : 0;
    if (removed) *removed = n;
    return r;
}

MaskCleanupResult clean_mask(const Mask& m, size_t min_area) {
    MaskCleanupResult r;
    r.mask = fill_small_holes(m, min_area, &r.holes_filled);
    r.mask = remove_small_islands(r.mask, min_area, &r.islands_removed);
    return r;
}

MaskCleanupResult clean_mask(const Mask& m, const MaskCleanupOptions& o) {
    return clean_mask(m, cleanup_min_area(o, m.width, m.height));
}

}  // namespace es
