#include "mask/contour.h"

#include <gtest/gtest.h>

#include <random>

#include "mask/connected_components.h"

using namespace es;

static Mask from_rows(const std::vector<std::string>& rows) {
    Mask m(int(rows[0].size()), int(rows.size()));
    for (int y = 0; y < m.height; ++y)
        for (int x = 0; x < m.width; ++x) m.at(x, y) = rows[size_t(y)][size_t(x)] == '#';
    return m;
}

static Mask rasterize_contours(const std::vector<Contour>& cs, int w, int h) {
    std::vector<Polygon> rings;
    for (const Contour& c : cs) rings.push_back(c.points);
    return rasterize_polygons(rings, w, h);
}

TEST(Contour, SquareHasFourCorners) {
    Mask m = from_rows({".....", ".###.", ".###.", "....."});
    auto cs = trace_contours(m);
    ASSERT_EQ(cs.size(), 1u);
    EXPECT_FALSE(cs[0].hole);
    EXPECT_EQ(cs[0].points, (Polygon{{1, 1}, {4, 1}, {4, 3}, {1, 3}}));
    EXPECT_DOUBLE_EQ(polygon_signed_area(cs[0].points), 6.0);
}

TEST(Contour, HoleIsItsOwnRingWithOppositeOrientation) {
    Mask m = from_rows({"#####", "#...#", "#.#.#", "#...#", "#####"});
    auto cs = trace_contours(m);
    int outer = 0, holes = 0;
    for (const Contour& c : cs) (c.hole ? holes : outer)++;
    EXPECT_EQ(outer, 2);  // the frame and the island in the hole
    EXPECT_EQ(holes, 1);
    EXPECT_EQ(rasterize_contours(cs, 5, 5), m);
    auto polys = mask_to_polygons(m, 0.0);
    EXPECT_TRUE(polys.dropped_holes);
    ASSERT_EQ(polys.polygons.size(), 2u);
    EXPECT_DOUBLE_EQ(polygon_area(polys.polygons[0]), 25.0);  // largest first, hole filled
}

TEST(Contour, DiagonalPixelsAreOneRegion) {
    Mask m = from_rows({"##..", "##..", "..##", "..##"});
    auto cs = trace_contours(m);
    ASSERT_EQ(cs.size(), 1u);  // 8-connected: one ring through the saddle corner
    EXPECT_EQ(rasterize_contours(cs, 4, 4), m);
    EXPECT_EQ(count_regions(m), 1);
    EXPECT_EQ(label_components(m, Connectivity::Four).count(), 2);
}

TEST(Contour, RandomMasksRasterizeBackExactly) {
    std::mt19937 rng(3);
    for (int t = 0; t < 200; ++t) {
        int w = 1 + int(rng() % 24), h = 1 + int(rng() % 24);
        Mask m(w, h);
        int p = 20 + int(rng() % 60);
        for (auto& v : m.data) v = int(rng() % 100) < p;
        auto cs = trace_contours(m);
        ASSERT_EQ(rasterize_contours(cs, w, h), m) << "trial " << t;
        // Every ring belongs to a region; each region has exactly one outer ring.
        Components comps = label_components(m);
        std::vector<int> outer(size_t(comps.count()) + 1, 0);
        for (const Contour& c : cs) {
            ASSERT_GE(c.region, 1);
            if (!c.hole) outer[size_t(c.region)]++;
        }
        for (int i = 1; i <= comps.count(); ++i) EXPECT_EQ(outer[size_t(i)], 1) << "trial " << t;
    }
}

TEST(Contour, DouglasPeucker) {
    Polygon line{{0, 0}, {1, 0.1}, {2, -0.1}, {3, 5}, {4, 6}, {5, 7}, {6, 8.1}, {7, 9}};
    Polygon s = simplify_polyline(line, 0.5);
    EXPECT_EQ(s.front(), line.front());
    EXPECT_EQ(s.back(), line.back());
    EXPECT_LT(s.size(), line.size());
    // Every dropped vertex lies within epsilon of the kept outline.
    EXPECT_TRUE(std::find(s.begin(), s.end(), Point{3, 5}) != s.end() ||
                std::find(s.begin(), s.end(), Point{2, -0.1}) != s.end());
    // Collinear points go at epsilon 0.
    EXPECT_EQ(simplify_polyline(Polygon{{0, 0}, {1, 1}, {2, 2}, {3, 3}}, 0).size(), 2u);

    // A digitised disc: simplification keeps shape and area within a pixel of the boundary.
    Mask disc(101, 101);
    mask_paint_disc(disc, 50.5, 50.5, 40, 1);
    auto traced = trace_contours(disc);
    ASSERT_EQ(traced.size(), 1u);
    Polygon simple = simplify_ring(traced[0].points, 1.0);
    EXPECT_LT(simple.size(), traced[0].points.size() / 3);
    EXPECT_GT(simple.size(), 12u);
    double a0 = polygon_area(traced[0].points), a1 = polygon_area(simple);
    EXPECT_NEAR(a1 / a0, 1.0, polygon_perimeter(traced[0].points) * 1.0 / a0);
    EXPECT_GT(mask_iou(rasterize_polygons({simple}, 101, 101), disc), 0.97);
    // Thin shapes still give a valid ring.
    EXPECT_GE(simplify_ring(Polygon{{0, 0}, {10, 0}, {10, 1}, {0, 1}}, 5.0).size(), 3u);
}

TEST(Contour, MaskToPolygonsAndBox) {
    Mask m(50, 40);
    mask_paint_disc(m, 10, 10, 6, 1);
    mask_paint_disc(m, 35, 25, 9, 1);
    m.at(49, 0) = 1;  // speckle
    auto polys = mask_to_polygons(m, 1.0, 5);
    ASSERT_EQ(polys.polygons.size(), 2u);
    EXPECT_FALSE(polys.dropped_holes);
    EXPECT_GT(polygon_area(polys.polygons[0]), polygon_area(polys.polygons[1]));
    EXPECT_EQ(mask_to_polygons(m, 1.0, 1).polygons.size(), 3u);
    Box b = mask_to_box(m);
    EXPECT_EQ(b.x2(), 50);
    EXPECT_EQ(b.y, 0);
    EXPECT_TRUE(mask_to_box(Mask(5, 5)).empty());
    EXPECT_TRUE(trace_contours(Mask()).empty());
}
