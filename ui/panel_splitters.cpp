// panel_splitters.cpp: the two bars the user drags to share the window between
// the viewer, the side panel (width) and the thumbnail strip (height).
// Double-click puts the default size back. The sizes are kept in the browser
// (App::save_layout_sizes) when a drag ends.
#include <imgui.h>

#include "app.h"
#include "panel_flags.h"

namespace esui {

// One splitter over `r`; `vertical`: a vertical bar dragged sideways. Returns
// the mouse position along the drag axis while dragged (else a negative value);
// sets *released when a drag or a double-click ends this frame.
static float splitter(App& a, const char* id, const char* widget, const Rect& r, bool vertical, bool* reset, bool* released) {
    *reset = false;
    *released = false;
    if (r.w <= 0 || r.h <= 0) return -1;
    pin_window(r.x, r.y, r.w, r.h);
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
    ImGui::PushStyleColor(ImGuiCol_WindowBg, ImVec4(0.11f, 0.11f, 0.13f, 1.0f));
    ImGui::Begin(id, nullptr, kPanelFlags | ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
    ImGui::SetCursorScreenPos(ImVec2(r.x, r.y));
    ImGui::InvisibleButton("##bar", ImVec2(r.w, r.h));
    a.record_widget(widget);
    const bool hot = ImGui::IsItemHovered() || ImGui::IsItemActive();
    if (hot) ImGui::SetMouseCursor(vertical ? ImGuiMouseCursor_ResizeEW : ImGuiMouseCursor_ResizeNS);
    if (ImGui::IsItemHovered() && !ImGui::IsItemActive()) ImGui::SetTooltip(vertical ? "Drag to resize the side panel; double-click for the default width"
                                                           : "Drag to resize the thumbnail strip; double-click for the default height");
    // A grip in the middle of the bar, brighter while it can be dragged.
    const ImU32 col = ImGui::GetColorU32(ImGui::IsItemActive() ? ImGuiCol_SeparatorActive
                                         : hot                 ? ImGuiCol_SeparatorHovered
                                                               : ImGuiCol_Separator);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 c(r.x + r.w / 2, r.y + r.h / 2);
    if (vertical) dl->AddLine(ImVec2(c.x, r.y), ImVec2(c.x, r.y + r.h), col, hot ? 2.0f : 1.0f);
    else dl->AddLine(ImVec2(r.x, c.y), ImVec2(r.x + r.w, c.y), col, hot ? 2.0f : 1.0f);
    for (int i = -1; i <= 1; ++i) {
        const ImVec2 d = vertical ? ImVec2(c.x, c.y + 6.0f * i) : ImVec2(c.x + 6.0f * i, c.y);
        dl->AddCircleFilled(d, 1.8f, col);
    }
    float pos = -1;
    if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left, 0.0f)) {
        const ImVec2 m = ImGui::GetIO().MousePos;
        pos = vertical ? m.x : m.y;
    }
    if (ImGui::IsItemDeactivated()) *released = true;
    if (ImGui::IsItemHovered() && ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) *reset = true;
    ImGui::End();
    ImGui::PopStyleColor();
    ImGui::PopStyleVar();
    return pos;
}

void draw_splitters(App& a) {
    LayoutSizes sizes = a.layout_sizes;
    bool reset = false, released = false, changed = false, save = false;
    const float x = splitter(a, "##split_side", "split_side", a.layout.side_splitter, true, &reset, &released);
    if (x >= 0) {
        sizes.side_width = a.css_width - x - kSplitterSize / 2;
        changed = true;
    }
    if (reset) sizes.side_width = kDefaultSideWidth, changed = true;
    save |= released || reset;
    const float y = splitter(a, "##split_thumbs", "split_thumbs", a.layout.thumbs_splitter, false, &reset, &released);
    if (y >= 0) {
        sizes.thumb_height = a.layout.status.y - y - kSplitterSize / 2;
        changed = true;
    }
    if (reset) sizes.thumb_height = kDefaultThumbStrip, changed = true;
    save |= released || reset;
    if (changed) a.set_layout_sizes(sizes);
    if (save) a.save_layout_sizes();
}

}  // namespace esui
