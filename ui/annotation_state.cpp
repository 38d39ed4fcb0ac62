// annotation_state.cpp: the annotation document of the open case (see
// annotation_ui.h): commands, labels, its saved form, COCO import/export.
#include <emscripten/emscripten.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "annotation_ui.h"
#include "app.h"
#include "case/case.h"
#include "annotation/coco.h"
#include "mask/connected_components.h"
#include "annotation/geometry.h"
#include "annotation/lesion_count.h"

namespace esui {

AnnotationUi& annotation_ui() {
    static AnnotationUi instance;
    return instance;
}

const std::vector<ToolInfo>& tool_infos() {
    static const std::vector<ToolInfo> tools = {
        {Tool::Pan, "Pan", "H", 'H', "Drag to pan, wheel to zoom (the middle button pans with every tool)"},
        {Tool::Select, "Select", "V", 'V', "Click to select; drag to move; drag a box corner or polygon vertex to reshape; Delete removes"},
        {Tool::Box, "Box", "B", 'B', "Drag a bounding box"},
        {Tool::Polygon, "Polygon", "P", 'P', "Click vertices; Enter, double-click or a click on the first vertex closes; Backspace removes the last; Esc cancels"},
        {Tool::Point, "Point", "N", 'N', "Click to place a point"},
        {Tool::Brush, "Brush", "R", 'R', "Paint a mask (onto the selected mask, else a new one); [ and ] change the size"},
        {Tool::Eraser, "Eraser", "E", 'E', "Erase from the selected mask; [ and ] change the size"},
        {Tool::Segment, "Segment", "S", 'S', "Click the lesion: left click adds, right click (or Alt+click) removes, drag gives a box; Enter accepts, Esc discards"},
    };
    return tools;
}

es::ImageAnnotations* AnnotationUi::image(const std::string& key) {
    for (auto& i : images)
        if (i.image == key) return &i;
    return nullptr;
}

es::ImageAnnotations& AnnotationUi::ensure_image(const std::string& key, int w, int h) {
    if (es::ImageAnnotations* i = image(key)) return *i;
    es::ImageAnnotations img;
    img.image = key;
    img.width = w;
    img.height = h;
    images.push_back(std::move(img));
    return images.back();
}

void AnnotationUi::changed(App& a) {
    parts_cache.clear();
    a.wake();
    if (restoring) return;
    ++saves_requested;
    EM_ASM({ if (Module.annotation && Module.annotation.changed) Module.annotation.changed(); });
}

bool AnnotationUi::apply(App& a, es::AnnotationCommand cmd) {
    std::string error;
    if (!history.apply(images, std::move(cmd), &error)) {
        last_error = error;
        a.messages.error("The annotation was not changed: the change is not valid for this image.", error);
        a.wake();
        return false;
    }
    changed(a);
    return true;
}

bool AnnotationUi::undo(App& a) {
    std::string error;
    if (!history.can_undo()) return false;
    if (!history.undo(images, &error)) {
        a.messages.error("Undo did not work; the annotations are as they were.", error);
        return false;
    }
    if (es::ImageAnnotations* img = a.current_image() ? image(a.current_image()->name) : nullptr)
        if (!img->find(selected)) selected = 0;
    changed(a);
    return true;
}

bool AnnotationUi::redo(App& a) {
    std::string error;
    if (!history.can_redo()) return false;
    if (!history.redo(images, &error)) {
        a.messages.error("Redo did not work; the annotations are as they were.", error);
        return false;
    }
    if (es::ImageAnnotations* img = a.current_image() ? image(a.current_image()->name) : nullptr)
        if (!img->find(selected)) selected = 0;
    changed(a);
    return true;
}

const es::LabelDef* AnnotationUi::find_label(const std::string& id) const {
    for (const auto& s : label_sets)
        if (const es::LabelDef* l = s.find_label(id)) return l;
    return nullptr;
}

std::string AnnotationUi::label_name(const std::string& id) const {
    const es::LabelDef* l = find_label(id);
    return l && !l->name.empty() ? l->name : id;
}

uint32_t AnnotationUi::label_color(const std::string& id) const {
    const es::LabelDef* l = find_label(id);
    unsigned r = 0, g = 0, b = 0;
    if (l && l->color.size() == 7 && std::sscanf(l->color.c_str() + 1, "%02x%02x%02x", &r, &g, &b) == 3) {
        // from the label set
    } else {
        // A stable bright colour from the id's hash.
        const size_t h = std::hash<std::string>()(id);
        const float hue = float(h % 360) / 60.0f;
        const float x = 1.0f - std::abs(std::fmod(hue, 2.0f) - 1.0f);
        float rf = 0, gf = 0, bf = 0;
        const int sector = int(hue);
        if (sector == 0) rf = 1, gf = x; else if (sector == 1) rf = x, gf = 1; else if (sector == 2) gf = 1, bf = x;
        else if (sector == 3) gf = x, bf = 1; else if (sector == 4) rf = x, bf = 1; else rf = 1, bf = x;
        r = unsigned(80 + 175 * rf), g = unsigned(80 + 175 * gf), b = unsigned(80 + 175 * bf);
    }
    return 0xFF000000u | (b << 16) | (g << 8) | r;
}

es::LabelSet& AnnotationUi::user_set() {
    for (auto& s : label_sets)
        if (s.user) return s;
    label_sets.push_back(es::make_user_label_set("my-labels", "My labels"));
    return label_sets.back();
}

std::string AnnotationUi::export_coco() const {
    // Categories named after the labels (ids in order of first use).
    std::vector<es::CocoCategory> categories;
    for (const auto& img : images)
        for (const auto& a : img.items) {
            if (std::any_of(categories.begin(), categories.end(), [&](const es::CocoCategory& c) { return c.name == a.label; }))
                continue;
            es::CocoCategory c;
            c.id = int64_t(categories.size()) + 1;
            c.name = a.label;
            const es::LabelDef* l = find_label(a.label);
            c.supercategory = l && !l->parent.empty() ? l->parent : "";
            categories.push_back(c);
        }
    return es::export_coco(images, categories);
}

std::string AnnotationUi::document_json(const App& a) const {
    nlohmann::json j;
    j["format"] = "endoscribe-annotations";
    j["version"] = 1;
    j["case"] = a.current_case.images.empty() && a.current_case.id.empty()
                    ? nlohmann::json(nullptr)
                    : nlohmann::json::parse(es::case_to_json(a.current_case));
    j["coco"] = nlohmann::json::parse(export_coco());
    auto sets = nlohmann::json::array();
    for (const auto& s : label_sets)
        if (s.user && !s.labels.empty()) sets.push_back(nlohmann::json::parse(es::label_set_to_json(s)));
    j["user_label_sets"] = sets;
    j["label"] = label;
    return j.dump();
}

bool AnnotationUi::load_document(App& a, const std::string& text, std::string* error) {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("format", "") != "endoscribe-annotations") {
        *error = "not an EndoScribe annotation document";
        return false;
    }
    if (!j.contains("coco")) {
        *error = "the document has no annotations";
        return false;
    }
    es::CocoImport r = es::import_coco(j["coco"].dump());
    if (!r.ok) {
        *error = r.error;
        return false;
    }
    std::vector<es::LabelSet> user_sets;
    if (j.contains("user_label_sets") && j["user_label_sets"].is_array()) {
        for (const auto& s : j["user_label_sets"]) {
            es::LabelSetLoad l = es::parse_label_set(s.dump());
            if (!l.ok) {
                *error = "user label set: " + l.error;
                return false;
            }
            l.set.user = true;
            for (auto& d : l.set.labels) d.user_added = true;
            user_sets.push_back(std::move(l.set));
        }
    }
    if (j.contains("case") && j["case"].is_object()) {
        es::CaseParseResult c = es::case_from_json(j["case"].dump());
        if (c.ok) {
            a.current_case = c.value;
            a.case_name = c.value.title.empty() ? c.value.id : c.value.title;
        }
    }
    images = std::move(r.images);
    history.clear();
    label_sets.erase(std::remove_if(label_sets.begin(), label_sets.end(), [](const es::LabelSet& s) { return s.user; }),
                     label_sets.end());
    for (auto& s : user_sets) label_sets.push_back(std::move(s));
    if (j.contains("label") && j["label"].is_string() && !j["label"].get<std::string>().empty())
        label = j["label"].get<std::string>();
    selected = 0;
    a.wake();
    return true;
}

