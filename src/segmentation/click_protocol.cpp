#include "segmentation/click_protocol.h"

#include <algorithm>

#include "mask/distance_transform.h"

namespace es {

Click next_click(const Mask& gt, const Mask& pred) {
    Click c;
    if (gt.empty()) return c;
    Mask fn, fp;
    if (pred.empty() || !pred.same_size(gt)) {
        fn = gt;
        fp = Mask(gt.width, gt.height);
    } else {
        fn = mask_subtract(gt, pred);
        fp = mask_subtract(pred, gt);
    }
    InteriorPoint miss = most_interior_point(fn, true);
    InteriorPoint extra = most_interior_point(fp, true);
    if (!miss.valid() && !extra.valid()) return c;
    bool positive = miss.distance > extra.distance;  // RITM: is_positive = fn_max_dist > fp_max_dist
    if (!extra.valid()) positive = true;
    const InteriorPoint& p = positive ? miss : extra;
    c.x = p.x;
    c.y = p.y;
    c.positive = positive;
    c.depth = p.distance;
    return c;
}

int clicks_to_reach(const std::vector<double>& ious, double threshold, int max_clicks) {
    for (int k = 0; k < int(ious.size()) && k < max_clicks; ++k)
        if (ious[size_t(k)] >= threshold) return k + 1;
    return max_clicks;
}

double iou_after(const std::vector<double>& ious, int k) {
    if (ious.empty() || k <= 0) return 0.0;
    return ious[size_t(std::min<int>(k, int(ious.size())) - 1)];
}

ProtocolSummary summarize_protocol(const std::vector<std::vector<double>>& all, int max_clicks) {
    ProtocolSummary s;
    s.objects = int(all.size());
    s.miou_at.assign(size_t(std::max(0, max_clicks)), 0.0);
    if (all.empty()) return s;
    for (const auto& ious : all) {
        for (int k = 1; k <= max_clicks; ++k) s.miou_at[size_t(k - 1)] += iou_after(ious, k);
        int n85 = clicks_to_reach(ious, 0.85, max_clicks), n90 = clicks_to_reach(ious, 0.90, max_clicks);
        s.noc85 += n85;
        s.noc90 += n90;
        bool reached85 = false, reached90 = false;
        for (int k = 0; k < int(ious.size()) && k < max_clicks; ++k) {
            reached85 = reached85 || ious[size_t(k)] >= 0.85;
            reached90 = reached90 || ious[size_t(k)] >= 0.90;
        }
        s.failures85 += !reached85;
        s.failures90 += !reached90;
    }
    for (double& v : s.miou_at) v /= double(all.size());
    s.noc85 /= double(all.size());
    s.noc90 /= double(all.size());
    return s;
}

}  // namespace es
