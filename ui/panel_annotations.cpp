// panel_annotations.cpp: the annotation part of the side panel's Image tab:
// label picker (label sets from models/labels plus the user's own),
// segmentation status, the current image's annotation list (visibility,
// opacity, relabel, mask -> polygon / box, delete), import/export and storage.
// The tools themselves are in the tool strip (panel_tools.cpp).
#include <imgui.h>

#include <cstdio>

#include "annotation_ui.h"
#include "app.h"
#include "annotation/lesion_count.h"
#include "mask/connected_components.h"
#include "mask/contour.h"
#include "text_fit.h"

namespace esui {

std::string g_storage_status = "Not saved yet";  // annotation_exports.cpp sets it
bool g_storage_error = false;

static void tooltip(const char* text) {
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", text);
}

static void draw_labels(App& a, AnnotationUi& ui) {
    if (ui.label_sets.empty()) {
        ImGui::TextDisabled("Loading label sets...");
        return;
    }
    if (ui.label_set >= int(ui.label_sets.size())) ui.label_set = 0;
    ImGui::SetNextItemWidth(-1);
    const std::string& set_name = ui.label_sets[size_t(ui.label_set)].name;
    const std::string set_shown = ellipsize(set_name.c_str(), ImGui::GetContentRegionAvail().x - ImGui::GetFrameHeight() - 8);
    if (ImGui::BeginCombo("##labelset", set_shown.c_str())) {
        for (int i = 0; i < int(ui.label_sets.size()); ++i)
            if (ImGui::Selectable(ui.label_sets[size_t(i)].name.c_str(), i == ui.label_set)) ui.label_set = i;
        ImGui::EndCombo();
    }
    a.record_widget("label_set");
    tooltip_if_shortened(set_name.c_str(), set_shown);
    const es::LabelSet& set = ui.label_sets[size_t(ui.label_set)];
    ImGui::SetNextItemWidth(-1);
    const std::string label_name = ui.label_name(ui.label);
    const std::string label_shown = ellipsize(label_name.c_str(), ImGui::GetContentRegionAvail().x - ImGui::GetFrameHeight() - 8);
    if (ImGui::BeginCombo("##label", label_shown.c_str())) {
        for (const es::LabelDef& l : set.labels) {
            const int depth = int(set.label_path(l.id).size()) - 1;
            ImGui::Indent(float(depth * 10 + 1));
            if (ImGui::Selectable((l.name + "##" + l.id).c_str(), l.id == ui.label)) ui.label = l.id;
            ImGui::Unindent(float(depth * 10 + 1));
        }
        if (set.labels.empty()) ImGui::TextDisabled("This set has attributes only.");
        ImGui::EndCombo();
    }
    a.record_widget("label");
    if (label_shown != label_name) tooltip(("Label for new annotations (and for Relabel): " + label_name).c_str());
    else tooltip("Label for new annotations (and for Relabel)");
    static char new_label[64] = "";
    ImGui::SetNextItemWidth(-40);
    ImGui::InputTextWithHint("##newlabel", "new label", new_label, sizeof new_label);
    a.record_widget("new_label");
    ImGui::SameLine();
    if (ImGui::Button("Add") && new_label[0]) {
        es::LabelDef l;
        l.name = new_label;
        for (const char* p = new_label; *p; ++p) {
            const char c = char(std::tolower(static_cast<unsigned char>(*p)));
            l.id += (std::isalnum(static_cast<unsigned char>(c)) ? c : '-');
        }
        while (!l.id.empty() && !std::isalnum(static_cast<unsigned char>(l.id[0]))) l.id.erase(0, 1);
        std::string error;
        es::LabelSet& user = ui.user_set();
        if (es::add_user_label(user, l, &error)) {
            ui.label = l.id;
            new_label[0] = 0;
            for (int i = 0; i < int(ui.label_sets.size()); ++i)
                if (ui.label_sets[size_t(i)].user) ui.label_set = i;
            ui.changed(a);
        } else {
            a.messages.error("Label not added: " + error);
        }
    }
    a.record_widget("add_label");
    tooltip("Add your own label (kept in \"My labels\", saved with the case)");
}

static void draw_segment_status(App& a, AnnotationUi& ui) {
    SegmentSession& s = ui.seg;
    if (ui.tool != Tool::Segment && s.clicks.empty() && !s.has_box && s.status.empty()) return;
    ImGui::Separator();
    ImGui::TextDisabled("SEGMENT (SAM)");
    if (s.progress >= 0) {
        ImGui::TextWrapped("%s", s.status.c_str());
        ImGui::ProgressBar(s.progress, ImVec2(-1, 0), s.progress > 0 ? nullptr : "");  // 0: no estimate yet
    } else if (!s.status.empty()) {
        if (s.error) ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.45f, 0.4f, 1.0f));
        ImGui::TextWrapped("%s", s.status.c_str());
        if (s.error) ImGui::PopStyleColor();
    }
    if (s.busy && s.progress >= 0 && (!s.clicks.empty() || s.has_box))
        ImGui::TextWrapped("Your click is queued: the mask comes as soon as the image is ready.");
    if (!s.mask.empty()) {
        ImGui::TextWrapped("%d click(s)%s, IoU est. %.2f, %.0f ms", int(s.clicks.size()), s.has_box ? " + box" : "", s.iou, s.ms);
        if (s.islands_removed || s.holes_filled) {
            ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
            ImGui::TextWrapped("Cleaned up: %d speck(s) removed, %d hole(s) filled", s.islands_removed, s.holes_filled);
            ImGui::PopStyleColor();
        }
        if (s.parts > 1) {
            ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.8f, 0.3f, 1.0f));
            if (es::is_lesion_label(ui.label_sets, ui.label))
                ImGui::TextWrapped("This mask has %d separate parts: it will count as one lesion. "
                                   "If they are different lesions, split it after accepting.", s.parts);
            else
                ImGui::TextWrapped("This mask has %d separate parts.", s.parts);
            ImGui::PopStyleColor();
        }
        if (ImGui::Button("Accept")) segment_accept(a, ui);
        a.record_widget("seg_accept");
        tooltip("Keep this mask as an annotation (Enter)");
        ImGui::SameLine();
    }
    if (!s.clicks.empty() || s.has_box) {
        if (ImGui::Button("Discard")) segment_clear(ui);
        a.record_widget("seg_discard");
        tooltip("Drop the clicks and the proposed mask (Esc); Backspace undoes the last click");
    }
    const bool settings_open = ImGui::TreeNode("Segment settings");
    a.record_widget("seg_settings");
    if (settings_open) {
        bool changed = ImGui::Checkbox("Clean up masks", &s.cleanup.enabled);
        a.record_widget("seg_cleanup");
        tooltip("As SAM's own post-processing: fill holes and remove specks smaller than the area below");
        float pct = float(s.cleanup.min_area_fraction * 100.0);
        ImGui::TextUnformatted("Smallest part, % of image");
        ImGui::SetNextItemWidth(-1);
        if (ImGui::SliderFloat("##min_area", &pct, 0.01f, 2.0f, "%.2f %%", ImGuiSliderFlags_Logarithmic)) {
            s.cleanup.min_area_fraction = double(pct) / 100.0;
            s.cleanup.min_area_px = 0;
            s.apply_cleanup();
        }
        if (ImGui::IsItemDeactivatedAfterEdit()) changed = true;
        a.record_widget("seg_min_area");
        if (ViewerImage* v = a.current_image()) {
            es::MaskCleanupOptions o = s.cleanup;
            o.enabled = true;
            tooltip("Holes and specks smaller than this are cleaned up; parts at least this large count as separate parts");
            ImGui::TextDisabled("= %zu px on this image", es::cleanup_min_area(o, v->pixels.width, v->pixels.height));
        }
        changed |= ImGui::Checkbox("Prepare in background", &s.background);
        a.record_widget("seg_background");
        tooltip("Run the image encoder as soon as an image is opened, so the first click answers at once");
        if (changed) {
            s.apply_cleanup();
            segment_settings_changed(ui);
        }
        ImGui::TreePop();
    }
}

