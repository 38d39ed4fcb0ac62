// layout_test.cpp: the app's fixed regions (ui/layout.h) over a range of
// window sizes and user choices: they tile the window without overlapping,
// the viewer keeps its minimum while the side panel has room to give, and the
// user's sizes are honoured within their limits.
#include <gtest/gtest.h>

#include "layout.h"

namespace {

using esui::Layout;
using esui::LayoutSizes;
using esui::Rect;

float area(const Rect& r) { return r.w * r.h; }
bool overlap(const Rect& a, const Rect& b) {
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h && area(a) > 0 && area(b) > 0;
}
bool inside(const Rect& r, float w, float h) { return r.x >= 0 && r.y >= 0 && r.x + r.w <= w + 1e-3f && r.y + r.h <= h + 1e-3f; }

TEST(Layout, RegionsTileTheWindowWithoutOverlap) {
    for (float w : {320.0f, 640.0f, 800.0f, 1024.0f, 1280.0f, 1920.0f, 3840.0f})
        for (float h : {240.0f, 480.0f, 640.0f, 800.0f, 1080.0f, 2160.0f})
            for (float side : {0.0f, 200.0f, 360.0f, 900.0f})
                for (float thumbs : {0.0f, 140.0f, 400.0f})
                    for (bool open : {true, false}) {
                        const Layout l = esui::compute_layout(w, h, {side, thumbs, open});
                        const Rect all[] = {l.toolbar, l.tools, l.viewer, l.side, l.side_splitter, l.thumbs, l.thumbs_splitter, l.status};
                        float sum = 0;
                        for (int i = 0; i < 8; ++i) {
                            EXPECT_TRUE(inside(all[i], w, h)) << w << "x" << h << " region " << i;
                            EXPECT_GE(all[i].w, 0.0f);
                            EXPECT_GE(all[i].h, 0.0f);
                            sum += area(all[i]);
                            for (int j = i + 1; j < 8; ++j)
                                EXPECT_FALSE(overlap(all[i], all[j])) << w << "x" << h << " regions " << i << ", " << j;
                        }
                        EXPECT_NEAR(sum, w * h, 1.0f) << w << "x" << h << ": the regions cover the window";
                    }
}

TEST(Layout, DefaultsAt1024x640LeaveMostOfTheWindowToTheImage) {
    const Layout l = esui::compute_layout(1024, 640, LayoutSizes{});
    EXPECT_FLOAT_EQ(l.side.w, esui::kDefaultSideWidth);
    EXPECT_FLOAT_EQ(l.thumbs.h, esui::kDefaultThumbStrip);
    EXPECT_FLOAT_EQ(l.viewer.x, esui::kToolStripWidth);
    EXPECT_FLOAT_EQ(l.viewer.y, esui::kToolbarHeight);
    EXPECT_FLOAT_EQ(l.viewer.w, 1024 - esui::kToolStripWidth - esui::kSplitterSize - esui::kDefaultSideWidth);
    EXPECT_FLOAT_EQ(l.viewer.h, 640 - esui::kToolbarHeight - esui::kStatusBarHeight - esui::kSplitterSize - esui::kDefaultThumbStrip);
    // Right of the viewer: the splitter, then the side panel; under it: the splitter, then the strip.
    EXPECT_FLOAT_EQ(l.side_splitter.x, l.viewer.x + l.viewer.w);
    EXPECT_FLOAT_EQ(l.side.x, l.side_splitter.x + esui::kSplitterSize);
    EXPECT_FLOAT_EQ(l.thumbs_splitter.y, l.viewer.y + l.viewer.h);
    EXPECT_FLOAT_EQ(l.thumbs.y + l.thumbs.h, l.status.y);
}

TEST(Layout, TheSidePanelGivesWayBeforeTheViewer) {
    // Asked for a wide panel on a narrow window: the viewer keeps its minimum
    // while the panel can shrink down to its narrow width.
    for (float w = 600; w <= 2000; w += 10) {
        const Layout l = esui::compute_layout(w, 800, {700, 140, true});
        if (w - esui::kToolStripWidth - esui::kSplitterSize - esui::kNarrowSideWidth >= esui::kMinViewerWidth)
            EXPECT_GE(l.viewer.w, esui::kMinViewerWidth - 1e-3f) << w;
        EXPECT_GE(l.side.w, std::min(esui::kNarrowSideWidth, w)) << w;
        EXPECT_LE(l.side.w, 700.0f);
    }
    // A user's width within the limits is kept as it is.
    EXPECT_FLOAT_EQ(esui::compute_layout(1600, 900, {500, 140, true}).side.w, 500.0f);
    EXPECT_FLOAT_EQ(esui::compute_layout(1600, 900, {100, 140, true}).side.w, esui::kMinSideWidth);
    EXPECT_FLOAT_EQ(esui::compute_layout(4000, 900, {5000, 140, true}).side.w, esui::kMaxSideWidth);
}

TEST(Layout, HidingTheSidePanelGivesItsRoomToTheViewer) {
    const Layout shown = esui::compute_layout(1280, 800, {360, 140, true});
    const Layout hidden = esui::compute_layout(1280, 800, {360, 140, false});
    EXPECT_FLOAT_EQ(hidden.side.w, 0.0f);
    EXPECT_FLOAT_EQ(hidden.side_splitter.w, 0.0f);
    EXPECT_FLOAT_EQ(hidden.viewer.w, shown.viewer.w + 360 + esui::kSplitterSize);
    EXPECT_FLOAT_EQ(hidden.viewer.h, shown.viewer.h);
}

TEST(Layout, TheThumbnailStripKeepsWithinItsLimits) {
    EXPECT_FLOAT_EQ(esui::compute_layout(1280, 1200, {360, 10, true}).thumbs.h, esui::kMinThumbStrip);
    EXPECT_FLOAT_EQ(esui::compute_layout(1280, 1200, {360, 1000, true}).thumbs.h, esui::kMaxThumbStrip);
    EXPECT_FLOAT_EQ(esui::compute_layout(1280, 1200, {360, 200, true}).thumbs.h, 200.0f);
    // On a short window the viewer keeps its minimum height first.
    const Layout l = esui::compute_layout(1280, 480, {360, 260, true});
    EXPECT_GE(l.viewer.h, esui::kMinViewerHeight - 1e-3f);
    EXPECT_GE(l.thumbs.h, esui::kMinThumbStrip);
}

}  // namespace
