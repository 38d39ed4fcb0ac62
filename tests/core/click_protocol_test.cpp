#include "segmentation/click_protocol.h"

#include <gtest/gtest.h>

#include "annotation/geometry.h"

using namespace es;

TEST(ClickProtocol, FirstClickAtMostInteriorPoint) {
    Mask gt = rasterize_box(Box{10, 20, 30, 11}, 64, 64);  // 30 x 11 → centre row y = 25
    Click c = next_click(gt, Mask());
    ASSERT_TRUE(c.valid());
    EXPECT_TRUE(c.positive);
    EXPECT_EQ(c.y, 25);
    EXPECT_GE(c.x, 15);
    EXPECT_LE(c.x, 34);
    EXPECT_FLOAT_EQ(c.depth, 6.0f);
}

TEST(ClickProtocol, PositiveForMissNegativeForFalsePositive) {
    Mask gt = rasterize_box(Box{0, 0, 40, 20}, 64, 64);
    // Prediction covers the left half only: the miss (20 x 20) is the deepest error.
    Mask left = rasterize_box(Box{0, 0, 20, 20}, 64, 64);
    Click c = next_click(gt, left);
    ASSERT_TRUE(c.valid());
    EXPECT_TRUE(c.positive);
    EXPECT_GE(c.x, 20);
    EXPECT_EQ(gt.at(c.x, c.y), 1);
    EXPECT_EQ(left.at(c.x, c.y), 0);
    // Prediction spills far below: the false positive is deeper than any miss.
    Mask spill = mask_or(rasterize_box(Box{0, 0, 39, 20}, 64, 64), rasterize_box(Box{0, 30, 64, 34}, 64, 64));
    Click n = next_click(gt, spill);
    ASSERT_TRUE(n.valid());
    EXPECT_FALSE(n.positive);
    EXPECT_GE(n.y, 30);
    // Perfect prediction: no click.
    EXPECT_FALSE(next_click(gt, gt).valid());
}

TEST(ClickProtocol, SimulatedSessionConverges) {
    // A "model" that returns the union of discs around positive clicks minus
    // discs around negative ones; the clicker must keep improving it.
    Mask gt(80, 60);
    mask_paint_disc(gt, 30, 30, 15, 1);
    mask_paint_disc(gt, 50, 30, 12, 1);
    Mask pred;
    std::vector<double> ious;
    for (int k = 0; k < 20; ++k) {
        Click c = next_click(gt, pred);
        if (!c.valid()) break;
        if (pred.empty()) pred = Mask(80, 60);
        mask_paint_disc(pred, c.x + 0.5, c.y + 0.5, std::max(2.0f, c.depth), c.positive ? 1 : 0);
        ious.push_back(mask_iou(pred, gt));
    }
    ASSERT_GE(ious.size(), 3u);
    EXPECT_GT(ious.back(), ious.front());
    EXPECT_GT(ious.back(), 0.85);
}

TEST(ClickProtocol, Metrics) {
    std::vector<double> a{0.5, 0.86, 0.91}, b{0.95}, c{0.1, 0.2};
    EXPECT_EQ(clicks_to_reach(a, 0.85, 20), 2);
    EXPECT_EQ(clicks_to_reach(a, 0.90, 20), 3);
    EXPECT_EQ(clicks_to_reach(c, 0.85, 20), 20);  // never reached: the whole budget
    EXPECT_DOUBLE_EQ(iou_after(b, 5), 0.95);     // carried forward after an early stop
    ProtocolSummary s = summarize_protocol({a, b, c}, 20);
    EXPECT_EQ(s.objects, 3);
    EXPECT_NEAR(s.miou_at[0], (0.5 + 0.95 + 0.1) / 3, 1e-12);
    EXPECT_NEAR(s.miou_at[1], (0.86 + 0.95 + 0.2) / 3, 1e-12);
    EXPECT_NEAR(s.noc85, (2 + 1 + 20) / 3.0, 1e-12);
    EXPECT_NEAR(s.noc90, (3 + 1 + 20) / 3.0, 1e-12);
    EXPECT_EQ(s.failures85, 1);
}