static void draw_list(App& a, AnnotationUi& ui) {
    ViewerImage* v = a.current_image();
    es::ImageAnnotations* img = v ? ui.image(v->name) : nullptr;
    ImGui::Separator();
    if (!img) {
        ImGui::TextDisabled("No image open.");
        return;
    }
    ImGui::TextDisabled("ANNOTATIONS (%d)", int(img->items.size()));
    ImGui::Text("Lesions: %d", ui.lesion_count(*img));
    tooltip("One per annotation with a lesion label (polyp, ulcer, erosion, neoplasia...), whatever its shape");
    ImGui::BeginChild("##annlist", ImVec2(0, 96), true);
    for (const es::Annotation& an : img->items) {
        ImGui::PushID(int(an.id));
        bool visible = an.visible;
        if (ImGui::Checkbox("##vis", &visible)) {
            es::Annotation after = an;
            after.visible = visible;
            ui.apply(a, es::AnnotationCommand::modify(img->image, an, after, visible ? "Show" : "Hide"));
            ImGui::PopID();
            break;  // the list changed
        }
        tooltip("Show or hide");
        ImGui::SameLine();
        const ImU32 c = ui.label_color(an.label);
        ImGui::ColorButton("##c", ImGui::ColorConvertU32ToFloat4(c), ImGuiColorEditFlags_NoTooltip, ImVec2(10, 10));
        ImGui::SameLine();
        char line[160];
        const int parts = ui.annotation_parts(*img, an);
        char parts_text[32] = "";
        if (parts > 1) std::snprintf(parts_text, sizeof parts_text, ", %d parts", parts);
        std::snprintf(line, sizeof line, "#%llu %s%s %s%s%s", (unsigned long long)an.id,
                      an.source == "assistant" ? "[AI] " : "", es::annotation_kind_name(an.kind),
                      ui.label_name(an.label).c_str(), an.source == "sam" ? " (SAM)" : "", parts_text);
        const std::string shown = ellipsize(line, ImGui::GetContentRegionAvail().x);
        if (ImGui::Selectable((shown + "##item").c_str(), ui.selected == an.id)) ui.selected = an.id;
        if (an.source == "assistant") {  // accepted from an AI answer: it stays marked as the model's
            a.record_widget(("ann_ai_marker_" + std::to_string(an.id)).c_str());
            tooltip("Accepted from an AI suggestion (not a diagnosis): check it against the image");
        } else {
            tooltip_if_shortened(line, shown);
        }
        ImGui::PopID();
    }
    ImGui::EndChild();
    const es::Annotation* sel = img->find(ui.selected);
    if (!sel) return;
    ImGui::PushID("sel");
    float opacity = sel->opacity;
    ImGui::SetNextItemWidth(-56);
    if (ImGui::SliderFloat("Opacity", &opacity, 0.0f, 1.0f, "%.2f") && ImGui::IsItemDeactivatedAfterEdit() == false) {
        ui.preview = *sel;
        ui.preview.opacity = opacity;
        ui.preview_active = true;
        ui.preview_is_new = false;
    }
    if (ImGui::IsItemDeactivatedAfterEdit() && ui.preview_active && ui.preview.id == sel->id) {
        es::Annotation after = *sel;
        after.opacity = ui.preview.opacity;
        ui.preview_active = false;
        ui.apply(a, es::AnnotationCommand::modify(img->image, *sel, after, "Opacity"));
        sel = img->find(ui.selected);
    }
    if (!sel) { ImGui::PopID(); return; }
    if (ImGui::Button("Relabel") && sel->label != ui.label) {
        es::Annotation after = *sel;
        after.label = ui.label;
        ui.apply(a, es::AnnotationCommand::modify(img->image, *sel, after, "Relabel"));
        sel = img->find(ui.selected);
    }
    tooltip("Give the selected annotation the current label");
    ImGui::SameLine();
    if (ImGui::Button("Delete") && sel) {
        ui.apply(a, es::AnnotationCommand::remove(img->image, *sel, "Delete"));
        ui.selected = 0;
        sel = nullptr;
    }
    a.record_widget("ann_delete");
    tooltip("Delete the selected annotation (Delete)");
    if (sel && sel->kind == es::AnnotationKind::Mask && ui.annotation_parts(*img, *sel) > 1) {
        const int parts = ui.annotation_parts(*img, *sel);
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.8f, 0.3f, 1.0f));
        ImGui::TextWrapped(es::is_lesion_label(ui.label_sets, sel->label) ? "This mask has %d separate parts (counted as one lesion)."
                                                                          : "This mask has %d separate parts.", parts);
        ImGui::PopStyleColor();
        if (ImGui::Button("Split into parts")) {
            std::vector<es::AnnotationCommand> steps;
            steps.push_back(es::AnnotationCommand::remove(img->image, *sel));
            uint64_t next = img->next_id;
            for (es::Mask& m : es::split_regions(sel->mask, ui.seg.parts_min_area(img->width, img->height))) {
                es::Annotation part = *sel;
                part.id = next++;
                part.mask = std::move(m);
                steps.push_back(es::AnnotationCommand::add(img->image, part));
            }
            ui.selected = 0;
            ui.apply(a, es::AnnotationCommand::batch(std::move(steps), "Split mask"));
            ImGui::PopID();
            return;
        }
        a.record_widget("ann_split");
        tooltip("Make one mask annotation per part (each then counts as a lesion); specks below the cleanup size are dropped");
    }
    if (sel && sel->kind == es::AnnotationKind::Mask) {
        if (ImGui::Button("To polygon")) {
            es::PolygonsFromMask p = es::mask_to_polygons(sel->mask, 1.0, 16);
            if (p.polygons.empty()) a.messages.error("The mask has no region large enough for a polygon.");
            else {
                es::Annotation after = *sel;
                after.kind = es::AnnotationKind::Polygon;
                after.polygons = std::move(p.polygons);
                after.mask = es::Mask();
                ui.apply(a, es::AnnotationCommand::modify(img->image, *sel, after, "Convert to polygon"));
            }
        }
        a.record_widget("ann_to_polygon");
        tooltip("Replace the mask by its outline (contour tracing + Douglas-Peucker, 1 px)");
        ImGui::SameLine();
        if (ImGui::Button("Add box")) {
            es::Annotation box;
            box.kind = es::AnnotationKind::Box;
            box.label = sel->label;
            box.opacity = sel->opacity;
            box.box = es::mask_to_box(sel->mask);
            box.id = img->next_id;
            ui.apply(a, es::AnnotationCommand::add(img->image, box, "Box from mask"));
        }
        a.record_widget("ann_box_from_mask");
        tooltip("Add the mask's bounding box as a box annotation");
    }
    ImGui::PopID();
}

