#include "viewer_boxes.h"

#include <algorithm>
#include <cmath>

#include "app.h"

namespace esui {

void draw_dashed_line(ImDrawList* dl, ImVec2 p, ImVec2 q, ImU32 col, float thick) {
    const float dx = q.x - p.x, dy = q.y - p.y, len = std::sqrt(dx * dx + dy * dy);
    if (len < 1) return;
    const float dash = 7.0f, gap = 5.0f;
    for (float t = 0; t < len; t += dash + gap) {
        const float e = std::min(len, t + dash);
        dl->AddLine(ImVec2(p.x + dx * t / len, p.y + dy * t / len), ImVec2(p.x + dx * e / len, p.y + dy * e / len), col, thick);
    }
}

void draw_viewer_box(ImDrawList* dl, const App& a, double x1, double y1, double x2, double y2, ImU32 colour,
                     const std::string& label, bool dashed) {
    const ImVec2 p0(float(a.view.to_screen_x(x1)), float(a.view.to_screen_y(y1)));
    const ImVec2 p1(float(a.view.to_screen_x(x2)), float(a.view.to_screen_y(y2)));
    if (dashed) {
        draw_dashed_line(dl, p0, ImVec2(p1.x, p0.y), colour, 2.0f);
        draw_dashed_line(dl, ImVec2(p1.x, p0.y), p1, colour, 2.0f);
        draw_dashed_line(dl, p1, ImVec2(p0.x, p1.y), colour, 2.0f);
        draw_dashed_line(dl, ImVec2(p0.x, p1.y), p0, colour, 2.0f);
    } else {
        dl->AddRect(p0, p1, colour, 0.0f, 0, 2.0f);
    }
    if (label.empty()) return;
    const ImVec2 ts = ImGui::CalcTextSize(label.c_str());
    const float y = p0.y - ts.y - 4 >= a.viewer_rect.y ? p0.y - ts.y - 4 : p0.y;
    dl->AddRectFilled(ImVec2(p0.x, y), ImVec2(p0.x + ts.x + 6, y + ts.y + 4), IM_COL32(0, 0, 0, 180));
    dl->AddText(ImVec2(p0.x + 3, y + 2), colour, label.c_str());
}

}  // namespace esui