bool AnnotationUi::import_coco(App& a, const std::string& json, std::string* error) {
    es::CocoImport r = es::import_coco(json);
    if (!r.ok) {
        *error = r.error;
        return false;
    }
    std::vector<es::AnnotationCommand> steps;
    std::vector<es::ImageAnnotations> added;  // images not in the document yet
    size_t count = 0;
    for (es::ImageAnnotations& in : r.images) {
        es::ImageAnnotations* have = image(in.image);
        if (have && (have->width != in.width || have->height != in.height)) {
            *error = "image \"" + in.image + "\" is " + std::to_string(in.width) + " x " + std::to_string(in.height) +
                     " in the file but " + std::to_string(have->width) + " x " + std::to_string(have->height) + " here";
            return false;
        }
        for (const auto& v : a.images)
            if (v->name == in.image && (v->pixels.width != in.width || v->pixels.height != in.height)) {
                *error = "image \"" + in.image + "\" has a different size in the file than the open image";
                return false;
            }
        count += in.items.size();
        if (!have) {
            added.push_back(std::move(in));
            continue;
        }
        for (const auto& old : have->items) steps.push_back(es::AnnotationCommand::remove(have->image, old));
        // Ids continue after the image's own so undo/redo stays exact.
        uint64_t next = have->next_id;
        for (auto& item : in.items) {
            item.id = next++;
            steps.push_back(es::AnnotationCommand::add(have->image, item));
        }
    }
    for (auto& img : added) images.push_back(std::move(img));
    if (!steps.empty() && !apply(a, es::AnnotationCommand::batch(std::move(steps), "Import COCO"))) {
        *error = last_error;
        return false;
    }
    if (steps.empty()) changed(a);
    a.messages.notice("Imported " + std::to_string(count) + " annotation(s) on " + std::to_string(r.images.size()) +
                      " image(s) from COCO.");
    selected = 0;
    return true;
}

