// compare_state.cpp: the Compare tab's state (compare_ui.h): annotator B,
// the model outputs seen, the figures and their JSON export.
#include <cmath>
#include <set>

#include "annotation_ui.h"
#include "app.h"
#include "case/annotation_version.h"
#include "case/compare_work.h"
#include "compare_ui.h"
#include "mask/contour.h"

namespace esui {

using nlohmann::json;

CompareUi& compare_ui() {
    static CompareUi ui;
    return ui;
}

namespace {

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// The image names of the open case (in case order).
std::vector<std::string> case_image_names(const App& a) {
    std::vector<std::string> names;
    for (const auto& img : a.images) names.push_back(img->name);
    return names;
}

// Outlines of one version's shapes of `label` on `image` (image pixels).
std::vector<es::Polygon> outlines(const std::vector<es::ImageAnnotations>& version, const std::string& image,
                                  const std::string& label) {
    std::vector<es::Polygon> out;
    for (const es::ImageAnnotations& im : version) {
        if (im.image != image) continue;
        for (const es::Annotation& an : im.items) {
            if (an.label != label) continue;
            switch (an.kind) {
                case es::AnnotationKind::Box:
                    out.push_back({{an.box.x, an.box.y}, {an.box.x2(), an.box.y}, {an.box.x2(), an.box.y2()}, {an.box.x, an.box.y2()}});
                    break;
                case es::AnnotationKind::Polygon:
                    for (const es::Polygon& p : an.polygons) out.push_back(p);
                    break;
                case es::AnnotationKind::Mask: {
                    es::PolygonsFromMask p = es::mask_to_polygons(an.mask, 1.0, 4);
                    for (const es::Polygon& ring : p.polygons) out.push_back(ring);
                    break;
                }
                case es::AnnotationKind::Point: break;
            }
        }
    }
    return out;
}

}  // namespace

bool CompareUi::import_second(App& a, const std::string& text, const std::string& name) {
    es::AnnotationVersionRead r = es::read_annotation_version(text);
    const std::string shown = name.empty() ? std::string("The file") : "\"" + name + "\"";
    if (!r.ok) {
        last_error = r.detail;
        a.messages.error(shown + " could not be compared: " + r.message + " Nothing was changed.", r.detail);
        a.wake();
        return false;
    }
    const std::vector<std::string> names = case_image_names(a);
    const std::set<std::string> in_case(names.begin(), names.end());
    int shared = 0;
    for (const es::ImageAnnotations& im : r.images) shared += in_case.count(im.image) ? 1 : 0;
    if (!r.images.empty() && shared == 0) {
        last_error = "no image of the file is in the open case";
        a.messages.error(shown + " is a version of another case: none of its images is in the open case. Open the "
                         "case it belongs to first, then import it again. Nothing was changed.",
                         "images in the file: " + std::to_string(r.images.size()) + ", in the case: 0");
        a.wake();
        return false;
    }
    second = std::move(r.images);
    second_kind = r.kind;
    second_name = name.empty() ? r.kind : name;
    has_second = true;
    reset_view();
    last_error.clear();
    a.messages.notice("Annotator B: " + second_name + " (" + second_kind + "), compared with the open case in the "
                      "Compare tab. The open case was not changed.");
    changed(true);
    a.wake();
    return true;
}

void CompareUi::clear_second() {
    const bool had = has_second;
    forget_second();
    if (had) changed(true);
}

void CompareUi::forget_second() {
    has_second = false;
    second.clear();
    second_name.clear();
    second_kind.clear();
    reset_view();
}

void CompareUi::reset_view() {
    selected = -1;
    outline_a.clear();
    outline_b.clear();
    signature.clear();
}

std::string CompareUi::work_json() const {
    es::CompareWork w;
    for (const auto& [name, o] : outputs) w.outputs.push_back(o);
    w.has_second = has_second;
    w.second_name = second_name;
    w.second_kind = second_kind;
    w.second = second;
    return es::compare_work_to_json(w);
}

bool CompareUi::load_work(const std::string& text) {
    es::CompareWorkRead r = es::compare_work_from_json(text);
    if (!r.ok) {
        last_error = r.error;
        return false;
    }
    outputs.clear();
    for (es::ImageModelOutputs& o : r.work.outputs) outputs[o.image] = std::move(o);
    ++outputs_version;
    has_second = r.work.has_second;
    second_name = std::move(r.work.second_name);
    second_kind = std::move(r.work.second_kind);
    second = std::move(r.work.second);
    reset_view();
    last_error.clear();
    return true;
}

void CompareUi::clear_work() {
    outputs.clear();
    ++outputs_version;
    forget_second();
}

void CompareUi::changed(bool user_act) const { annotation_js_action("compare_changed", user_act ? "user" : "model"); }

void CompareUi::observe_assistant(const App& /*a*/, const json& s) {
    if (!s.contains("image") || !s["image"].is_object()) return;
    const std::string image = s["image"].value("name", std::string());
    if (image.empty()) return;
    es::ImageModelOutputs next = outputs.count(image) ? outputs[image] : es::ImageModelOutputs{};
    next.image = image;
    if (s.contains("classification") && s["classification"].is_object()) {
        const json& labels = s["classification"].value("labels", json::array());
        if (labels.is_array() && !labels.empty() && labels[0].is_object()) {  // ranked: the first is the top label
            next.classified = true;
            next.predicted_id = labels[0].value("id", std::string());
            next.predicted_name = labels[0].value("name", std::string());
            next.probability = labels[0].value("probability", 0.0);
        }
    }
    // The boxes of the latest finished answer that gave boxes.
    const json turns = s.value("turns", json::array());
    for (auto t = turns.rbegin(); t != turns.rend(); ++t) {
        if (!t->is_object() || !t->value("done", false)) continue;
        const json boxes = t->value("boxes", json::array());
        if (!boxes.is_array() || boxes.empty()) continue;
        next.boxes.clear();
        for (const json& b : boxes) {
            if (!b.is_object()) continue;
            auto num = [&](const char* k) { return b.contains(k) && b[k].is_number() ? b[k].get<double>() : 0.0; };
            next.boxes.push_back(es::box_from_corners(num("x1"), num("y1"), num("x2"), num("y2")));
        }
        break;
    }
    const es::ImageModelOutputs& old = outputs[image];
    if (old.classified != next.classified || old.predicted_id != next.predicted_id ||
        old.predicted_name != next.predicted_name || old.probability != next.probability || old.boxes != next.boxes) {
        outputs[image] = next;
        ++outputs_version;
        changed(false);
    }
}

void CompareUi::refresh(App& a) {
    AnnotationUi& ann = annotation_ui();
    // Another case opened (none of its images is open any more): B and the model
    // outputs belonged to the one before. (The demo turning into a case of its own
    // keeps its image names, and so both.)
    const std::vector<std::string> names = case_image_names(a);
    if (!names.empty()) {
        const std::set<std::string> open(names.begin(), names.end());
        bool overlap = false;
        for (const es::ImageAnnotations& im : second) overlap = overlap || open.count(im.image) > 0;
        if (has_second && !second.empty() && !overlap) clear_second();
        for (auto it = outputs.begin(); it != outputs.end();) {
            if (open.count(it->first)) {
                ++it;
            } else {
                it = outputs.erase(it);
                ++outputs_version;
            }
        }
    }
    size_t items = 0;
    uint64_t ids = 0;
    for (const es::ImageAnnotations& im : ann.images) {
        items += im.items.size();
        ids += im.next_id;
    }
    const std::string sig = a.case_name + "|" + std::to_string(ann.saves_requested) + "|" + std::to_string(ann.images.size()) +
                            "|" + std::to_string(items) + "|" + std::to_string(ids) + "|" + std::to_string(outputs_version) +
                            "|" + std::to_string(has_second) + "|" + second_name + "|" + std::to_string(second.size());
    if (sig == signature) return;
    signature = sig;
    std::vector<es::ImageModelOutputs> outs;
    for (const auto& [name, o] : outputs) outs.push_back(o);
    model = es::compare_with_model(ann.images, outs, 0.5);
    agreement_ready = has_second;
    if (has_second) agreement = es::annotation_agreement(ann.images, second, 0.5, es::BootstrapOptions{0, 0, 0.95});
    if (selected >= int(agreement.regions.size())) selected = -1;
    update_outlines();  // they follow edits; the image in view stays
}

void CompareUi::update_outlines() {
    outline_a.clear();
    outline_b.clear();
    outline_image.clear();
    if (!agreement_ready || selected < 0 || selected >= int(agreement.regions.size())) {
        selected = -1;
        return;
    }
    const es::RegionPair& r = agreement.regions[size_t(selected)];
    outline_image = r.image;
    outline_a = outlines(annotation_ui().images, r.image, r.label);
    outline_b = outlines(second, r.image, r.label);
}

void CompareUi::select_region(App& a, int index) {
    selected = index;
    update_outlines();
    if (selected < 0) return;
    for (size_t i = 0; i < a.images.size(); ++i)
        if (a.images[i]->name == outline_image && int(i) != a.current) a.select(int(i));
}

json CompareUi::figures(const App& a) const {
    json j;
    j["format"] = "endoscribe-compare";
    j["version"] = 1;
    j["case"] = a.case_name;
    const AnnotationUi& ann = annotation_ui();

    json m;
    json cls;
    cls["images"] = model.classified.size();
    cls["images_without_labels"] = model.classified_unlabelled;
    cls["accuracy"] = number(model.accuracy);
    cls["macro_f1"] = number(model.macro_f1);
    json per_image = json::array();
    for (const es::ClassifiedImage& c : model.classified)
        per_image.push_back({{"image", c.image}, {"predicted", c.predicted}, {"probability", c.probability},
                             {"annotated", c.truth}, {"right", c.right}});
    cls["per_image"] = per_image;
    json per_class = json::array();
    for (const es::ClassRow& c : model.per_class)
        per_class.push_back({{"label", c.label}, {"name", ann.label_name(c.label)}, {"support", c.support},
                             {"predicted", c.predicted}, {"precision", number(c.precision)},
                             {"recall", number(c.recall)}, {"f1", number(c.f1)}});
    cls["per_class"] = per_class;
    m["classification"] = cls;
    json boxes;
    boxes["model"] = model.model_boxes;
    boxes["annotated"] = model.annotated_boxes;
    boxes["matched"] = model.matched_boxes;
    boxes["match_iou"] = 0.5;
    boxes["precision"] = number(model.box_precision);
    boxes["recall"] = number(model.box_recall);
    boxes["matched_mean_iou"] = number(model.box_matched_mean_iou);
    json box_rows = json::array();
    for (const es::BoxImageRow& r : model.boxes)
        box_rows.push_back({{"image", r.image}, {"model", r.model}, {"annotated", r.annotated}, {"matched", r.matched},
                            {"mean_iou", number(r.mean_iou)}});
    boxes["per_image"] = box_rows;
    m["boxes"] = boxes;
    json masks;
    masks["pairs"] = model.mask_pairs;
    masks["mean_iou"] = number(model.mean_mask_iou);
    masks["mean_dice"] = number(model.mean_mask_dice);
    json mask_rows = json::array();
    for (const es::MaskImageRow& r : model.masks)
        mask_rows.push_back({{"image", r.image}, {"segment_mask", r.in_model}, {"annotated_region", r.in_annotation},
                             {"iou", number(r.iou)}, {"dice", number(r.dice)}});
    masks["per_image"] = mask_rows;
    m["masks"] = masks;
    j["model_vs_annotations"] = m;

    if (agreement_ready) {
        json g;
        g["annotator_a"] = "the open case";
        g["annotator_b"] = second_name;
        g["annotator_b_kind"] = second_kind;
        json metrics = json::object();
        for (const es::MetricValue& v : agreement.metrics) metrics[v.name] = number(v.value);
        g["metrics"] = metrics;
        g["label_pairs"] = agreement.label_pairs;
        g["objects"] = {{"a", agreement.first_objects}, {"b", agreement.second_objects}, {"matched", agreement.matched_objects},
                        {"match_iou", 0.5}};
        json regions = json::array();
        for (const es::RegionPair& r : agreement.regions)
            regions.push_back({{"image", r.image}, {"label", r.label}, {"in_a", r.in_first}, {"in_b", r.in_second},
                               {"iou", r.iou}, {"dice", r.dice}});
        g["regions"] = regions;
        j["annotators"] = g;
    } else {
        j["annotators"] = nullptr;
    }
    return j;
}

}  // namespace esui
