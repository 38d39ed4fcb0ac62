// annotation_tools.cpp: the drawing tools over the viewer and the overlays
// that show annotations (ImGui background draw list, clipped to the viewer;
// masks and filled polygons as textures). Every finished gesture is one
// undoable command; a gesture in progress is only a preview.
#include <emscripten/emscripten.h>
#include <emscripten/html5_webgpu.h>
#include <imgui.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "annotation_ui.h"
#include "app.h"
#include "annotation/geometry.h"
#include "gpu_texture.h"

namespace esui {

namespace {

enum Drag { kNone = 0, kDrawBox = 1, kMove = 2, kResizeBox = 3, kVertex = 4, kPaint = 5, kSegmentBox = 6 };

ImVec2 to_screen(const App& a, double x, double y) {
    return ImVec2(float(a.view.to_screen_x(x)), float(a.view.to_screen_y(y)));
}

// Box corners 0..3: (x0,y0) (x1,y0) (x1,y1) (x0,y1).
es::Point box_corner(const es::Box& b, int i) {
    return {i == 1 || i == 2 ? b.x + b.w : b.x, i >= 2 ? b.y + b.h : b.y};
}

bool hit(const es::Annotation& an, double x, double y, double tol) {
    switch (an.kind) {
        case es::AnnotationKind::Box:
            return x >= an.box.x - tol && y >= an.box.y - tol && x <= an.box.x + an.box.w + tol && y <= an.box.y + an.box.h + tol;
        case es::AnnotationKind::Polygon:
            for (const auto& ring : an.polygons)
                if (es::point_in_polygon(ring, {x, y})) return true;
            return false;
        case es::AnnotationKind::Mask: {
            const int ix = int(std::floor(x)), iy = int(std::floor(y));
            return an.mask.inside(ix, iy) && an.mask.at(ix, iy);
        }
        case es::AnnotationKind::Point:
            return std::hypot(an.point.x - x, an.point.y - y) <= tol * 2;
    }
    return false;
}

// Over the image area and not over any ImGui window. (App::viewer_hit walks
// ImGui's window list, which mid-frame still holds the implicit Debug window.)
bool viewer_free(const App& a, float x, float y) {
    return a.viewer_rect.contains(x, y) && !ImGui::IsWindowHovered(ImGuiHoveredFlags_AnyWindow) &&
           !ImGui::IsAnyItemActive();
}

WGPUDevice device() { return emscripten_webgpu_get_device(); }
WGPUQueue queue() {
    static WGPUQueue q = wgpuDeviceGetQueue(device());
    return q;
}

// Texture for a mask in `color` (ABGR); remade only when the mask changes.
GpuTexture* mask_texture(App& a, AnnotationUi& ui, const std::string& key, const es::Mask& m, uint32_t color) {
    MaskTexture& t = ui.textures[key];
    t.used = true;
    if (t.texture && t.color == color && t.mask == m) return t.texture;
    if (t.texture) destroy_gpu_texture(t.texture);
    t.texture = nullptr;
    t.mask = m;
    t.color = color;
    es::Mask shown = m;
    const int limit = std::min(a.max_texture_dimension, 4096);
    if (m.width > limit || m.height > limit) {
        const double s = double(limit) / std::max(m.width, m.height);
        shown = es::mask_resize_nearest(m, std::max(1, int(m.width * s)), std::max(1, int(m.height * s)));
    }
    if (shown.empty()) return nullptr;
    std::vector<uint8_t> rgba(size_t(shown.width) * shown.height * 4, 0);
    const uint8_t r = color & 0xFF, g = (color >> 8) & 0xFF, b = (color >> 16) & 0xFF;
    for (size_t i = 0; i < shown.data.size(); ++i) {
        if (!shown.data[i]) continue;
        rgba[4 * i] = r, rgba[4 * i + 1] = g, rgba[4 * i + 2] = b, rgba[4 * i + 3] = 255;
    }
    t.texture = create_gpu_texture(device(), queue(), shown.width, shown.height, rgba.data());
    return t.texture;
}

uint32_t with_alpha(uint32_t abgr, float alpha) {
    return (abgr & 0x00FFFFFFu) | (uint32_t(std::clamp(alpha, 0.0f, 1.0f) * 255.0f) << 24);
}

void draw_mask(App& a, AnnotationUi& ui, ImDrawList* dl, const std::string& key, const es::Mask& m, uint32_t color, float alpha) {
    GpuTexture* t = mask_texture(a, ui, key, m, color);
    if (!t) return;
    dl->AddImage(reinterpret_cast<ImTextureID>(t), to_screen(a, 0, 0), to_screen(a, m.width, m.height), ImVec2(0, 0),
                 ImVec2(1, 1), with_alpha(0xFFFFFFFFu, alpha));
}

void draw_annotation(App& a, AnnotationUi& ui, ImDrawList* dl, const es::ImageAnnotations& img, const es::Annotation& an,
                     bool selected, const std::string& key) {
    const uint32_t color = ui.label_color(an.label);
    const float alpha = an.opacity;
    const float thick = selected ? 3.0f : 2.0f;
    const uint32_t outline = with_alpha(color, std::max(0.8f, alpha));
    switch (an.kind) {
        case es::AnnotationKind::Box: {
            const ImVec2 p0 = to_screen(a, an.box.x, an.box.y), p1 = to_screen(a, an.box.x + an.box.w, an.box.y + an.box.h);
            dl->AddRectFilled(p0, p1, with_alpha(color, alpha * 0.35f));
            dl->AddRect(p0, p1, outline, 0, 0, thick);
            if (selected)
                for (int i = 0; i < 4; ++i) {
                    const es::Point c = box_corner(an.box, i);
                    const ImVec2 s = to_screen(a, c.x, c.y);
                    dl->AddRectFilled(ImVec2(s.x - 4, s.y - 4), ImVec2(s.x + 4, s.y + 4), 0xFFFFFFFFu);
                    dl->AddRect(ImVec2(s.x - 4, s.y - 4), ImVec2(s.x + 4, s.y + 4), 0xFF000000u);
                }
            break;
        }
        case es::AnnotationKind::Polygon: {
            draw_mask(a, ui, dl, key, es::rasterize_polygons(an.polygons, img.width, img.height), color, alpha * 0.6f);
            for (const auto& ring : an.polygons) {
                std::vector<ImVec2> pts;
                for (const auto& p : ring) pts.push_back(to_screen(a, p.x, p.y));
                dl->AddPolyline(pts.data(), int(pts.size()), outline, ImDrawFlags_Closed, thick);
                if (selected)
                    for (const ImVec2& s : pts) dl->AddCircleFilled(s, 4.0f, 0xFFFFFFFFu);
            }
            break;
        }
        case es::AnnotationKind::Mask: {
            draw_mask(a, ui, dl, key, an.mask, color, alpha);
            if (selected) {
                const es::Box b = es::annotation_bounds(an);
                dl->AddRect(to_screen(a, b.x, b.y), to_screen(a, b.x + b.w, b.y + b.h), 0xC0FFFFFFu, 0, 0, 1.0f);
            }
            break;
        }
        case es::AnnotationKind::Point: {
            const ImVec2 s = to_screen(a, an.point.x, an.point.y);
            dl->AddCircleFilled(s, selected ? 7.0f : 5.5f, with_alpha(color, std::max(0.85f, alpha)));
            dl->AddCircle(s, selected ? 7.0f : 5.5f, 0xFF000000u, 0, 1.5f);
            break;
        }
    }
    const es::Box b = es::annotation_bounds(an);
    const ImVec2 tag = to_screen(a, b.x, b.y);
    const std::string text = "#" + std::to_string(an.id) + " " + ui.label_name(an.label);
    dl->AddText(ImVec2(tag.x + 1, tag.y - 15), 0xC0000000u, text.c_str());
    dl->AddText(ImVec2(tag.x, tag.y - 16), outline, text.c_str());
}

es::Annotation new_annotation(const AnnotationUi& ui, es::AnnotationKind kind) {
    es::Annotation an;
    an.kind = kind;
    an.label = ui.label;
    an.opacity = ui.default_opacity;
    return an;
}

void add_annotation(App& a, AnnotationUi& ui, es::ImageAnnotations& img, es::Annotation an, const char* what) {
    an.id = img.next_id;
    std::string error;
    if (!es::validate_annotation(an, img.width, img.height, &error)) {
        a.messages.error("The shape was not added: it does not fit this image.", std::string(what) + ": " + error);
        return;
    }
    const uint64_t id = an.id;
    if (ui.apply(a, es::AnnotationCommand::add(img.image, std::move(an), what))) ui.selected = id;
}

void finish_polygon(App& a, AnnotationUi& ui, es::ImageAnnotations& img) {
    if (ui.polygon.size() >= 3) {
        es::Annotation an = new_annotation(ui, es::AnnotationKind::Polygon);
        an.polygons.push_back(ui.polygon);
        add_annotation(a, ui, img, std::move(an), "Add polygon");
    }
    ui.polygon.clear();
}

void delete_selected(App& a, AnnotationUi& ui, es::ImageAnnotations& img) {
    const es::Annotation* an = img.find(ui.selected);
    if (!an) return;
    ui.apply(a, es::AnnotationCommand::remove(img.image, *an, "Delete " + std::string(es::annotation_kind_name(an->kind))));
    ui.selected = 0;
}

void handle_keys(App& a, AnnotationUi& ui, es::ImageAnnotations* img) {
    ImGuiIO& io = ImGui::GetIO();
    if (io.WantTextInput) return;
    const bool ctrl = io.KeyCtrl || io.KeySuper;
    if (ctrl && ImGui::IsKeyPressed(90)) {  // Z
        if (io.KeyShift) ui.redo(a); else ui.undo(a);
        return;
    }
    if (ctrl && ImGui::IsKeyPressed(89)) { ui.redo(a); return; }  // Y
    if (ctrl || io.KeyAlt) return;
    for (const ToolInfo& t : tool_infos())
        if (ImGui::IsKeyPressed(t.key, false)) {
            ui.tool = t.tool;
            ui.polygon.clear();
        }
    if (ImGui::IsKeyPressed(219)) ui.brush_radius = std::max(1.0f, ui.brush_radius / 1.25f);  // [
    if (ImGui::IsKeyPressed(221)) ui.brush_radius = std::min(500.0f, ui.brush_radius * 1.25f);  // ]
    if (!img) return;
    const bool enter = ImGui::IsKeyPressed(13, false);
    const bool esc = ImGui::IsKeyPressed(27, false);
    if (ui.tool == Tool::Polygon && !ui.polygon.empty()) {
        if (enter) finish_polygon(a, ui, *img);
        if (esc) ui.polygon.clear();
        if (ImGui::IsKeyPressed(8)) ui.polygon.pop_back();
        return;
    }
    if (ui.tool == Tool::Segment && (!ui.seg.clicks.empty() || ui.seg.has_box)) {
        if (enter) segment_accept(a, ui);
        if (esc) segment_clear(ui);
        if (ImGui::IsKeyPressed(8) && !ui.seg.clicks.empty()) {
            ui.seg.clicks.pop_back();
            if (ui.seg.clicks.empty() && !ui.seg.has_box) segment_clear(ui);
            else segment_request(a, ui);
        }
        return;
    }
    if (ImGui::IsKeyPressed(46, false) || ImGui::IsKeyPressed(8, false)) delete_selected(a, ui, *img);
    if (esc) ui.selected = 0;
}

}  // namespace

void segment_clear(AnnotationUi& ui) {
    ui.seg.clicks.clear();
    ui.seg.has_box = false;
    ui.seg.mask = es::Mask();
    ui.seg.raw_mask = es::Mask();
    ui.seg.parts = ui.seg.holes_filled = ui.seg.islands_removed = 0;
    ui.seg.iou = 0;
    ui.seg.answered = ui.seg.request;  // late answers are dropped
}

void segment_settings_changed(AnnotationUi& ui) {
    const SegmentSession& s = ui.seg;
    nlohmann::json j{{"cleanup", s.cleanup.enabled}, {"min_area_fraction", s.cleanup.min_area_fraction},
                     {"min_area_px", s.cleanup.min_area_px}, {"background", s.background}};
    annotation_js_action("segment_settings", j.dump());
}

// Asks the JS job to encode the current image in the
// background, so the first click finds the embedding ready. Only once the
// Segment tool is in use (the tool, or the background setting it turns on):
// an encoder run costs seconds of CPU a viewer-only session should not pay.
static void segment_prepare(App& a, AnnotationUi& ui) {
    ViewerImage* v = a.current_image();
    if (ui.tool == Tool::Segment && !ui.seg.background) {
        ui.seg.background = true;
        segment_settings_changed(ui);
    }
    if (!v || !ui.seg.background || ui.seg.prepared_for == v->name) return;
    ui.seg.prepared_for = v->name;
    annotation_js_action("segment_prepare", nlohmann::json::array({v->name}).dump());
}

void segment_request(App& a, AnnotationUi& ui) {
    ViewerImage* v = a.current_image();
    if (!v) return;
    SegmentSession& s = ui.seg;
    s.image = v->name;
    nlohmann::json j;
    j["request"] = ++s.request;
    j["image"] = v->name;
    j["width"] = v->pixels.width;
    j["height"] = v->pixels.height;
    auto clicks = nlohmann::json::array();
    for (const auto& c : s.clicks) clicks.push_back({{"x", c.x}, {"y", c.y}, {"positive", c.positive}});
    j["clicks"] = clicks;
    j["box"] = s.has_box ? nlohmann::json{{"x", s.box.x}, {"y", s.box.y}, {"w", s.box.w}, {"h", s.box.h}} : nlohmann::json(nullptr);
    s.busy = true;
    annotation_js_action("segment", j.dump());
    a.wake();
}

void segment_accept(App& a, AnnotationUi& ui) {
    ViewerImage* v = a.current_image();
    if (!v || ui.seg.mask.empty() || ui.seg.image != v->name) return;
    es::ImageAnnotations& img = ui.ensure_image(v->name, v->pixels.width, v->pixels.height);
    if (!ui.seg.mask.same_size(es::Mask(img.width, img.height)) || ui.seg.mask.count() == 0) return;
    es::Annotation an = new_annotation(ui, es::AnnotationKind::Mask);
    an.mask = ui.seg.mask;
    an.source = "sam";
    add_annotation(a, ui, img, std::move(an), "Accept segmentation");
    segment_clear(ui);
}

void annotation_tools_frame(App& a, AnnotationUi& ui) {
    // Every open image is in the document (COCO lists them all), annotated or not.
    for (const auto& open : a.images) ui.ensure_image(open->name, open->pixels.width, open->pixels.height);
    ViewerImage* v = a.current_image();
    es::ImageAnnotations* img = v ? ui.image(v->name) : nullptr;
    if (v && ui.seg.image != v->name && (!ui.seg.clicks.empty() || ui.seg.has_box)) segment_clear(ui);
    if (img && ui.selected && !img->find(ui.selected)) ui.selected = 0;
    segment_prepare(a, ui);
    handle_keys(a, ui, img);
    a.left_drag_annotates = ui.tool != Tool::Pan;
    if (!img) return;

    ImGuiIO& io = ImGui::GetIO();
    const float mx = io.MousePos.x, my = io.MousePos.y;
    const double ix = a.view.to_image_x(mx), iy = a.view.to_image_y(my);
    const double tol = 6.0 / a.view.scale;  // handle radius in image pixels
    const bool over = viewer_free(a, mx, my);
    const bool pressed = over && ImGui::IsMouseClicked(0);
    const bool released = ImGui::IsMouseReleased(0);
    const double cx = std::clamp(ix, 0.0, double(img->width)), cy = std::clamp(iy, 0.0, double(img->height));

    switch (ui.tool) {
        case Tool::Pan: break;
        case Tool::Select: {
            if (pressed) {
                ui.dragging = false;
                const es::Annotation* sel = img->find(ui.selected);
                // Handles of the selected annotation first.
                if (sel && sel->kind == es::AnnotationKind::Box) {
                    for (int i = 0; i < 4 && !ui.dragging; ++i) {
                        const es::Point c = box_corner(sel->box, i);
                        if (std::abs(c.x - ix) <= tol && std::abs(c.y - iy) <= tol) {
                            ui.dragging = true, ui.drag_kind = kResizeBox, ui.drag_handle = i;
                            const es::Point o = box_corner(sel->box, (i + 2) % 4);
                            ui.drag_x0 = o.x, ui.drag_y0 = o.y;
                        }
                    }
                }
                if (sel && sel->kind == es::AnnotationKind::Polygon) {
                    for (size_t r = 0; r < sel->polygons.size() && !ui.dragging; ++r)
                        for (size_t k = 0; k < sel->polygons[r].size() && !ui.dragging; ++k) {
                            const es::Point p = sel->polygons[r][k];
                            if (std::hypot(p.x - ix, p.y - iy) <= tol)
                                ui.dragging = true, ui.drag_kind = kVertex, ui.drag_handle = int(r * 100000 + k);
                        }
                }
                if (!ui.dragging) {
                    ui.selected = 0;
                    for (auto it = img->items.rbegin(); it != img->items.rend(); ++it)
                        if (it->visible && hit(*it, ix, iy, tol)) {
                            ui.selected = it->id;
                            ui.dragging = true, ui.drag_kind = kMove;
                            break;
                        }
                }
                if (ui.dragging) {
                    ui.preview = *img->find(ui.selected);
                    ui.preview_active = false;
                    ui.drag_x1 = ix, ui.drag_y1 = iy;
                }
                a.wake();
            } else if (ui.dragging && ImGui::IsMouseDown(0)) {
                const es::Annotation* orig = img->find(ui.selected);
                if (!orig) { ui.dragging = false; break; }
                ui.preview = *orig;
                if (ui.drag_kind == kMove) {
                    if (std::abs(ix - ui.drag_x1) * a.view.scale > 2 || std::abs(iy - ui.drag_y1) * a.view.scale > 2 || ui.preview_active) {
                        es::annotation_translate(ui.preview, ix - ui.drag_x1, iy - ui.drag_y1);
                        ui.preview_active = true;
                    }
                } else if (ui.drag_kind == kResizeBox) {
                    ui.preview.box = es::box_from_corners(ui.drag_x0, ui.drag_y0, cx, cy);
                    ui.preview_active = true;
                } else if (ui.drag_kind == kVertex) {
                    ui.preview.polygons[size_t(ui.drag_handle / 100000)][size_t(ui.drag_handle % 100000)] = {cx, cy};
                    ui.preview_active = true;
                }
            } else if (ui.dragging && released) {
                const es::Annotation* orig = img->find(ui.selected);
                if (orig && ui.preview_active && ui.preview != *orig) {
                    const char* what = ui.drag_kind == kMove ? "Move" : ui.drag_kind == kResizeBox ? "Resize box" : "Move vertex";
                    ui.apply(a, es::AnnotationCommand::modify(img->image, *orig, ui.preview, what));
                }
                ui.dragging = false;
                ui.preview_active = false;
            }
            break;
        }
        case Tool::Box: {
            if (pressed) {
                ui.dragging = true, ui.drag_kind = kDrawBox;
                ui.drag_x0 = ui.drag_x1 = cx, ui.drag_y0 = ui.drag_y1 = cy;
            } else if (ui.dragging && ImGui::IsMouseDown(0)) {
                ui.drag_x1 = cx, ui.drag_y1 = cy;
            } else if (ui.dragging && released) {
                ui.dragging = false;
                es::Annotation an = new_annotation(ui, es::AnnotationKind::Box);
                an.box = es::box_from_corners(ui.drag_x0, ui.drag_y0, cx, cy);
                if (an.box.w * a.view.scale >= 3 && an.box.h * a.view.scale >= 3) add_annotation(a, ui, *img, std::move(an), "Add box");
            }
            break;
        }
        case Tool::Polygon: {
            if (pressed) {
                const bool close_to_first = ui.polygon.size() >= 3 &&
                    std::hypot(ui.polygon[0].x - cx, ui.polygon[0].y - cy) * a.view.scale <= 8;
                if (close_to_first || (ImGui::IsMouseDoubleClicked(0) && ui.polygon.size() >= 3)) finish_polygon(a, ui, *img);
                else ui.polygon.push_back({cx, cy});
                a.wake();
            }
            break;
        }
        case Tool::Point: {
            if (pressed) {
                es::Annotation an = new_annotation(ui, es::AnnotationKind::Point);
                an.point = {cx, cy};
                add_annotation(a, ui, *img, std::move(an), "Add point");
            }
            break;
        }
        case Tool::Brush:
        case Tool::Eraser: {
            const uint8_t value = ui.tool == Tool::Brush ? 1 : 0;
            if (pressed) {
                const es::Annotation* sel = img->find(ui.selected);
                if (sel && sel->kind == es::AnnotationKind::Mask) {
                    ui.preview = *sel;
                    ui.preview_is_new = false;
                } else if (value) {
                    ui.preview = new_annotation(ui, es::AnnotationKind::Mask);
                    ui.preview.mask = es::Mask(img->width, img->height);
                    ui.preview.id = 0;
                    ui.preview_is_new = true;
                } else {
                    a.messages.notice("Select a mask annotation to erase from (Select tool, V).");
                    break;
                }
                ui.dragging = true, ui.drag_kind = kPaint, ui.preview_active = true;
                ui.drag_x1 = ix, ui.drag_y1 = iy;
                es::mask_paint_disc(ui.preview.mask, ix, iy, ui.brush_radius, value);
            } else if (ui.dragging && ImGui::IsMouseDown(0)) {
                es::mask_paint_stroke(ui.preview.mask, ui.drag_x1, ui.drag_y1, ix, iy, ui.brush_radius, value);
                ui.drag_x1 = ix, ui.drag_y1 = iy;
                a.wake();
            } else if (ui.dragging && released) {
                ui.dragging = false;
                ui.preview_active = false;
                if (ui.preview_is_new) {
                    if (ui.preview.mask.count() > 0) add_annotation(a, ui, *img, ui.preview, "Brush");
                } else if (const es::Annotation* orig = img->find(ui.preview.id)) {
                    if (ui.preview.mask != orig->mask)
                        ui.apply(a, es::AnnotationCommand::modify(img->image, *orig, ui.preview, value ? "Brush" : "Erase"));
                }
            }
            break;
        }
        case Tool::Segment: {
            if (pressed) {
                ui.dragging = true, ui.drag_kind = kSegmentBox;
                ui.drag_x0 = ui.drag_x1 = cx, ui.drag_y0 = ui.drag_y1 = cy;
            } else if (ui.dragging && ImGui::IsMouseDown(0)) {
                ui.drag_x1 = cx, ui.drag_y1 = cy;
            } else if (ui.dragging && released) {
                ui.dragging = false;
                if (ui.seg.image != v->name) segment_clear(ui);
                const bool is_box = std::abs(ui.drag_x1 - ui.drag_x0) * a.view.scale > 5 && std::abs(ui.drag_y1 - ui.drag_y0) * a.view.scale > 5;
                if (is_box) {
                    ui.seg.has_box = true;
                    ui.seg.box = es::box_from_corners(ui.drag_x0, ui.drag_y0, ui.drag_x1, ui.drag_y1);
                } else {
                    ui.seg.clicks.push_back({ui.drag_x0, ui.drag_y0, !io.KeyAlt});
                }
                segment_request(a, ui);
            }
            if (over && ImGui::IsMouseClicked(1) && cx == ix && cy == iy) {  // right click: negative
                if (ui.seg.image != v->name) segment_clear(ui);
                ui.seg.clicks.push_back({ix, iy, false});
                segment_request(a, ui);
            }
            break;
        }
    }
    if (ui.dragging || !ui.polygon.empty()) a.wake();
}

void draw_mask_overlay(App& a, const std::string& key, const es::Mask& m, uint32_t color, float alpha) {
    AnnotationUi& ui = annotation_ui();
    const Rect& r = a.viewer_rect;
    ImDrawList* dl = ImGui::GetBackgroundDrawList();
    dl->PushClipRect(ImVec2(r.x, r.y), ImVec2(r.x + r.w, r.y + r.h), true);
    draw_mask(a, ui, dl, key, m, color, alpha);
    dl->PopClipRect();
}

// Textures not used since the last call are released here; the marks are
// cleared after that (not before drawing), so masks drawn later in the frame
// by other panels (draw_mask_overlay) are kept too.
void draw_annotation_overlays(App& a, AnnotationUi& ui) {
    ViewerImage* v = a.current_image();
    es::ImageAnnotations* img = v ? ui.image(v->name) : nullptr;
    if (img) {
        ImDrawList* dl = ImGui::GetBackgroundDrawList();
        const Rect& r = a.viewer_rect;
        dl->PushClipRect(ImVec2(r.x, r.y), ImVec2(r.x + r.w, r.y + r.h), true);
        for (const es::Annotation& an : img->items) {
            if (!an.visible) continue;
            const bool editing = (ui.preview_active && ui.preview.id == an.id);
            const std::string key = img->image + "|" + std::to_string(an.id);
            draw_annotation(a, ui, dl, *img, editing ? ui.preview : an, an.id == ui.selected, key);
        }
        if (ui.preview_active && ui.preview_is_new) draw_annotation(a, ui, dl, *img, ui.preview, true, "new");
        const ImGuiIO& io = ImGui::GetIO();
        const uint32_t draw_color = ui.label_color(ui.label);
        if (ui.dragging && (ui.drag_kind == kDrawBox || ui.drag_kind == kSegmentBox))
            dl->AddRect(to_screen(a, ui.drag_x0, ui.drag_y0), to_screen(a, ui.drag_x1, ui.drag_y1),
                        ui.drag_kind == kSegmentBox ? 0xFFFFFF00u : draw_color, 0, 0, 2.0f);
        if (!ui.polygon.empty()) {
            std::vector<ImVec2> pts;
            for (const auto& p : ui.polygon) pts.push_back(to_screen(a, p.x, p.y));
            pts.push_back(io.MousePos);
            dl->AddPolyline(pts.data(), int(pts.size()), draw_color, 0, 2.0f);
            for (size_t i = 0; i + 1 < pts.size(); ++i) dl->AddCircleFilled(pts[i], i == 0 ? 5.0f : 3.5f, 0xFFFFFFFFu);
        }
        if ((ui.tool == Tool::Brush || ui.tool == Tool::Eraser) && viewer_free(a, io.MousePos.x, io.MousePos.y))
            dl->AddCircle(io.MousePos, float(ui.brush_radius * a.view.scale), 0xFFFFFFFFu, 48, 1.5f);
        // Segmentation in progress: the proposed mask, its clicks and box.
        if (ui.seg.image == v->name) {
            if (!ui.seg.mask.empty()) draw_mask(a, ui, dl, "seg", ui.seg.mask, 0xFFFFE000u, 0.5f);
            if (ui.seg.has_box)
                dl->AddRect(to_screen(a, ui.seg.box.x, ui.seg.box.y), to_screen(a, ui.seg.box.x + ui.seg.box.w, ui.seg.box.y + ui.seg.box.h),
                            0xFFFFFF00u, 0, 0, 2.0f);
            for (const auto& c : ui.seg.clicks) {
                const ImVec2 s = to_screen(a, c.x, c.y);
                dl->AddCircleFilled(s, 6.0f, c.positive ? 0xFF40D040u : 0xFF4040E0u);
                dl->AddCircle(s, 6.0f, 0xFFFFFFFFu, 0, 1.5f);
            }
        }
        // Encoder progress by the cursor (over the panels too): where the user
        // is looking when a click waits.
        if (ui.tool == Tool::Segment && ui.seg.progress >= 0 && viewer_free(a, io.MousePos.x, io.MousePos.y)) {
            ImDrawList* dl = ImGui::GetForegroundDrawList();
            const ImVec2 p(io.MousePos.x + 16, io.MousePos.y + 14);
            const char* text = ui.seg.status.c_str();
            const ImVec2 ts = ImGui::CalcTextSize(text);
            const float w = std::max(ts.x, 120.0f) + 12;
            dl->AddRectFilled(p, ImVec2(p.x + w, p.y + ts.y + 14), 0xD0202020u, 4.0f);
            dl->AddText(ImVec2(p.x + 6, p.y + 3), 0xFFFFFFFFu, text);
            dl->AddRectFilled(ImVec2(p.x + 6, p.y + ts.y + 6), ImVec2(p.x + 6 + (w - 12) * std::min(1.0f, ui.seg.progress), p.y + ts.y + 10),
                              0xFF40C0FFu);
        }
        dl->PopClipRect();
    }
    for (auto it = ui.textures.begin(); it != ui.textures.end();) {
        if (it->second.used) { it->second.used = false; ++it; continue; }
        destroy_gpu_texture(it->second.texture);
        it = ui.textures.erase(it);
    }
}

void draw_annotations(App& a) {
    AnnotationUi& ui = annotation_ui();
    annotation_tools_frame(a, ui);
    draw_annotation_overlays(a, ui);
}

}  // namespace esui
