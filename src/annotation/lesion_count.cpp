#include "annotation/lesion_count.h"

#include "mask/connected_components.h"

namespace es {

bool is_lesion_label(const std::vector<LabelSet>& sets, const std::string& label) {
    for (const LabelSet& s : sets) {
        const LabelDef* d = s.find_label(label);
        if (d && d->lesion) return true;
    }
    return false;
}

int count_lesions(const ImageAnnotations& img, const std::vector<LabelSet>& sets) {
    int n = 0;
    for (const Annotation& a : img.items) n += is_lesion_label(sets, a.label);
    return n;
}

int annotation_parts(const Annotation& a, int width, int height, size_t min_area) {
    if (min_area < 1) min_area = 1;
    if (a.kind == AnnotationKind::Mask) return count_regions(a.mask, min_area);
    if (a.kind == AnnotationKind::Polygon) {
        if (width <= 0 || height <= 0) return int(a.polygons.size());
        return count_regions(rasterize_polygons(a.polygons, width, height), min_area);
    }
    return 1;
}

}  // namespace es
