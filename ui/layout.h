// layout.h: the app's fixed regions, in canvas CSS pixels, computed every frame
// from the canvas size and the sizes the user chose (splitters, panel toggle).
// Nothing floats over the image: the viewer is what the other regions leave,
// and it drives Fit, hit-testing, the image's clip and where message banners go
// (the top of the viewer rect, so they never cover a control).
//
//   +--------------------------- toolbar ----------------------------+
//   | tools |            viewer             |s|                      |
//   | strip |                               |p|     side panel       |
//   |-------+------- thumbs splitter -------|l|  (tabs: Image,       |
//   |          thumbnail strip              |i|   Assistant, ...)    |
//   +--------------------------- status bar -------------------------+
#pragma once
#include "view_transform.h"

namespace esui {

constexpr float kToolbarHeight = 38.0f;
constexpr float kStatusBarHeight = 26.0f;
constexpr float kToolStripWidth = 52.0f;
constexpr float kSplitterSize = 6.0f;
constexpr float kCaseAreaWidth = 220.0f;  // left end of the toolbar, for the case menu
// The viewer keeps at least this much while the side panel still has room to give.
constexpr float kMinViewerWidth = 320.0f;
constexpr float kMinViewerHeight = 180.0f;
constexpr float kMinSideWidth = 240.0f, kNarrowSideWidth = 200.0f, kMaxSideWidth = 760.0f;
constexpr float kMinThumbStrip = 72.0f, kMaxThumbStrip = 260.0f;
constexpr float kDefaultSideWidth = 360.0f, kDefaultThumbStrip = 140.0f;

// What the user chose; compute_layout clamps it to the canvas.
struct LayoutSizes {
    float side_width = kDefaultSideWidth;
    float thumb_height = kDefaultThumbStrip;
    bool side_open = true;
};

struct Layout {
    Rect toolbar, tools, viewer, side, side_splitter, thumbs, thumbs_splitter, status;
};

Layout compute_layout(float width, float height, const LayoutSizes& sizes);

}  // namespace esui
