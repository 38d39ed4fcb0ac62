// annotation_exports.cpp: what web/annotation/app_annotation.js calls: the
// saved document, COCO, mask PNGs, label sets, segmentation results and
// status, storage status, and a read-only state for tests.
#include <emscripten/emscripten.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>

#include "annotation_ui.h"
#include "app.h"
#include "annotation/coco.h"
#include "image/png_encode.h"
#include "mask/rle.h"

es::Mask* es_binding_mask(int h);  // web/bindings/segmentation_bindings.cpp

namespace esui {
extern std::string g_storage_status;
extern bool g_storage_error;
}

using esui::annotation_ui;
using esui::app;

namespace {
std::string g_out;
std::vector<uint8_t> g_bytes;
const char* out(std::string s) {
    g_out = std::move(s);
    return g_out.c_str();
}
}  // namespace

extern "C" {

// The whole annotation document (annotation_ui.h, AnnotationUi::document_json).
EMSCRIPTEN_KEEPALIVE const char* es_annotation_document() { return out(annotation_ui().document_json(app())); }

// Restores a saved document; 1, or 0 with es_annotation_last_error() (nothing changes).
EMSCRIPTEN_KEEPALIVE int es_annotation_load_document(const char* json) {
    std::string error;
    esui::AnnotationUi& ui = annotation_ui();
    ui.restoring = true;
    const bool ok = ui.load_document(app(), json ? json : "", &error);
    ui.restoring = false;
    ui.parts_cache.clear();
    if (!ok) ui.last_error = error;
    return ok ? 1 : 0;
}

// The undo history's saved form (es::AnnotationHistory::to_json): saved with
// the document it belongs to.
EMSCRIPTEN_KEEPALIVE const char* es_annotation_history() { return out(annotation_ui().history.to_json()); }

// Restores it after es_annotation_load_document; 1, or 0 with es_annotation_last_error()
// (the history then stays empty: the annotations are unaffected).
EMSCRIPTEN_KEEPALIVE int es_annotation_load_history(const char* json) {
    std::string error;
    esui::AnnotationUi& ui = annotation_ui();
    if (ui.history.from_json(json ? json : "", &error)) {
        app().wake();
        return 1;
    }
    ui.last_error = error;
    return 0;
}

// Checks a document without loading it (bundle import).
EMSCRIPTEN_KEEPALIVE int es_annotation_check_document(const char* json) {
    nlohmann::json j = nlohmann::json::parse(json ? json : "", nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("format", "") != "endoscribe-annotations" || !j.contains("coco")) {
        annotation_ui().last_error = "not an EndoScribe annotation document";
        return 0;
    }
    es::CocoImport r = es::import_coco(j["coco"].dump());
    if (!r.ok) annotation_ui().last_error = r.error;
    return r.ok ? 1 : 0;
}

EMSCRIPTEN_KEEPALIVE const char* es_annotation_last_error() { return annotation_ui().last_error.c_str(); }

EMSCRIPTEN_KEEPALIVE const char* es_annotation_export_coco() { return out(annotation_ui().export_coco()); }

// COCO import (undoable); errors are shown and nothing changes.
EMSCRIPTEN_KEEPALIVE int es_annotation_import_coco(const char* json, const char* file_name) {
    std::string error;
    if (annotation_ui().import_coco(app(), json ? json : "", &error)) return 1;
    annotation_ui().last_error = error;
    app().messages.error(std::string("\"") + (file_name ? file_name : "COCO file") +
                             "\" could not be imported: it is not a valid COCO annotation file for these images. "
                             "Nothing was changed.",
                         error);
    app().wake();
    return 0;
}

// Lesion mask PNG (0/255 grey) of image `index` in the document; returns a
// pointer to the bytes (size via es_annotation_bytes_size) or null when it has none.
EMSCRIPTEN_KEEPALIVE int es_annotation_image_count() { return int(annotation_ui().images.size()); }
EMSCRIPTEN_KEEPALIVE const char* es_annotation_image_name(int index) {
    auto& imgs = annotation_ui().images;
    return index >= 0 && index < int(imgs.size()) ? out(imgs[size_t(index)].image) : nullptr;
}
EMSCRIPTEN_KEEPALIVE const uint8_t* es_annotation_mask_png(int index) {
    auto& ui = annotation_ui();
    if (index < 0 || index >= int(ui.images.size())) return nullptr;
    const es::ImageAnnotations& img = ui.images[size_t(index)];
    es::Mask m = ui.lesion_mask(img);
    if (m.empty() || m.count() == 0) return nullptr;
    std::vector<uint8_t> gray = es::mask_to_gray(m);
    g_bytes = es::encode_png_gray(gray.data(), m.width, m.height);
    return g_bytes.data();
}
EMSCRIPTEN_KEEPALIVE int es_annotation_bytes_size() { return int(g_bytes.size()); }

EMSCRIPTEN_KEEPALIVE int es_annotation_load_label_set(const char* json, const char* file) {
    es::LabelSetLoad r = es::parse_label_set(json ? json : "");
    if (!r.ok) {
        app().messages.error(std::string("The label set \"") + (file ? file : "") +
                                 "\" could not be loaded: it is not a valid label set file. The other label sets are "
                                 "unaffected.",
                             r.error);
        return 0;
    }
    auto& sets = annotation_ui().label_sets;
    for (auto& s : sets)
        if (s.id == r.set.id) {
            s = std::move(r.set);
            return 1;
        }
    // Shipped sets before the user's own.
    auto it = sets.begin();
    while (it != sets.end() && !it->user) ++it;
    sets.insert(it, std::move(r.set));
    // Show the set of the current label at first.
    for (size_t i = 0; i < sets.size(); ++i)
        if (sets[i].find_label(annotation_ui().label)) {
            annotation_ui().label_set = int(i);
            break;
        }
    app().wake();
    return 1;
}

// Segmentation job answers. A result for an old request is dropped.
EMSCRIPTEN_KEEPALIVE void es_annotation_segmentation_result(int request, int mask_handle, double iou, double ms) {
    esui::SegmentSession& s = annotation_ui().seg;
    if (request > s.answered && request <= s.request) {
        s.answered = request;
        if (es::Mask* m = es_binding_mask(mask_handle)) {
            s.raw_mask = *m;
            s.apply_cleanup();
        }
        s.iou = iou;
        s.ms = ms;
        s.busy = request != s.request;
        s.error = false;
        s.progress = -1;
        char buf[96];
        std::snprintf(buf, sizeof buf, "Mask ready (%s)", s.backend.c_str());
        s.status = buf;
    }
    app().wake();
}

EMSCRIPTEN_KEEPALIVE void es_annotation_segmentation_status(const char* text, double progress, int error, const char* backend,
                                              double encode_ms) {
    esui::SegmentSession& s = annotation_ui().seg;
    s.status = text ? text : "";
    s.progress = float(progress);
    s.error = error != 0;
    if (error) s.busy = false;
    if (backend && *backend) s.backend = backend;
    if (encode_ms > 0) s.encode_ms = encode_ms;
    if (error) app().messages.error("Segmentation did not work on this image. Your annotations are unaffected; draw the outline by hand or try again.", s.status);
    app().wake();
}

// Segment settings saved by the JS side: {"cleanup": bool, "min_area_fraction":
// number, "min_area_px": int, "background": bool}; missing fields keep their value.
EMSCRIPTEN_KEEPALIVE void es_annotation_segmentation_settings(const char* json) {
    esui::SegmentSession& s = annotation_ui().seg;
    nlohmann::json j = nlohmann::json::parse(json ? json : "", nullptr, false);
    if (!j.is_object()) return;
    if (j.contains("cleanup") && j["cleanup"].is_boolean()) s.cleanup.enabled = j["cleanup"].get<bool>();
    if (j.contains("min_area_fraction") && j["min_area_fraction"].is_number())
        s.cleanup.min_area_fraction = std::clamp(j["min_area_fraction"].get<double>(), 0.0, 0.05);
    if (j.contains("min_area_px") && j["min_area_px"].is_number_integer())
        s.cleanup.min_area_px = std::max(0, j["min_area_px"].get<int>());
    if (j.contains("background") && j["background"].is_boolean()) s.background = j["background"].get<bool>();
    s.apply_cleanup();
    app().wake();
}

// error: 0 none, 1 a technical reason (banner in plain words, the reason as
// details), 2 already in plain words (the banner says it as it is).
EMSCRIPTEN_KEEPALIVE void es_annotation_set_storage_status(const char* text, int error) {
    esui::g_storage_status = text ? text : "";
    esui::g_storage_error = error != 0;
    if (error == 2)
        app().messages.error(esui::g_storage_status);
    else if (error)
        app().messages.error("Your work could not be saved in this browser. Keep this page open and export the case "
                             "(Case menu > Export bundle) so nothing is lost.",
                             esui::g_storage_status);
    app().wake();
}

// Read-only state for tests: tool, label, selection, undo/redo, the current
// image's annotations and lesion count, segmentation.
EMSCRIPTEN_KEEPALIVE const char* es_annotation_state() {
    esui::AnnotationUi& ui = annotation_ui();
    nlohmann::json j;
    for (const auto& t : esui::tool_infos())
        if (t.tool == ui.tool) j["tool"] = t.name;
    j["label"] = ui.label;
    j["selected"] = ui.selected;
    j["can_undo"] = ui.history.can_undo();
    j["can_redo"] = ui.history.can_redo();
    j["undo"] = ui.history.can_undo() ? ui.history.undo_description() : "";
    j["redo"] = ui.history.can_redo() ? ui.history.redo_description() : "";
    j["saves_requested"] = ui.saves_requested;
    j["label_sets"] = nlohmann::json::array();
    for (const auto& s : ui.label_sets) j["label_sets"].push_back(s.id);
    auto images = nlohmann::json::object();
    for (const auto& img : ui.images) {
        auto list = nlohmann::json::array();
        for (const auto& an : img.items) {
            nlohmann::json e;
            e["id"] = an.id;
            e["label"] = an.label;
            e["kind"] = es::annotation_kind_name(an.kind);
            const es::Box b = es::annotation_bounds(an);
            e["bounds"] = {b.x, b.y, b.w, b.h};
            e["area"] = es::annotation_area(an);
            e["visible"] = an.visible;
            e["opacity"] = an.opacity;
            e["source"] = an.source;
            if (an.kind == es::AnnotationKind::Polygon) e["points"] = an.polygons.empty() ? 0 : int(an.polygons[0].size());
            if (an.kind == es::AnnotationKind::Mask) e["rle"] = es::rle_to_string(es::rle_encode(an.mask));
            list.push_back(e);
        }
        auto parts = nlohmann::json::array();
        for (const auto& an : img.items) parts.push_back(ui.annotation_parts(img, an));
        images[img.image] = {{"annotations", list}, {"lesions", ui.lesion_count(img)}, {"parts", parts}};
    }
    j["images"] = images;
    const esui::SegmentSession& s = ui.seg;
    j["segment"] = {{"image", s.image}, {"clicks", int(s.clicks.size())}, {"has_mask", !s.mask.empty()},
                    {"rle", s.mask.empty() ? "" : es::rle_to_string(es::rle_encode(s.mask))},
                    {"iou", s.iou}, {"ms", s.ms}, {"busy", s.busy}, {"status", s.status}, {"error", s.error},
                    {"backend", s.backend}, {"encode_ms", s.encode_ms}, {"request", s.request}, {"answered", s.answered},
                    {"progress", s.progress}, {"parts", s.parts}, {"islands_removed", s.islands_removed},
                    {"holes_filled", s.holes_filled}, {"raw_rle", s.raw_mask.empty() ? "" : es::rle_to_string(es::rle_encode(s.raw_mask))},
                    {"cleanup", {{"enabled", s.cleanup.enabled}, {"min_area_fraction", s.cleanup.min_area_fraction},
                                 {"min_area_px", s.cleanup.min_area_px}}},
                    {"background", s.background}, {"prepared_for", s.prepared_for}};
    j["storage"] = {{"status", esui::g_storage_status}, {"error", esui::g_storage_error}};
    j["last_error"] = ui.last_error;
    return out(j.dump());
}

// Testing aid and automation: choose a tool by name ("Box", "Segment", ...).
EMSCRIPTEN_KEEPALIVE int es_annotation_set_tool(const char* name) {
    for (const auto& t : esui::tool_infos())
        if (name && std::string(name) == t.name) {
            annotation_ui().tool = t.tool;
            app().wake();
            return 1;
        }
    return 0;
}

}  // extern "C"
