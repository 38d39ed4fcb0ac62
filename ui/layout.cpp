// layout.cpp: see layout.h.
#include "layout.h"

#include <algorithm>

namespace esui {

Layout compute_layout(float width, float height, const LayoutSizes& s) {
    const float W = std::max(0.0f, width), H = std::max(0.0f, height);
    Layout l;
    l.toolbar = {0, 0, W, kToolbarHeight};
    l.status = {0, std::max(kToolbarHeight, H - kStatusBarHeight), W, kStatusBarHeight};
    const float top = kToolbarHeight, bottom = l.status.y;

    // The side panel gives way first: down to kNarrowSideWidth before the
    // viewer goes below its minimum width.
    float side = 0;
    if (s.side_open) {
        const float room = W - kToolStripWidth - kSplitterSize - kMinViewerWidth;
        side = std::clamp(s.side_width, kMinSideWidth, kMaxSideWidth);
        side = std::min(side, std::max(room, kNarrowSideWidth));
        side = std::min(side, std::max(0.0f, W - kToolStripWidth - kSplitterSize));
    }
    const float split_w = s.side_open ? kSplitterSize : 0.0f;
    const float left_w = std::max(0.0f, W - side - split_w);
    l.side = {W - side, top, side, std::max(0.0f, bottom - top)};
    l.side_splitter = {left_w, top, split_w, l.side.h};

    const float room_h = bottom - top - kSplitterSize - kMinViewerHeight;
    float thumbs = std::clamp(s.thumb_height, kMinThumbStrip, kMaxThumbStrip);
    thumbs = std::min(thumbs, std::max(room_h, kMinThumbStrip));
    thumbs = std::min(thumbs, std::max(0.0f, bottom - top - kSplitterSize));
    l.thumbs = {0, bottom - thumbs, left_w, thumbs};
    l.thumbs_splitter = {0, l.thumbs.y - kSplitterSize, left_w, kSplitterSize};

    const float mid_h = std::max(0.0f, l.thumbs_splitter.y - top);
    const float tools_w = std::min(kToolStripWidth, left_w);
    l.tools = {0, top, tools_w, mid_h};
    l.viewer = {tools_w, top, std::max(0.0f, left_w - tools_w), mid_h};
    return l;
}

}  // namespace esui
