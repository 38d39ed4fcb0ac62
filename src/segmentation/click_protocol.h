// click_protocol.h: the automatic clicker used to evaluate interactive
// segmentation (RITM, SimpleClick, SAM papers), and its metrics.
//
// First click: the most interior point of the ground truth (largest distance to
// its boundary). Each next click: compare the prediction with the ground truth;
// of the missed region (false negatives) and the wrongly added region (false
// positives), take the one whose most interior point lies deepest, and click
// there: positive for a miss, negative for a false positive. (RITM's clicker:
// distances on the zero-padded error masks; a tie goes to the false positive;
// within a region the first deepest pixel in raster order.)
#pragma once
#include <vector>

#include "mask/mask.h"

namespace es {

struct Click {
    int x = -1, y = -1;  // pixel indices; the click's image position is the pixel centre
    bool positive = true;
    float depth = 0;     // distance of the click to the error region's boundary
    bool valid() const { return x >= 0; }
};

// prediction may be empty (no prediction yet: the first click). Returns an
// invalid click when prediction equals ground truth.
Click next_click(const Mask& ground_truth, const Mask& prediction);

// Number of clicks to reach iou >= threshold; ious[k] is the IoU after k+1
// clicks. When the threshold is never reached, max_clicks (the convention of
// the field: a failure costs the whole budget).
int clicks_to_reach(const std::vector<double>& ious, double threshold, int max_clicks);
// IoU after k clicks (1-based); once the clicker stops early (perfect mask) the
// last IoU carries forward.
double iou_after(const std::vector<double>& ious, int k);

struct ProtocolSummary {
    int objects = 0;
    std::vector<double> miou_at;  // miou_at[k-1] = mean IoU after k clicks, k = 1..max_clicks
    double noc85 = 0, noc90 = 0;  // mean NoC
    int failures85 = 0, failures90 = 0;  // objects that never reached the threshold
};
ProtocolSummary summarize_protocol(const std::vector<std::vector<double>>& ious_per_object, int max_clicks);

}  // namespace es
