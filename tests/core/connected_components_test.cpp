#include "mask/connected_components.h"

#include <gtest/gtest.h>

using namespace es;

TEST(ConnectedComponents, LabelsAndStats) {
    Mask m(10, 6);
    for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 3; ++x) m.at(x, y) = 1;  // region 1: 6 px
    m.at(3, 2) = 1;                                  // diagonal to region 1 → joined under 8-connectivity
    m.at(8, 5) = 1;                                  // region 2: 1 px
    Components c = label_components(m);
    ASSERT_EQ(c.count(), 2);
    EXPECT_EQ(c.stats[0].area, 7u);
    EXPECT_EQ(c.stats[0].x1, 3);
    EXPECT_EQ(c.stats[0].y1, 2);
    EXPECT_EQ(c.stats[1].area, 1u);
    EXPECT_DOUBLE_EQ(c.stats[1].cx, 8.5);
    EXPECT_TRUE(c.stats[1].box() == (Box{8, 5, 1, 1}));
    EXPECT_EQ(label_components(m, Connectivity::Four).count(), 3);
    EXPECT_EQ(component_mask(c, 2).count(), 1u);
    EXPECT_EQ(count_regions(m), 2);
    EXPECT_EQ(count_regions(m, 2), 1);  // lesion count ignores speckle
    EXPECT_EQ(remove_small_regions(m, 2).count(), 7u);
    EXPECT_EQ(largest_component(m).count(), 7u);
    EXPECT_EQ(count_regions(Mask(4, 4)), 0);
}

TEST(ConnectedComponents, SplitRegions) {
    Mask m(20, 10);
    for (int y = 1; y < 5; ++y)
        for (int x = 12; x < 18; ++x) m.at(x, y) = 1;  // 24 px, first in raster order
    for (int y = 3; y < 9; ++y)
        for (int x = 1; x < 6; ++x) m.at(x, y) = 1;    // 30 px
    m.at(9, 9) = 1;                                    // a speck
    std::vector<Mask> parts = split_regions(m, 10);
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].count(), 24u);
    EXPECT_EQ(parts[0].at(12, 1), 1);
    EXPECT_EQ(parts[1].count(), 30u);
    EXPECT_EQ(mask_or(parts[0], parts[1]).count(), 54u);
    EXPECT_EQ(split_regions(m).size(), 3u);
    EXPECT_TRUE(split_regions(Mask(5, 5)).empty());
}

TEST(ConnectedComponents, FillHoles) {
    Mask ring(7, 7);
    for (int i = 1; i < 6; ++i) ring.at(i, 1) = ring.at(i, 5) = ring.at(1, i) = ring.at(5, i) = 1;
    Mask filled = fill_holes(ring);
    EXPECT_EQ(filled.count(), 25u);
    Mask open = ring;
    open.at(3, 1) = 0;  // a gap to the outside: nothing to fill
    EXPECT_EQ(fill_holes(open), open);
}

TEST(ConnectedComponents, LargeRegionNoStackOverflow) {
    Mask m(2000, 2000, 1);
    Components c = label_components(m);
    ASSERT_EQ(c.count(), 1);
    EXPECT_EQ(c.stats[0].area, 4000000u);
}
