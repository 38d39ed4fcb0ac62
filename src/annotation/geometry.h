// geometry.h: points, boxes and polygons in image pixel coordinates (x right,
// y down, pixel (i, j) covers [i, i+1) x [j, j+1)), and the overlap measures
// (IoU, Dice) used by annotation tools and by segmentation evaluation.
#pragma once
#include <vector>

#include "mask/mask.h"

namespace es {

struct Point {
    double x = 0, y = 0;
    bool operator==(const Point& o) const { return x == o.x && y == o.y; }
};

// Axis-aligned box as COCO writes it: top-left corner and size.
struct Box {
    double x = 0, y = 0, w = 0, h = 0;
    double x2() const { return x + w; }
    double y2() const { return y + h; }
    double area() const { return w > 0 && h > 0 ? w * h : 0.0; }
    bool empty() const { return !(w > 0 && h > 0); }
    bool operator==(const Box& o) const { return x == o.x && y == o.y && w == o.w && h == o.h; }
};

// A simple closed polygon; the last vertex connects back to the first.
using Polygon = std::vector<Point>;

Box box_from_corners(double x0, double y0, double x1, double y1);  // any two opposite corners
Box box_intersection(const Box& a, const Box& b);                  // empty box when disjoint
double box_iou(const Box& a, const Box& b);
bool box_contains(const Box& b, Point p);

// Shoelace area; positive when the vertices run clockwise on screen (y down).
double polygon_signed_area(const Polygon& p);
double polygon_area(const Polygon& p);
double polygon_perimeter(const Polygon& p);
Box polygon_bounds(const Polygon& p);
// Even-odd rule; points exactly on an edge count as inside.
bool point_in_polygon(const Polygon& p, Point q);

// Fill polygons into a mask: a pixel is set when its centre is inside under the
// even-odd rule over all rings together (so a hole ring cuts out its area).
Mask rasterize_polygons(const std::vector<Polygon>& rings, int width, int height);
Mask rasterize_box(const Box& b, int width, int height);

double mask_iou(const Mask& a, const Mask& b);   // 1 when both are empty
double mask_dice(const Mask& a, const Mask& b);  // 1 when both are empty
// Polygon IoU on a pixel grid of the given size (the resolution annotations live on).
double polygon_iou(const Polygon& a, const Polygon& b, int width, int height);

}  // namespace es
