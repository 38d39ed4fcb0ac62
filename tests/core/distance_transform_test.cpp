#include "mask/distance_transform.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace es;

// Brute force: distance from each set pixel centre to the nearest unset pixel
// centre, the image border counting as unset pixels just outside.
static std::vector<float> brute(const Mask& m) {
    std::vector<float> d(m.data.size(), 0);
    for (int y = 0; y < m.height; ++y)
        for (int x = 0; x < m.width; ++x) {
            if (!m.at(x, y)) continue;
            double best = 1e30;
            for (int v = -1; v <= m.height; ++v)
                for (int u = -1; u <= m.width; ++u)
                    if (!m.inside(u, v) || !m.at(u, v)) best = std::min(best, std::hypot(double(u - x), double(v - y)));
            d[size_t(y) * m.width + x] = float(best);
        }
    return d;
}

TEST(DistanceTransform, ExactAgainstBruteForce) {
    std::mt19937 rng(11);
    for (int t = 0; t < 40; ++t) {
        int w = 1 + int(rng() % 30), h = 1 + int(rng() % 30);
        Mask m(w, h);
        int p = 50 + int(rng() % 50);
        for (auto& v : m.data) v = int(rng() % 100) < p;
        auto d = distance_transform(m);
        auto b = brute(m);
        for (size_t i = 0; i < d.size(); ++i) ASSERT_NEAR(d[i], b[i], 1e-4) << "trial " << t << " pixel " << i;
    }
}

TEST(DistanceTransform, MostInteriorPoint) {
    Mask m(21, 11);
    for (int y = 1; y < 10; ++y)
        for (int x = 1; x < 20; ++x) m.at(x, y) = 1;
    InteriorPoint p = most_interior_point(m);
    ASSERT_TRUE(p.valid());
    EXPECT_EQ(p.y, 5);
    EXPECT_FLOAT_EQ(p.distance, 5.0f);
    EXPECT_EQ(p.x, 5);  // first of the tied centre row in raster order
    EXPECT_FALSE(most_interior_point(Mask(5, 5)).valid());
    // Without the border as background a full mask has no boundary.
    auto d = distance_transform(Mask(3, 3, 1), false);
    EXPECT_TRUE(std::isinf(d[4]));
    // A disc's deepest point is its centre.
    Mask disc(41, 41);
    for (int y = 0; y < 41; ++y)
        for (int x = 0; x < 41; ++x) disc.at(x, y) = (x - 25) * (x - 25) + (y - 15) * (y - 15) <= 100;
    InteriorPoint c = most_interior_point(disc);
    EXPECT_EQ(c.x, 25);
    EXPECT_EQ(c.y, 15);
}
