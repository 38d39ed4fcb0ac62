#include "annotation/annotation.h"

#include <cmath>

#include "mask/contour.h"

namespace es {

const char* annotation_kind_name(AnnotationKind k) {
    switch (k) {
        case AnnotationKind::Box: return "box";
        case AnnotationKind::Polygon: return "polygon";
        case AnnotationKind::Mask: return "mask";
        case AnnotationKind::Point: return "point";
    }
    return "box";
}

bool annotation_kind_from_name(const std::string& s, AnnotationKind& out) {
    for (AnnotationKind k : {AnnotationKind::Box, AnnotationKind::Polygon, AnnotationKind::Mask, AnnotationKind::Point})
        if (s == annotation_kind_name(k)) {
            out = k;
            return true;
        }
    return false;
}

bool Annotation::operator==(const Annotation& o) const {
    return id == o.id && label == o.label && kind == o.kind && box == o.box && polygons == o.polygons &&
           mask == o.mask && point == o.point && visible == o.visible && opacity == o.opacity && source == o.source;
}

Box annotation_bounds(const Annotation& a) {
    switch (a.kind) {
        case AnnotationKind::Box: return a.box;
        case AnnotationKind::Polygon: {
            Polygon all;
            for (const Polygon& p : a.polygons) all.insert(all.end(), p.begin(), p.end());
            return polygon_bounds(all);
        }
        case AnnotationKind::Mask: return mask_to_box(a.mask);
        case AnnotationKind::Point: return Box{a.point.x, a.point.y, 0, 0};
    }
    return Box{};
}

double annotation_area(const Annotation& a) {
    switch (a.kind) {
        case AnnotationKind::Box: return a.box.area();
        case AnnotationKind::Polygon: {
            double s = 0;
            for (const Polygon& p : a.polygons) s += polygon_area(p);
            return s;
        }
        case AnnotationKind::Mask: return double(a.mask.count());
        case AnnotationKind::Point: return 0.0;
    }
    return 0.0;
}

void annotation_translate(Annotation& a, double dx, double dy) {
    // Only the kind's own geometry moves, so a moved annotation still equals its saved (COCO) form.
    if (a.kind == AnnotationKind::Box) {
        a.box.x += dx;
        a.box.y += dy;
    }
    if (a.kind == AnnotationKind::Point) {
        a.point.x += dx;
        a.point.y += dy;
    }
    for (Polygon& p : a.polygons)
        for (Point& q : p) {
            q.x += dx;
            q.y += dy;
        }
    if (a.kind == AnnotationKind::Mask && !a.mask.empty()) {
        int ix = int(std::lround(dx)), iy = int(std::lround(dy));
        Mask moved(a.mask.width, a.mask.height);
        for (int y = 0; y < a.mask.height; ++y)
            for (int x = 0; x < a.mask.width; ++x)
                if (a.mask.at(x, y) && moved.inside(x + ix, y + iy)) moved.at(x + ix, y + iy) = 1;
        a.mask = std::move(moved);
    }
}

Annotation* ImageAnnotations::find(uint64_t id) {
    int i = index_of(id);
    return i < 0 ? nullptr : &items[size_t(i)];
}
const Annotation* ImageAnnotations::find(uint64_t id) const {
    int i = index_of(id);
    return i < 0 ? nullptr : &items[size_t(i)];
}
int ImageAnnotations::index_of(uint64_t id) const {
    for (size_t i = 0; i < items.size(); ++i)
        if (items[i].id == id) return int(i);
    return -1;
}
bool ImageAnnotations::operator==(const ImageAnnotations& o) const {
    return image == o.image && width == o.width && height == o.height && items == o.items && next_id == o.next_id;
}

static bool finite(double v) { return std::isfinite(v); }

bool validate_annotation(const Annotation& a, int width, int height, std::string* error) {
    auto fail = [&](const std::string& m) {
        if (error) *error = "annotation " + std::to_string(a.id) + ": " + m;
        return false;
    };
    if (a.label.empty()) return fail("has no label");
    if (!(a.opacity >= 0.0f && a.opacity <= 1.0f)) return fail("opacity must be within 0..1");
    switch (a.kind) {
        case AnnotationKind::Box:
            if (!finite(a.box.x) || !finite(a.box.y) || !finite(a.box.w) || !finite(a.box.h)) return fail("box is not finite");
            if (a.box.w < 0 || a.box.h < 0) return fail("box has a negative size");
            break;
        case AnnotationKind::Polygon:
            if (a.polygons.empty()) return fail("polygon has no rings");
            for (const Polygon& p : a.polygons) {
                if (p.size() < 3) return fail("polygon ring has fewer than 3 points");
                for (const Point& q : p)
                    if (!finite(q.x) || !finite(q.y)) return fail("polygon point is not finite");
            }
            break;
        case AnnotationKind::Mask:
            if (a.mask.width != width || a.mask.height != height)
                return fail("mask is " + std::to_string(a.mask.width) + "x" + std::to_string(a.mask.height) +
                            ", image is " + std::to_string(width) + "x" + std::to_string(height));
            break;
        case AnnotationKind::Point:
            if (!finite(a.point.x) || !finite(a.point.y)) return fail("point is not finite");
            break;
    }
    return true;
}

}  // namespace es
