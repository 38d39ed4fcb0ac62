// viewer_boxes.h: a box over the viewer's image, given in image pixels. Solid:
// a box a person drew or accepted, or a tool's output; dashed: a model's
// suggestion (the "AI" boxes the legend explains). The label sits above the
// box, or inside it when the box touches the viewer's top edge.
#pragma once
#include <imgui.h>

#include <string>

namespace esui {

class App;

void draw_viewer_box(ImDrawList* dl, const App& a, double x1, double y1, double x2, double y2, ImU32 colour,
                     const std::string& label, bool dashed = false);
// The dash pattern of those boxes along one line, in screen pixels (also the legend's sample).
void draw_dashed_line(ImDrawList* dl, ImVec2 p, ImVec2 q, ImU32 colour, float thickness);

}  // namespace esui
