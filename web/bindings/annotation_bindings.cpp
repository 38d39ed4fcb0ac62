// annotation_bindings.cpp: the annotation document of the open case for JS:
// per-image annotation lists changed only through undoable commands, COCO
// import/export, label sets. One document per module instance (the app has one
// case open); strings returned stay valid until the next call returning one.
#include <emscripten/emscripten.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "annotation/annotation_history.h"
#include "annotation/coco.h"
#include "mask/connected_components.h"
#include "mask/contour.h"
#include "annotation/label_set.h"
#include "mask/rle.h"

es::Mask* es_binding_mask(int h);  // segmentation_bindings.cpp

namespace {

std::vector<es::ImageAnnotations> g_images;
es::AnnotationHistory g_history;
std::vector<es::LabelSet> g_label_sets;
std::string g_error, g_text;

const char* text(std::string s) {
    g_text = std::move(s);
    return g_text.c_str();
}

es::ImageAnnotations* image(const char* key) {
    for (auto& i : g_images)
        if (key && i.image == key) return &i;
    g_error = std::string("no image '") + (key ? key : "") + "'";
    return nullptr;
}

uint64_t add(const char* key, es::Annotation a, const char* what) {
    es::ImageAnnotations* img = image(key);
    if (!img) return 0;
    a.id = img->next_id;
    if (!es::validate_annotation(a, img->width, img->height, &g_error)) return 0;
    uint64_t id = a.id;
    if (!g_history.apply(g_images, es::AnnotationCommand::add(img->image, std::move(a), what), &g_error)) return 0;
    return id;
}

// Applies f to a copy of the annotation and records before/after as one step.
template <class F>
int modify(const char* key, double id, const char* what, F f) {
    es::ImageAnnotations* img = image(key);
    if (!img) return 0;
    const es::Annotation* a = img->find(uint64_t(id));
    if (!a) {
        g_error = "no annotation " + std::to_string(uint64_t(id));
        return 0;
    }
    es::Annotation after = *a;
    if (!f(after)) return 0;
    if (!es::validate_annotation(after, img->width, img->height, &g_error)) return 0;
    return g_history.apply(g_images, es::AnnotationCommand::modify(img->image, *a, std::move(after), what), &g_error) ? 1 : 0;
}

nlohmann::json to_json(const es::Annotation& a) {
    nlohmann::json j;
    j["id"] = a.id;
    j["label"] = a.label;
    j["kind"] = es::annotation_kind_name(a.kind);
    es::Box b = es::annotation_bounds(a);
    j["bounds"] = {b.x, b.y, b.w, b.h};
    j["area"] = es::annotation_area(a);
    j["visible"] = a.visible;
    j["opacity"] = a.opacity;
    j["source"] = a.source;
    if (a.kind == es::AnnotationKind::Point) j["point"] = {a.point.x, a.point.y};
    if (a.kind == es::AnnotationKind::Polygon) {
        j["polygons"] = nlohmann::json::array();
        for (const es::Polygon& p : a.polygons) {
            nlohmann::json r = nlohmann::json::array();
            for (const es::Point& q : p) r.push_back(q.x), r.push_back(q.y);
            j["polygons"].push_back(r);
        }
    }
    if (a.kind == es::AnnotationKind::Mask) j["rle"] = es::rle_to_string(es::rle_encode(a.mask));
    return j;
}

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE const char* es_ann_last_error() { return g_error.c_str(); }

EMSCRIPTEN_KEEPALIVE void es_ann_reset() {
    g_images.clear();
    g_history.clear();
}

EMSCRIPTEN_KEEPALIVE int es_ann_add_image(const char* key, int w, int h) {
    if (!key || !*key || w <= 0 || h <= 0) {
        g_error = "an image needs a name and a positive size";
        return 0;
    }
    for (auto& i : g_images)
        if (i.image == key) {
            g_error = std::string("image '") + key + "' is already in the case";
            return 0;
        }
    es::ImageAnnotations img;
    img.image = key;
    img.width = w;
    img.height = h;
    g_images.push_back(std::move(img));
    return 1;
}

EMSCRIPTEN_KEEPALIVE double es_ann_add_box(const char* key, const char* label, double x, double y, double w, double h) {
    es::Annotation a;
    a.label = label ? label : "";
    a.kind = es::AnnotationKind::Box;
    a.box = es::box_from_corners(x, y, x + w, y + h);
    return double(add(key, std::move(a), "Add box"));
}

// xy: n points as x0, y0, x1, y1, ...
EMSCRIPTEN_KEEPALIVE double es_ann_add_polygon(const char* key, const char* label, const float* xy, int n) {
    es::Annotation a;
    a.label = label ? label : "";
    a.kind = es::AnnotationKind::Polygon;
    es::Polygon p;
    for (int i = 0; i < n; ++i) p.push_back({xy[2 * i], xy[2 * i + 1]});
    a.polygons.push_back(std::move(p));
    return double(add(key, std::move(a), "Add polygon"));
}

EMSCRIPTEN_KEEPALIVE double es_ann_add_point(const char* key, const char* label, double x, double y) {
    es::Annotation a;
    a.label = label ? label : "";
    a.kind = es::AnnotationKind::Point;
    a.point = {x, y};
    return double(add(key, std::move(a), "Add point"));
}

// A mask handle (segmentation bindings) becomes a mask annotation (copied).
EMSCRIPTEN_KEEPALIVE double es_ann_add_mask(const char* key, const char* label, int mask, const char* source) {
    es::Mask* m = es_binding_mask(mask);
    if (!m) return 0;
    es::Annotation a;
    a.label = label ? label : "";
    a.kind = es::AnnotationKind::Mask;
    a.mask = *m;
    a.source = source && *source ? source : "manual";
    return double(add(key, std::move(a), a.source == "sam" ? "Accept segmentation" : "Add mask"));
}

EMSCRIPTEN_KEEPALIVE int es_ann_remove(const char* key, double id) {
    es::ImageAnnotations* img = image(key);
    if (!img) return 0;
    const es::Annotation* a = img->find(uint64_t(id));
    if (!a) {
        g_error = "no annotation " + std::to_string(uint64_t(id));
        return 0;
    }
    return g_history.apply(g_images, es::AnnotationCommand::remove(img->image, *a, "Delete"), &g_error) ? 1 : 0;
}

EMSCRIPTEN_KEEPALIVE int es_ann_move(const char* key, double id, double dx, double dy) {
    return modify(key, id, "Move", [&](es::Annotation& a) { es::annotation_translate(a, dx, dy); return true; });
}

EMSCRIPTEN_KEEPALIVE int es_ann_set_box(const char* key, double id, double x, double y, double w, double h) {
    return modify(key, id, "Resize", [&](es::Annotation& a) {
        if (a.kind != es::AnnotationKind::Box) {
            g_error = "only boxes are resized this way";
            return false;
        }
        a.box = es::box_from_corners(x, y, x + w, y + h);
        return true;
    });
}

// Replaces one vertex of ring `ring` (polygon vertex drag).
EMSCRIPTEN_KEEPALIVE int es_ann_set_vertex(const char* key, double id, int ring, int index, double x, double y) {
    return modify(key, id, "Move vertex", [&](es::Annotation& a) {
        if (a.kind != es::AnnotationKind::Polygon || ring < 0 || ring >= int(a.polygons.size()) || index < 0 ||
            index >= int(a.polygons[size_t(ring)].size())) {
            g_error = "no such polygon vertex";
            return false;
        }
        a.polygons[size_t(ring)][size_t(index)] = {x, y};
        return true;
    });
}

EMSCRIPTEN_KEEPALIVE int es_ann_set_label(const char* key, double id, const char* label) {
    return modify(key, id, "Relabel", [&](es::Annotation& a) { a.label = label ? label : ""; return true; });
}
EMSCRIPTEN_KEEPALIVE int es_ann_set_visible(const char* key, double id, int visible) {
    return modify(key, id, visible ? "Show" : "Hide", [&](es::Annotation& a) { a.visible = visible != 0; return true; });
}
EMSCRIPTEN_KEEPALIVE int es_ann_set_opacity(const char* key, double id, double opacity) {
    return modify(key, id, "Opacity", [&](es::Annotation& a) { a.opacity = float(opacity); return true; });
}

// Brush (value 1) or eraser (value 0) stroke segment on a mask annotation.
// The UI sends a whole stroke as one call per pointer move batch; each call is
// one undo step, so a stroke in progress is all that a crash can lose.
EMSCRIPTEN_KEEPALIVE int es_ann_paint(const char* key, double id, const float* xy, int n, double radius, int value) {
    return modify(key, id, value ? "Brush" : "Erase", [&](es::Annotation& a) {
        if (a.kind != es::AnnotationKind::Mask) {
            g_error = "brush and eraser work on masks";
            return false;
        }
        for (int i = 0; i < n; ++i) {
            int j = i + 1 < n ? i + 1 : i;
            es::mask_paint_stroke(a.mask, xy[2 * i], xy[2 * i + 1], xy[2 * j], xy[2 * j + 1], radius, uint8_t(value != 0));
        }
        return true;
    });
}

// Mask annotation → polygon annotation (outer contours, Douglas–Peucker).
EMSCRIPTEN_KEEPALIVE int es_ann_mask_to_polygon(const char* key, double id, double epsilon) {
    return modify(key, id, "Convert to polygon", [&](es::Annotation& a) {
        if (a.kind != es::AnnotationKind::Mask) {
            g_error = "only masks convert to polygons";
            return false;
        }
        es::PolygonsFromMask p = es::mask_to_polygons(a.mask, epsilon, 4);
        if (p.polygons.empty()) {
            g_error = "the mask is empty";
            return false;
        }
        a.kind = es::AnnotationKind::Polygon;
        a.polygons = std::move(p.polygons);
        a.mask = es::Mask();
        return true;
    });
}

// Lesions on an image: 8-connected regions of the union of its mask and
// polygon annotations (optionally only those with `label`), at least min_area px.
EMSCRIPTEN_KEEPALIVE int es_ann_lesion_count(const char* key, const char* label, int min_area) {
    es::ImageAnnotations* img = image(key);
    if (!img) return -1;
    es::Mask all(img->width, img->height);
    for (const es::Annotation& a : img->items) {
        if (label && *label && a.label != label) continue;
        if (a.kind == es::AnnotationKind::Mask) all = es::mask_or(all, a.mask);
        if (a.kind == es::AnnotationKind::Polygon)
            all = es::mask_or(all, es::rasterize_polygons(a.polygons, img->width, img->height));
    }
    return es::count_regions(all, size_t(std::max(1, min_area)));
}

EMSCRIPTEN_KEEPALIVE int es_ann_undo() { return g_history.undo(g_images, &g_error) ? 1 : 0; }
EMSCRIPTEN_KEEPALIVE int es_ann_redo() { return g_history.redo(g_images, &g_error) ? 1 : 0; }
EMSCRIPTEN_KEEPALIVE int es_ann_can_undo() { return g_history.can_undo(); }
EMSCRIPTEN_KEEPALIVE int es_ann_can_redo() { return g_history.can_redo(); }
EMSCRIPTEN_KEEPALIVE const char* es_ann_undo_description() { return g_history.undo_description().c_str(); }
EMSCRIPTEN_KEEPALIVE const char* es_ann_redo_description() { return g_history.redo_description().c_str(); }

// [{id, label, kind, bounds, area, visible, opacity, source, point|polygons|rle}]
EMSCRIPTEN_KEEPALIVE const char* es_ann_list_json(const char* key) {
    es::ImageAnnotations* img = image(key);
    if (!img) return nullptr;
    nlohmann::json list = nlohmann::json::array();
    for (const es::Annotation& a : img->items) list.push_back(to_json(a));
    return text(list.dump());
}

EMSCRIPTEN_KEEPALIVE const char* es_ann_export_coco(int compressed_rle) {
    es::CocoExportOptions o;
    o.compressed_rle = compressed_rle != 0;
    return text(es::export_coco(g_images, {}, o));
}

// Replaces the document with the file's content; on any error nothing changes.
EMSCRIPTEN_KEEPALIVE int es_ann_import_coco(const char* json) {
    es::CocoImport r = es::import_coco(json ? json : "");
    if (!r.ok) {
        g_error = r.error;
        return 0;
    }
    g_images = std::move(r.images);
    g_history.clear();
    return 1;
}

// ---- label sets ---------------------------------------------------------------

// Loads (or replaces, by id) a label set; returns 1, or 0 with the reason.
EMSCRIPTEN_KEEPALIVE int es_labels_load(const char* json) {
    es::LabelSetLoad r = es::parse_label_set(json ? json : "");
    if (!r.ok) {
        g_error = r.error;
        return 0;
    }
    for (auto& s : g_label_sets)
        if (s.id == r.set.id) {
            s = std::move(r.set);
            return 1;
        }
    g_label_sets.push_back(std::move(r.set));
    return 1;
}
EMSCRIPTEN_KEEPALIVE int es_labels_count() { return int(g_label_sets.size()); }
EMSCRIPTEN_KEEPALIVE const char* es_labels_json(int index) {
    if (index < 0 || index >= int(g_label_sets.size())) return nullptr;
    return text(es::label_set_to_json(g_label_sets[size_t(index)]));
}
EMSCRIPTEN_KEEPALIVE int es_labels_create_user_set(const char* id, const char* name) {
    es::LabelSet s = es::make_user_label_set(id ? id : "", name ? name : "");
    for (auto& o : g_label_sets)
        if (o.id == s.id) {
            g_error = "a label set '" + s.id + "' exists";
            return 0;
        }
    g_label_sets.push_back(std::move(s));  // validated once it has a label
    return 1;
}
EMSCRIPTEN_KEEPALIVE int es_labels_add_user_label(const char* set_id, const char* id, const char* name, const char* parent,
                                                   const char* color) {
    for (auto& s : g_label_sets) {
        if (!set_id || s.id != set_id) continue;
        es::LabelDef l;
        l.id = id ? id : "";
        l.name = name ? name : "";
        l.parent = parent ? parent : "";
        l.color = color ? color : "";
        return es::add_user_label(s, std::move(l), &g_error) ? 1 : 0;
    }
    g_error = std::string("no label set '") + (set_id ? set_id : "") + "'";
    return 0;
}

}  // extern "C"
