// panel_tools.cpp: the annotation tool strip at the left of the viewer: one
// icon button per tool (name, shortcut and how to use it in the tooltip),
// undo/redo, and the brush size while the brush or eraser is active.
#include <imgui.h>

#include <cmath>
#include <string>

#include "annotation_ui.h"
#include "app.h"
#include "panel_flags.h"

namespace esui {

static constexpr float kButtonW = 40.0f, kButtonH = 32.0f;

// Simple line icons, drawn in the button's rectangle [p0, p1].
static void draw_tool_icon(ImDrawList* dl, Tool tool, ImVec2 p0, ImVec2 p1, ImU32 col) {
    const float cx = (p0.x + p1.x) / 2, cy = (p0.y + p1.y) / 2, s = 9.0f;
    switch (tool) {
        case Tool::Pan: {  // four-way arrow
            dl->AddLine(ImVec2(cx - s, cy), ImVec2(cx + s, cy), col, 1.5f);
            dl->AddLine(ImVec2(cx, cy - s), ImVec2(cx, cy + s), col, 1.5f);
            const float h = 3.5f;
            dl->AddTriangleFilled(ImVec2(cx - s - 1, cy), ImVec2(cx - s + h, cy - h), ImVec2(cx - s + h, cy + h), col);
            dl->AddTriangleFilled(ImVec2(cx + s + 1, cy), ImVec2(cx + s - h, cy - h), ImVec2(cx + s - h, cy + h), col);
            dl->AddTriangleFilled(ImVec2(cx, cy - s - 1), ImVec2(cx - h, cy - s + h), ImVec2(cx + h, cy - s + h), col);
            dl->AddTriangleFilled(ImVec2(cx, cy + s + 1), ImVec2(cx - h, cy + s - h), ImVec2(cx + h, cy + s - h), col);
            break;
        }
        case Tool::Select: {  // pointer arrow
            const ImVec2 pts[] = {ImVec2(cx - 5, cy - 9), ImVec2(cx - 5, cy + 6), ImVec2(cx - 1, cy + 2),
                                  ImVec2(cx + 2, cy + 9), ImVec2(cx + 4, cy + 8), ImVec2(cx + 1, cy + 1),
                                  ImVec2(cx + 6, cy + 1)};
            dl->AddConvexPolyFilled(pts, 3, col);  // the head
            dl->AddPolyline(pts, 7, col, ImDrawFlags_Closed, 1.5f);
            break;
        }
        case Tool::Box:
            dl->AddRect(ImVec2(cx - s, cy - s + 2), ImVec2(cx + s, cy + s - 2), col, 0, 0, 1.5f);
            break;
        case Tool::Polygon: {
            ImVec2 pts[5];
            for (int i = 0; i < 5; ++i) {
                const float t = -1.5708f + i * 1.2566f;
                pts[i] = ImVec2(cx + s * std::cos(t) * (i == 2 ? 0.7f : 1.0f), cy + s * std::sin(t));
            }
            dl->AddPolyline(pts, 5, col, ImDrawFlags_Closed, 1.5f);
            for (const ImVec2& p : pts) dl->AddCircleFilled(p, 2.0f, col);
            break;
        }
        case Tool::Point:
            dl->AddCircleFilled(ImVec2(cx, cy), 3.5f, col);
            dl->AddCircle(ImVec2(cx, cy), 7.5f, col, 0, 1.5f);
            break;
        case Tool::Brush:  // handle and a round stroke
            dl->AddLine(ImVec2(cx + 8, cy - 9), ImVec2(cx + 1, cy - 1), col, 2.5f);
            dl->AddCircleFilled(ImVec2(cx - 3, cy + 3), 5.0f, col);
            break;
        case Tool::Eraser: {  // tilted block, the rubber end filled
            const ImVec2 u(6.0f, -6.0f), v(3.5f, 3.5f), c(cx, cy);
            auto at = [&](float fu, float fv) { return ImVec2(c.x + u.x * fu + v.x * fv, c.y + u.y * fu + v.y * fv); };
            dl->AddQuadFilled(at(-1, -1), at(0, -1), at(0, 1), at(-1, 1), col);
            dl->AddQuad(at(-1, -1), at(1, -1), at(1, 1), at(-1, 1), col, 1.5f);
            break;
        }
        case Tool::Segment: {  // magic wand with a sparkle
            dl->AddLine(ImVec2(cx - 8, cy + 8), ImVec2(cx + 2, cy - 2), col, 2.5f);
            const ImVec2 st(cx + 5, cy - 5);
            dl->AddLine(ImVec2(st.x - 5, st.y), ImVec2(st.x + 5, st.y), col, 1.5f);
            dl->AddLine(ImVec2(st.x, st.y - 5), ImVec2(st.x, st.y + 5), col, 1.5f);
            dl->AddLine(ImVec2(st.x - 3, st.y - 3), ImVec2(st.x + 3, st.y + 3), col, 1.0f);
            dl->AddLine(ImVec2(st.x - 3, st.y + 3), ImVec2(st.x + 3, st.y - 3), col, 1.0f);
            break;
        }
    }
}

// Curved arrow for undo (flip = false) and redo.
static void draw_undo_icon(ImDrawList* dl, ImVec2 p0, ImVec2 p1, ImU32 col, bool redo) {
    const float cx = (p0.x + p1.x) / 2, cy = (p0.y + p1.y) / 2 + 2;
    const float k = redo ? -1.0f : 1.0f;
    dl->PathArcTo(ImVec2(cx, cy), 7.0f, redo ? 3.1416f * 1.1f : -3.1416f * 0.1f, redo ? 3.1416f * 2.0f : -3.1416f * 1.0f, 12);
    dl->PathStroke(col, 0, 1.8f);
    const ImVec2 tip(cx - 7.0f * k, cy + 1.0f);
    dl->AddTriangleFilled(ImVec2(tip.x - 4.0f, tip.y - 2.0f), ImVec2(tip.x + 4.0f, tip.y - 2.0f), ImVec2(tip.x, tip.y + 4.0f), col);
}

// An icon button; `key` (may be empty) is printed small in its corner.
static bool icon_button(const char* id, bool active, const char* key) {
    if (active) ImGui::PushStyleColor(ImGuiCol_Button, ImGui::GetStyleColorVec4(ImGuiCol_ButtonActive));
    const bool clicked = ImGui::Button(id, ImVec2(kButtonW, kButtonH));
    if (active) ImGui::PopStyleColor();
    if (key && *key) {
        const ImVec2 b = ImGui::GetItemRectMax();
        ImGui::GetWindowDrawList()->AddText(ImVec2(b.x - 8, b.y - 14), ImGui::GetColorU32(ImGuiCol_Text, 0.55f), key);
    }
    return clicked;
}

void draw_tool_strip(App& a) {
    AnnotationUi& ui = annotation_ui();
    const Rect& r = a.layout.tools;
    if (r.w <= 0 || r.h <= 0) return;
    pin_window(r.x, r.y, r.w, r.h);
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2((r.w - kButtonW) / 2, 6));
    ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(4, 4));
    ImGui::Begin("##tools", nullptr, kPanelFlags | ImGuiWindowFlags_NoScrollbar);
    ImGui::PopStyleVar();
    const ImU32 icon = ImGui::GetColorU32(ImGuiCol_Text);
    const ImU32 icon_off = ImGui::GetColorU32(ImGuiCol_TextDisabled);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    for (const ToolInfo& t : tool_infos()) {
        if (icon_button((std::string("##tool_") + t.name).c_str(), ui.tool == t.tool, t.key_name)) {
            ui.tool = t.tool;
            ui.polygon.clear();
        }
        a.record_widget((std::string("tool_") + t.name).c_str());
        draw_tool_icon(dl, t.tool, ImGui::GetItemRectMin(), ImGui::GetItemRectMax(), icon);
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s (%s)\n%s", t.name, t.key_name, t.help);
    }
    if (ui.tool == Tool::Brush || ui.tool == Tool::Eraser) {
        ImGui::SetNextItemWidth(kButtonW);
        ImGui::DragFloat("##brush_size", &ui.brush_radius, 0.5f, 1.0f, 200.0f, "%.0f", ImGuiSliderFlags_Logarithmic);
        a.record_widget("brush_size");
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("Brush radius in image pixels: drag, or Ctrl+click to type ([ and ])");
    }
    ImGui::Separator();
    const bool can_undo = ui.history.can_undo(), can_redo = ui.history.can_redo();
    if (!can_undo) ImGui::BeginDisabled();
    if (icon_button("##undo", false, "")) ui.undo(a);
    draw_undo_icon(dl, ImGui::GetItemRectMin(), ImGui::GetItemRectMax(), can_undo ? icon : icon_off, false);
    if (!can_undo) ImGui::EndDisabled();
    a.record_widget("ann_undo");
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
        ImGui::SetTooltip("Undo %s (Ctrl+Z)", can_undo ? ui.history.undo_description().c_str() : "");
    if (!can_redo) ImGui::BeginDisabled();
    if (icon_button("##redo", false, "")) ui.redo(a);
    draw_undo_icon(dl, ImGui::GetItemRectMin(), ImGui::GetItemRectMax(), can_redo ? icon : icon_off, true);
    if (!can_redo) ImGui::EndDisabled();
    a.record_widget("ann_redo");
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
        ImGui::SetTooltip("Redo %s (Ctrl+Shift+Z or Ctrl+Y)", can_redo ? ui.history.redo_description().c_str() : "");
    ImGui::End();
    ImGui::PopStyleVar();
}

}  // namespace esui
