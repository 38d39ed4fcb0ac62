// annotation_ui.h: the annotation layer of the viewer (issue 6). The case's
// annotations (es::ImageAnnotations per open image, keyed by image name) are
// changed only through es::AnnotationHistory commands, so every action can be
// undone and redone; after each change the JS side (web/annotation/
// app_annotation.js) is told and stores the document in IndexedDB.
//
// Files: annotation_state.cpp (document, labels, persistence form, COCO),
// annotation_tools.cpp (viewer tools and overlays), panel_annotations.cpp (the
// annotation part of the side panel's Image tab), panel_tools.cpp (the tool
// strip), annotation_exports.cpp (extern "C" for JS).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "annotation/annotation_history.h"
#include "annotation/label_set.h"
#include "mask/mask.h"
#include "mask/mask_cleanup.h"

namespace esui {

class App;
struct GpuTexture;

enum class Tool { Pan, Select, Box, Polygon, Point, Brush, Eraser, Segment };

struct ToolInfo {
    Tool tool;
    const char* name;
    const char* key_name;  // shown in tooltips
    int key;               // DOM keyCode
    const char* help;
};
const std::vector<ToolInfo>& tool_infos();

// A mask shown as an overlay texture; remade when the mask or colour changes.
struct MaskTexture {
    GpuTexture* texture = nullptr;
    es::Mask mask;
    uint32_t color = 0;
    bool used = false;
};

// Promptable segmentation in progress on the current image (the JS job does
// the model work; results come back through es_annotation_segmentation_*).
struct SegmentSession {
    std::string image;
    struct Click { double x, y; bool positive; };
    std::vector<Click> clicks;
    bool has_box = false;
    es::Box box;
    es::Mask mask;          // latest result at image size (empty: none yet)
    double iou = 0, ms = 0;  // predicted IoU and click-to-mask time of the latest result
    int request = 0;         // id of the newest request sent
    int answered = 0;        // id of the newest request answered
    std::string status;      // "Loading model 40%", "Encoding image...", error text
    float progress = -1;     // 0..1 while loading/encoding, else -1
    bool busy = false;
    bool error = false;
    std::string backend;     // "webgpu" / "wasm" once loaded
    double encode_ms = 0;
    // SAM's own post-processing of every result (settings, saved in the browser).
    es::MaskCleanupOptions cleanup;
    es::Mask raw_mask;       // the model's mask before cleanup, so a new threshold applies at once
    int holes_filled = 0, islands_removed = 0;
    int parts = 0;           // separate parts of the cleaned mask
    // Background encoding: the image the JS job was last asked to prepare, and
    // whether images are prepared when opened (on once the Segment tool is used).
    std::string prepared_for;
    bool background = false;
    void apply_cleanup();    // mask = cleaned raw_mask
    size_t parts_min_area(int width, int height) const;
};

struct AnnotationUi {
    std::vector<es::ImageAnnotations> images;
    es::AnnotationHistory history;
    std::vector<es::LabelSet> label_sets;  // shipped sets, then the user's own
    int label_set = 0;                     // index shown in the label picker
    std::string label = "polyps";          // label for new annotations
    float default_opacity = 0.45f;
    Tool tool = Tool::Pan;
    uint64_t selected = 0;  // annotation id on the current image, 0 = none
    float brush_radius = 12.0f;  // image pixels

    // Gesture state (one at a time).
    bool dragging = false;
    int drag_kind = 0;  // 1 draw box, 2 move, 3 resize corner, 4 vertex, 5 brush, 6 segment box
    int drag_handle = -1;
    double drag_x0 = 0, drag_y0 = 0, drag_x1 = 0, drag_y1 = 0;
    std::vector<es::Point> polygon;  // polygon being drawn
    es::Annotation preview;          // the edited copy while moving/resizing/painting
    bool preview_active = false;
    bool preview_is_new = false;  // brush stroke that creates a new mask annotation

    SegmentSession seg;
    std::map<std::string, MaskTexture> textures;  // key: image|id, or "seg"
    bool restoring = false;   // loading a saved document: no save callbacks
    int saves_requested = 0;
    std::string last_error;   // last failed action, for the automation hook

    es::ImageAnnotations* image(const std::string& key);
    es::ImageAnnotations& ensure_image(const std::string& key, int w, int h);
    // Applies and records a command; on failure shows the reason. Tells JS to save.
    bool apply(App& a, es::AnnotationCommand cmd);
    bool undo(App& a);
    bool redo(App& a);
    void changed(App& a);  // notifies JS (store the document)

    const es::LabelDef* find_label(const std::string& id) const;
    std::string label_name(const std::string& id) const;
    uint32_t label_color(const std::string& id) const;  // ImGui ABGR, opaque
    es::LabelSet& user_set();

    // Persistent form: {"format":"endoscribe-annotations","version":1,
    //   "case": case.json object | null, "coco": COCO export (lossless),
    //   "user_label_sets": [label set], "label": current label}
    std::string document_json(const App& a) const;
    bool load_document(App& a, const std::string& json, std::string* error);
    // COCO import: the file's images replace the annotations of the images of
    // the same name (one undoable step); all or nothing.
    bool import_coco(App& a, const std::string& json, std::string* error);
    std::string export_coco() const;
    // Union of an image's mask and polygon annotations (lesion masks).
    es::Mask lesion_mask(const es::ImageAnnotations& img) const;
    // One per lesion-labelled annotation (core es::count_lesions).
    int lesion_count(const es::ImageAnnotations& img) const;
    // Separate parts of a mask/polygon annotation (regions above the cleanup threshold).
    int annotation_parts(const es::ImageAnnotations& img, const es::Annotation& an) const;
    // Parts per "image|id|min_area", so the list does not label every mask every
    // frame; cleared on every change of the document (changed(), load).
    mutable std::map<std::string, int> parts_cache;
};

AnnotationUi& annotation_ui();

// Per frame, from App::draw_ui: shortcuts, tools over the viewer, overlays.
void draw_annotations(App& a);
void annotation_tools_frame(App& a, AnnotationUi& ui);
void draw_annotation_overlays(App& a, AnnotationUi& ui);
// A mask over the viewer (image pixels, ImGui ABGR colour), for other panels'
// overlays (the Agent tab's selected step); its texture is cached under `key`.
void draw_mask_overlay(App& a, const std::string& key, const es::Mask& m, uint32_t color, float alpha);
// Labels, segmentation status, list, import/export: inside the side panel's Image tab.
void draw_annotation_panel(App& a, AnnotationUi& ui);

// Segmentation job requests (JS: Module.annotation.segment(json)).
void segment_request(App& a, AnnotationUi& ui);
void segment_accept(App& a, AnnotationUi& ui);
void segment_clear(AnnotationUi& ui);
// Segment settings -> JS (kept in the browser's localStorage).
void segment_settings_changed(AnnotationUi& ui);

// JS side (web/annotation/app_annotation.js): actions such as "export_coco".
void annotation_js_action(const char* name, const std::string& arg = "");

}  // namespace esui
