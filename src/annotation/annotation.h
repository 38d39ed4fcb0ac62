// annotation.h: what an annotator draws on an image. Pure data: the UI draws
// it, annotation_history changes it, coco imports/exports it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "annotation/geometry.h"
#include "mask/mask.h"

namespace es {

enum class AnnotationKind { Box, Polygon, Mask, Point };
const char* annotation_kind_name(AnnotationKind k);
bool annotation_kind_from_name(const std::string& s, AnnotationKind& out);

struct Annotation {
    uint64_t id = 0;                // unique within its image, never reused
    std::string label;              // label id from a label set
    AnnotationKind kind = AnnotationKind::Box;
    Box box;                        // Box
    std::vector<Polygon> polygons;  // Polygon (one or more rings, unioned as in COCO)
    Mask mask;                      // Mask, at the image's size
    Point point;                    // Point
    bool visible = true;
    float opacity = 0.5f;           // 0..1, overlay alpha
    std::string source = "manual";  // "manual", "sam", "import"
    bool operator==(const Annotation& o) const;
    bool operator!=(const Annotation& o) const { return !(*this == o); }
};

// Extent of an annotation in pixels; for a point, a zero-size box at it.
Box annotation_bounds(const Annotation& a);
// Area in pixels: box area, polygon (shoelace, rings summed), mask pixel count, 0 for a point.
double annotation_area(const Annotation& a);
// Move by (dx, dy) (masks move by whole pixels, rounded).
void annotation_translate(Annotation& a, double dx, double dy);

struct ImageAnnotations {
    std::string image;  // the image's key in the case (its file name)
    int width = 0, height = 0;
    std::vector<Annotation> items;  // drawing order: later items on top
    uint64_t next_id = 1;

    Annotation* find(uint64_t id);
    const Annotation* find(uint64_t id) const;
    int index_of(uint64_t id) const;  // -1 when absent
    bool operator==(const ImageAnnotations& o) const;
};

// Sanity of one annotation against its image (label set, finite coordinates,
// mask size); the message names the problem.
bool validate_annotation(const Annotation& a, int width, int height, std::string* error);

}  // namespace es
