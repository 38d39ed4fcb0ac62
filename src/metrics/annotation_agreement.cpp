// annotation_agreement.cpp: see annotation_agreement.h.
#include "metrics/annotation_agreement.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "annotation/geometry.h"
#include "metrics/agreement.h"

namespace es {

namespace {

bool has_area(const Annotation& a) { return a.kind != AnnotationKind::Point; }

Mask shape_mask(const Annotation& a, int width, int height) {
    switch (a.kind) {
        case AnnotationKind::Box: return rasterize_box(a.box, width, height);
        case AnnotationKind::Polygon: return rasterize_polygons(a.polygons, width, height);
        case AnnotationKind::Mask:
            return a.mask.width == width && a.mask.height == height ? a.mask
                                                                    : mask_resize_nearest(a.mask, width, height);
        case AnnotationKind::Point: break;
    }
    return Mask(width, height);
}

struct Shape {
    std::string label;
    Mask mask;
};

}  // namespace

AnnotationAgreement annotation_agreement(const std::vector<ImageAnnotations>& first,
                                         const std::vector<ImageAnnotations>& second, double match_iou,
                                         const BootstrapOptions& bootstrap) {
    AnnotationAgreement out;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::map<std::string, const ImageAnnotations*> a_images, b_images;
    std::set<std::string> image_keys, labels;
    for (const ImageAnnotations& im : first) {
        a_images[im.image] = &im;
        image_keys.insert(im.image);
        for (const Annotation& a : im.items) labels.insert(a.label);
    }
    for (const ImageAnnotations& im : second) {
        b_images[im.image] = &im;
        image_keys.insert(im.image);
        for (const Annotation& a : im.items) labels.insert(a.label);
    }

    std::vector<int> presence_a, presence_b;
    std::vector<double> region_iou, region_dice, matched_iou;
    for (const std::string& key : image_keys) {
        const ImageAnnotations* a = a_images.count(key) ? a_images[key] : nullptr;
        const ImageAnnotations* b = b_images.count(key) ? b_images[key] : nullptr;
        const int width = a && a->width > 0 ? a->width : (b ? b->width : 0);
        const int height = a && a->height > 0 ? a->height : (b ? b->height : 0);
        auto marks = [](const ImageAnnotations* im, const std::string& label) {
            if (!im) return false;
            return std::any_of(im->items.begin(), im->items.end(), [&](const Annotation& x) { return x.label == label; });
        };
        for (const std::string& label : labels) {
            presence_a.push_back(marks(a, label) ? 1 : 0);
            presence_b.push_back(marks(b, label) ? 1 : 0);
        }
        if (width <= 0 || height <= 0) continue;
        auto shapes = [&](const ImageAnnotations* im) {
            std::vector<Shape> s;
            if (im)
                for (const Annotation& x : im->items)
                    if (has_area(x)) s.push_back({x.label, shape_mask(x, width, height)});
            return s;
        };
        const std::vector<Shape> sa = shapes(a), sb = shapes(b);
        out.first_objects += double(sa.size());
        out.second_objects += double(sb.size());
        // Regions: union per label.
        for (const std::string& label : labels) {
            Mask ua(width, height), ub(width, height);
            bool in_a = false, in_b = false;
            for (const Shape& s : sa)
                if (s.label == label) { ua = mask_or(ua, s.mask); in_a = true; }
            for (const Shape& s : sb)
                if (s.label == label) { ub = mask_or(ub, s.mask); in_b = true; }
            if (!in_a && !in_b) continue;
            RegionPair p{key, label, in_a, in_b, 0, 0};
            if (in_a && in_b) {
                p.iou = mask_iou(ua, ub);
                p.dice = mask_dice(ua, ub);
            }
            region_iou.push_back(p.iou);
            region_dice.push_back(p.dice);
            out.regions.push_back(p);
        }
        // Objects: greedy matching by IoU within a label.
        std::vector<std::tuple<double, size_t, size_t>> candidates;
        for (size_t i = 0; i < sa.size(); ++i)
            for (size_t j = 0; j < sb.size(); ++j) {
                if (sa[i].label != sb[j].label) continue;
                const double iou = mask_iou(sa[i].mask, sb[j].mask);
                if (iou >= match_iou && iou > 0) candidates.emplace_back(iou, i, j);
            }
        std::stable_sort(candidates.begin(), candidates.end(),
                         [](const auto& x, const auto& y) { return std::get<0>(x) > std::get<0>(y); });
        std::vector<bool> used_a(sa.size()), used_b(sb.size());
        for (const auto& [iou, i, j] : candidates) {
            if (used_a[i] || used_b[j]) continue;
            used_a[i] = used_b[j] = true;
            matched_iou.push_back(iou);
        }
    }
    out.matched_objects = double(matched_iou.size());
    out.label_pairs = presence_a.size();

    const LabelAgreement labels_agree = label_agreement(presence_a, presence_b, 2, KappaWeighting::none, bootstrap);
    const RegionAgreement regions_agree = region_agreement_from(region_iou, region_dice, bootstrap);
    const double precision = out.second_objects > 0 ? out.matched_objects / out.second_objects : nan;
    const double recall = out.first_objects > 0 ? out.matched_objects / out.first_objects : nan;
    const double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall)
                                             : (precision == 0 || recall == 0 ? 0.0 : nan);
    out.metrics = labels_agree.metrics;
    out.metrics.insert(out.metrics.end(), regions_agree.metrics.begin(), regions_agree.metrics.end());
    out.metrics.push_back({"object_precision", precision, {}});
    out.metrics.push_back({"object_recall", recall, {}});
    out.metrics.push_back({"object_f1", f1, {}});
    out.metrics.push_back({"matched_mean_iou", weighted_mean(matched_iou, {}), {}});
    return out;
}

}  // namespace es
