// distance_transform.h: exact Euclidean distance transform (Felzenszwalb &
// Huttenlocher's lower-envelope algorithm), and the "most interior point" of a
// region that the interactive-segmentation click protocol places clicks at.
#pragma once
#include <vector>

#include "mask/mask.h"

namespace es {

// For every set pixel, the Euclidean distance (between pixel centres) to the
// nearest unset pixel; 0 on unset pixels. With border_is_background the image
// is treated as surrounded by unset pixels (as RITM pads before cv2's EDT), so
// a set pixel on the edge has distance 1.
std::vector<float> distance_transform(const Mask& m, bool border_is_background = true);

struct InteriorPoint {
    int x = -1, y = -1;
    float distance = 0;  // 0 when the mask is empty
    bool valid() const { return x >= 0; }
};
// Pixel with the largest distance; ties go to the first in raster order.
InteriorPoint most_interior_point(const Mask& m, bool border_is_background = true);

}  // namespace es
