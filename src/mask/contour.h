// contour.h: from a mask to vector shapes.
// Contours are traced along pixel edges (vertices on pixel corners), so the
// traced rings rasterize back to exactly the same pixels (pixel-centre rule,
// even-odd over outer rings and holes). Regions are 8-connected, holes
// 4-connected, as in OpenCV's findContours.
//
// Holes policy: COCO polygons cannot carry holes (several polygons of one
// annotation are unioned), so mask_to_polygons returns outer rings only and
// reports whether holes were dropped; a mask with holes that must survive
// exactly is exported as RLE instead.
#pragma once
#include <vector>

#include "annotation/geometry.h"
#include "mask/mask.h"

namespace es {

struct Contour {
    Polygon points;   // closed ring on pixel corners; clockwise on screen for outer rings
    bool hole = false;
    int region = 0;   // 1-based 8-connected region this ring bounds (see label_components)
};

std::vector<Contour> trace_contours(const Mask& m);

// Douglas–Peucker on a closed ring: keeps vertices farther than epsilon pixels
// from the simplified outline. epsilon <= 0 only drops collinear vertices.
Polygon simplify_ring(const Polygon& ring, double epsilon);
// Open polyline variant (first and last vertices are kept).
Polygon simplify_polyline(const Polygon& line, double epsilon);

struct PolygonsFromMask {
    std::vector<Polygon> polygons;  // one outer ring per region, largest first
    bool dropped_holes = false;
};
// Regions smaller than min_area pixels are skipped (speckle).
PolygonsFromMask mask_to_polygons(const Mask& m, double epsilon = 1.0, size_t min_area = 1);
// Tight box around the set pixels (pixel edges); empty box for an empty mask.
Box mask_to_box(const Mask& m);

}  // namespace es
