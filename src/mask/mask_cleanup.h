// mask_cleanup.h: the post-processing segment-anything applies to its masks
// (amg.py remove_small_regions): background regions smaller than min_area are
// filled (holes), then foreground regions smaller than min_area are dropped
// (islands), keeping the largest when every region is small. Thresholded model
// logits come back with specks (specular highlights, mucosal texture) and pin
// holes; a clinician's mask has neither.
#pragma once
#include <cstddef>

#include "mask/mask.h"

namespace es {

// The area threshold: a fraction of the image's area, or an absolute pixel
// count when min_area_px > 0. Default 0.25% of the image (~800 px, a 28x28
// patch, on a 570x530 Kvasir-SEG image): the smallest real polyp region in the
// ground truth is 0.70% of the image on Kvasir-SEG (57 regions) and 0.98% on
// CVC-ClinicDB (35), so no real part is removed, while SAM's specks and pin
// holes are far smaller (tools/README-segmentation.md has the figures).
struct MaskCleanupOptions {
    bool enabled = true;
    double min_area_fraction = 0.0025;
    int min_area_px = 0;  // > 0: absolute threshold, the fraction is ignored
};
size_t cleanup_min_area(const MaskCleanupOptions& o, int width, int height);

struct MaskCleanupResult {
    Mask mask;
    int holes_filled = 0;
    int islands_removed = 0;
};

// Background regions (8-connected, as SAM's cv2 call) smaller than min_area
// become foreground, whether or not they touch the border, as in SAM.
Mask fill_small_holes(const Mask& m, size_t min_area, int* filled = nullptr);
// Foreground regions (8-connected) smaller than min_area go; if all are
// smaller, the largest stays (a small lesion is not erased).
Mask remove_small_islands(const Mask& m, size_t min_area, int* removed = nullptr);
// Holes, then islands (SAM's order). min_area 0 or 1 changes nothing.
MaskCleanupResult clean_mask(const Mask& m, size_t min_area);
MaskCleanupResult clean_mask(const Mask& m, const MaskCleanupOptions& o);

}  // namespace es