es::Mask AnnotationUi::lesion_mask(const es::ImageAnnotations& img) const {
    es::Mask all(img.width, img.height);
    for (const es::Annotation& a : img.items) {
        if (a.kind == es::AnnotationKind::Mask && a.mask.same_size(all)) all = es::mask_or(all, a.mask);
        if (a.kind == es::AnnotationKind::Polygon) all = es::mask_or(all, es::rasterize_polygons(a.polygons, img.width, img.height));
    }
    return all;
}

int AnnotationUi::lesion_count(const es::ImageAnnotations& img) const {
    return es::count_lesions(img, label_sets);
}

int AnnotationUi::annotation_parts(const es::ImageAnnotations& img, const es::Annotation& an) const {
    if (an.kind != es::AnnotationKind::Mask && an.kind != es::AnnotationKind::Polygon) return 1;
    const size_t min_area = seg.parts_min_area(img.width, img.height);
    const std::string key = img.image + "|" + std::to_string(an.id) + "|" + std::to_string(min_area);
    auto it = parts_cache.find(key);
    if (it != parts_cache.end()) return it->second;
    return parts_cache[key] = es::annotation_parts(an, img.width, img.height, min_area);
}

size_t SegmentSession::parts_min_area(int width, int height) const {
    es::MaskCleanupOptions o = cleanup;
    o.enabled = true;  // parts are counted above the threshold even when cleanup is off
    return std::max<size_t>(1, es::cleanup_min_area(o, width, height));
}

void SegmentSession::apply_cleanup() {
    if (raw_mask.empty()) return;
    es::MaskCleanupResult r = es::clean_mask(raw_mask, cleanup);
    mask = std::move(r.mask);
    holes_filled = r.holes_filled;
    islands_removed = r.islands_removed;
    parts = es::count_regions(mask, parts_min_area(mask.width, mask.height));
}

void annotation_js_action(const char* name, const std::string& arg) {
    EM_ASM({ if (Module.annotation && Module.annotation.action) Module.annotation.action(UTF8ToString($0), UTF8ToString($1)); },
           name, arg.c_str());
}

}  // namespace esui
