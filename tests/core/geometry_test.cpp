#include "annotation/geometry.h"

#include <gtest/gtest.h>

using namespace es;

TEST(Geometry, PolygonAreaAndOrientation) {
    Polygon square{{0, 0}, {4, 0}, {4, 3}, {0, 3}};  // clockwise on screen
    EXPECT_DOUBLE_EQ(polygon_signed_area(square), 12.0);
    Polygon reversed(square.rbegin(), square.rend());
    EXPECT_DOUBLE_EQ(polygon_signed_area(reversed), -12.0);
    EXPECT_DOUBLE_EQ(polygon_area(reversed), 12.0);
    Polygon l{{0, 0}, {2, 0}, {2, 1}, {1, 1}, {1, 2}, {0, 2}};  // L shape, area 3
    EXPECT_DOUBLE_EQ(polygon_area(l), 3.0);
    EXPECT_DOUBLE_EQ(polygon_perimeter(square), 14.0);
    EXPECT_DOUBLE_EQ(polygon_area(Polygon{{0, 0}, {1, 1}}), 0.0);
}

TEST(Geometry, PointInPolygon) {
    Polygon l{{0, 0}, {2, 0}, {2, 1}, {1, 1}, {1, 2}, {0, 2}};
    EXPECT_TRUE(point_in_polygon(l, {0.5, 0.5}));
    EXPECT_TRUE(point_in_polygon(l, {1.5, 0.5}));
    EXPECT_TRUE(point_in_polygon(l, {0.5, 1.5}));
    EXPECT_FALSE(point_in_polygon(l, {1.5, 1.5}));  // the notch
    EXPECT_FALSE(point_in_polygon(l, {-0.1, 0.5}));
    EXPECT_TRUE(point_in_polygon(l, {2, 0.5}));  // on an edge
    EXPECT_TRUE(point_in_polygon(l, {0, 0}));    // on a vertex
    EXPECT_FALSE(point_in_polygon(Polygon{{0, 0}, {1, 1}}, {0.5, 0.5}));
}

TEST(Geometry, BoxIou) {
    Box a{0, 0, 10, 10}, b{5, 5, 10, 10};
    EXPECT_NEAR(box_iou(a, b), 25.0 / 175.0, 1e-12);
    EXPECT_DOUBLE_EQ(box_iou(a, a), 1.0);
    EXPECT_DOUBLE_EQ(box_iou(a, Box{20, 20, 5, 5}), 0.0);
    EXPECT_DOUBLE_EQ(box_iou(a, Box{10, 0, 5, 5}), 0.0);  // touching edges
    EXPECT_TRUE(box_from_corners(5, 7, 1, 2) == (Box{1, 2, 4, 5}));
    EXPECT_TRUE(box_contains(a, {10, 10}));
    EXPECT_FALSE(box_contains(a, {10.01, 3}));
}

TEST(Geometry, RasterizeUsesPixelCentres) {
    Mask m = rasterize_polygons({{{1, 1}, {4, 1}, {4, 3}, {1, 3}}}, 6, 5);
    EXPECT_EQ(m.count(), 6u);
    for (int y = 0; y < 5; ++y)
        for (int x = 0; x < 6; ++x) EXPECT_EQ(m.at(x, y), (x >= 1 && x < 4 && y >= 1 && y < 3) ? 1 : 0);
    // A hole ring cuts out its area (even-odd).
    Polygon outer{{0, 0}, {6, 0}, {6, 6}, {0, 6}}, hole{{2, 2}, {2, 4}, {4, 4}, {4, 2}};
    Mask h = rasterize_polygons({outer, hole}, 6, 6);
    EXPECT_EQ(h.count(), 32u);
    EXPECT_EQ(h.at(2, 2), 0);
    EXPECT_EQ(h.at(1, 1), 1);
    // Shapes partly or wholly off the image are clipped, never written out of bounds.
    Mask c = rasterize_polygons({{{-1e9, -1e9}, {1e9, -1e9}, {1e9, 1e9}, {-1e9, 1e9}}}, 3, 3);
    EXPECT_EQ(c.count(), 9u);
    EXPECT_EQ(rasterize_box(Box{-5, -5, 2, 2}, 3, 3).count(), 0u);
    EXPECT_EQ(rasterize_box(Box{0.4, 0.4, 2.2, 1.2}, 4, 4).count(), 6u);  // centres x 0.5..2.5, y 0.5..1.5
}

TEST(Geometry, MaskIouDice) {
    Mask a(10, 10), b(10, 10);
    for (int x = 0; x < 5; ++x) a.at(x, 0) = 1;  // 5 px
    for (int x = 3; x < 8; ++x) b.at(x, 0) = 1;  // 5 px, 2 shared
    EXPECT_NEAR(mask_iou(a, b), 2.0 / 8.0, 1e-12);
    EXPECT_NEAR(mask_dice(a, b), 4.0 / 10.0, 1e-12);
    EXPECT_DOUBLE_EQ(mask_iou(Mask(4, 4), Mask(4, 4)), 1.0);
    EXPECT_DOUBLE_EQ(mask_iou(a, Mask(3, 3)), 0.0);  // different sizes never match
    // Dice = 2 IoU / (1 + IoU)
    double iou = mask_iou(a, b);
    EXPECT_NEAR(mask_dice(a, b), 2 * iou / (1 + iou), 1e-12);
}

TEST(Geometry, PolygonIou) {
    Polygon a{{0, 0}, {4, 0}, {4, 4}, {0, 4}}, b{{2, 0}, {6, 0}, {6, 4}, {2, 4}};
    EXPECT_NEAR(polygon_iou(a, b, 8, 8), 8.0 / 24.0, 1e-12);
}

TEST(Mask, PaintAndAlgebra) {
    Mask m(20, 20);
    mask_paint_disc(m, 10, 10, 3, 1);
    size_t disc = m.count();
    EXPECT_GT(disc, 24u);
    EXPECT_LT(disc, 36u);
    mask_paint_stroke(m, 2, 2, 17, 2, 1.0, 1);
    for (int x = 2; x < 17; ++x) EXPECT_EQ(m.at(x, 1) | m.at(x, 2), 1) << x;  // no gaps
    Mask erased = m;
    mask_paint_disc(erased, 10, 10, 5, 0);  // eraser
    EXPECT_EQ(mask_and(erased, rasterize_box(Box{7, 7, 6, 6}, 20, 20)).count(), 0u);
    EXPECT_EQ(mask_or(m, mask_not(m)).count(), 400u);
    EXPECT_EQ(mask_xor(m, m).count(), 0u);
    EXPECT_EQ(mask_subtract(m, erased).count(), m.count() - erased.count());
    int x0, y0, x1, y1;
    EXPECT_FALSE(mask_bounds(Mask(3, 3), x0, y0, x1, y1));
    Mask big = mask_resize_nearest(rasterize_box(Box{1, 1, 1, 1}, 4, 4), 8, 8);
    EXPECT_EQ(big.count(), 4u);
    EXPECT_EQ(big.at(2, 2), 1);
}
