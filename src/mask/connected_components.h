// connected_components.h: labelling of the set pixels of a mask into regions,
// for lesion counts and per-lesion processing (evaluation treats each region
// of a ground-truth mask as one object).
#pragma once
#include <cstddef>
#include <vector>

#include "annotation/geometry.h"
#include "mask/mask.h"

namespace es {

enum class Connectivity { Four = 4, Eight = 8 };

struct ComponentStats {
    int label = 0;  // 1-based
    size_t area = 0;
    int x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // inclusive pixel bounds
    double cx = 0, cy = 0;               // centroid (pixel centres)
    Box box() const { return Box{double(x0), double(y0), double(x1 - x0 + 1), double(y1 - y0 + 1)}; }
};

struct Components {
    int width = 0, height = 0;
    std::vector<int> labels;  // 0 for background, 1..count in raster order of first pixel
    std::vector<ComponentStats> stats;  // stats[i].label == i + 1
    int count() const { return int(stats.size()); }
};

Components label_components(const Mask& m, Connectivity c = Connectivity::Eight);
Mask component_mask(const Components& c, int label);
// Regions with at least min_area pixels (8-connected): what "lesion count" means.
int count_regions(const Mask& m, size_t min_area = 1);
// Removes regions smaller than min_area (speckle from thresholded model output).
Mask remove_small_regions(const Mask& m, size_t min_area);
Mask largest_component(const Mask& m);
// One mask per region of at least min_area pixels, in raster order of their
// first pixel (splitting a multi-part lesion mask into one annotation per part).
std::vector<Mask> split_regions(const Mask& m, size_t min_area = 1);
// Fills background regions that do not touch the border (holes).
Mask fill_holes(const Mask& m);

}  // namespace es