static void draw_files(App& a, AnnotationUi&) {
    ImGui::Separator();
    ImGui::TextDisabled("IMPORT / EXPORT");
    ImGui::TextUnformatted("Export");
    if (ImGui::Button("COCO")) annotation_js_action("export_coco");
    a.record_widget("export_coco");
    tooltip("Download the case's annotations as COCO JSON (boxes, polygons, RLE masks)");
    ImGui::SameLine();
    if (ImGui::Button("Masks")) annotation_js_action("export_masks");
    a.record_widget("export_masks");
    tooltip("Download one binary mask PNG per annotated image (masks and polygons)");
    ImGui::SameLine();
    if (ImGui::Button("Bundle")) annotation_js_action("export_bundle");
    a.record_widget("export_bundle");
    tooltip("Download the whole case (images + annotations) as one .endoscribe.json file");
    if (ImGui::Button("Import COCO...")) annotation_js_action("import_coco");
    a.record_widget("import_coco");
    tooltip("Read a COCO JSON file: its annotations replace those of the images with the same file names (undoable)");
    if (ImGui::Button("Open bundle...")) annotation_js_action("import_bundle");
    a.record_widget("import_bundle");
    tooltip("Replace the open case with a case bundle file");
    if (g_storage_error) ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.45f, 0.4f, 1.0f));
    ImGui::TextWrapped("%s", g_storage_status.c_str());
    if (g_storage_error) ImGui::PopStyleColor();
}

void draw_annotation_panel(App& a, AnnotationUi& ui) {
    ImGui::Separator();
    ImGui::TextDisabled("LABEL FOR NEW ANNOTATIONS");
    draw_labels(a, ui);
    draw_segment_status(a, ui);
    draw_list(a, ui);
    draw_files(a, ui);
}

}  // namespace esui
