#include "mask/mask_cleanup.h"

#include <gtest/gtest.h>

#include "mask/connected_components.h"

using namespace es;

static void fill_rect(Mask& m, int x0, int y0, int w, int h, uint8_t v = 1) {
    for (int y = y0; y < y0 + h; ++y)
        for (int x = x0; x < x0 + w; ++x) m.at(x, y) = v;
}

// A 40x40 "polyp" with two pin holes and a larger real hole, plus specks
// around it, in a 100x80 image: what a thresholded SAM mask looks like.
static Mask speckled_polyp() {
    Mask m(100, 80);
    fill_rect(m, 20, 20, 40, 40);
    m.at(30, 30) = 0;                // 1 px hole
    fill_rect(m, 40, 40, 2, 2, 0);   // 4 px hole
    fill_rect(m, 45, 25, 10, 10, 0); // 100 px hole: kept with min_area 50
    m.at(5, 5) = 1;                  // specks
    fill_rect(m, 80, 10, 3, 3);
    fill_rect(m, 70, 70, 5, 5);      // 25 px
    return m;
}

TEST(MaskCleanup, FillsSmallHolesAndRemovesSmallIslands) {
    Mask m = speckled_polyp();
    ASSERT_EQ(count_regions(m), 4);
    MaskCleanupResult r = clean_mask(m, 50);
    EXPECT_EQ(r.holes_filled, 2);
    EXPECT_EQ(r.islands_removed, 3);
    EXPECT_EQ(count_regions(r.mask), 1);
    Mask expected(100, 80);
    fill_rect(expected, 20, 20, 40, 40);
    fill_rect(expected, 45, 25, 10, 10, 0);
    EXPECT_EQ(r.mask, expected);
}

TEST(MaskCleanup, ThresholdDecidesWhatIsSmall) {
    Mask m = speckled_polyp();
    // Above the 100 px hole's area: it is filled too; a 25 px island stays at 20.
    EXPECT_EQ(clean_mask(m, 101).mask.count(), 1600u);
    MaskCleanupResult low = clean_mask(m, 20);
    EXPECT_EQ(low.islands_removed, 2);
    EXPECT_EQ(count_regions(low.mask), 2);
    // 0 and 1 change nothing.
    EXPECT_EQ(clean_mask(m, 0).mask, m);
    EXPECT_EQ(clean_mask(m, 1).mask, m);
}

TEST(MaskCleanup, TwoRealPartsStay) {
    Mask m(120, 60);
    fill_rect(m, 5, 5, 30, 30);
    fill_rect(m, 70, 10, 35, 35);
    m.at(100, 55) = 1;
    MaskCleanupResult r = clean_mask(m, 100);
    EXPECT_EQ(count_regions(r.mask), 2);
    EXPECT_EQ(r.mask.count(), 900u + 1225u);
}

TEST(MaskCleanup, AllSmallKeepsTheLargest) {
    Mask m(50, 50);
    fill_rect(m, 2, 2, 3, 3);
    fill_rect(m, 20, 20, 4, 4);
    MaskCleanupResult r = clean_mask(m, 100);
    EXPECT_EQ(r.mask.count(), 16u);
    EXPECT_EQ(r.mask.at(21, 21), 1);
    EXPECT_EQ(clean_mask(Mask(10, 10), 100).mask.count(), 0u);
}

TEST(MaskCleanup, HoleAtTheBorderIsFilledAsInSam) {
    // SAM's "holes" are any small background regions, border or not.
    Mask m(30, 30, 1);
    fill_rect(m, 0, 0, 3, 3, 0);     // a 9 px notch in the corner
    fill_rect(m, 10, 0, 10, 30, 0);  // a wide background band
    MaskCleanupResult r = clean_mask(m, 20);
    EXPECT_EQ(r.holes_filled, 1);
    EXPECT_EQ(r.mask.at(1, 1), 1);
    EXPECT_EQ(r.mask.at(15, 15), 0);
}

TEST(MaskCleanup, ThresholdFromOptions) {
    MaskCleanupOptions o;
    EXPECT_EQ(cleanup_min_area(o, 1000, 1000), 2500u);  // 0.25 %
    o.min_area_fraction = 0.001;
    EXPECT_EQ(cleanup_min_area(o, 600, 500), 300u);
    o.min_area_px = 64;
    EXPECT_EQ(cleanup_min_area(o, 600, 500), 64u);
    o.enabled = false;
    EXPECT_EQ(cleanup_min_area(o, 600, 500), 0u);
    Mask m = speckled_polyp();
    EXPECT_EQ(clean_mask(m, o).mask, m);
}
