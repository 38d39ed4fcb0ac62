// panel_compare.cpp: the Compare tab (compare_ui.h). Model vs annotations
// (classification, boxes, Segment masks), then two annotators (kappa, regions,
// objects; a row shows both versions' outlines on the viewer); the export on top.
// Where there is nothing to compare yet, it says what to do.
#include <imgui.h>

#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <string>

#include "annotation_ui.h"
#include "app.h"
#include "assistant_ui.h"
#include "compare_ui.h"
#include "text_fit.h"

namespace esui {

namespace {

const ImU32 kColourA = IM_COL32(40, 200, 255, 255);   // annotator A: the open case
const ImU32 kColourB = IM_COL32(255, 150, 30, 255);   // annotator B: the imported version
const ImVec4 kHint(0.75f, 0.75f, 0.75f, 1.0f);

std::string fmt(double v, const char* f = "%.3f") {
    if (!std::isfinite(v)) return "-";
    char b[32];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

// A figure line, kept in ui.shown[key] (what the test reads) and recorded as a widget.
void figure(App& a, CompareUi& ui, const char* key, const std::string& text) {
    ImGui::PushTextWrapPos(0.0f);
    ImGui::TextUnformatted(text.c_str());
    ImGui::PopTextWrapPos();
    ui.shown[key] = text;
    a.record_widget(key);
}

void subtitle(const char* text) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyle().Colors[ImGuiCol_TextDisabled]);
    ImGui::TextWrapped("%s", text);
    ImGui::PopStyleColor();
}

// Table columns: the first two (names) get more room than the figures.
void columns(std::initializer_list<const char*> names, int wide = 1) {
    int i = 0;
    for (const char* n : names) ImGui::TableSetupColumn(n, ImGuiTableColumnFlags_WidthStretch, i++ < wide ? 2.2f : 1.0f);
    ImGui::TableHeadersRow();
}

void hint(const char* text) {
    ImGui::PushStyleColor(ImGuiCol_Text, kHint);
    ImGui::TextWrapped("%s", text);
    ImGui::PopStyleColor();
}

// An image name that jumps to the image when clicked.
void image_cell(App& a, const std::string& image) {
    const std::string shown = ellipsize(image.c_str(), ImGui::GetContentRegionAvail().x);
    if (ImGui::Selectable((shown + "##" + image).c_str(), false)) {
        for (size_t i = 0; i < a.images.size(); ++i)
            if (a.images[i]->name == image) a.select(int(i));
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s\nClick to show it", image.c_str());
}

const ImGuiTableFlags kTable = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp;

void draw_classification(App& a, CompareUi& ui) {
    const es::ModelComparison& m = ui.model;
    const AnnotationUi& ann = annotation_ui();
    subtitle("Classification vs the image's labels");
    if (m.classified.empty()) {
        figure(a, ui, "compare_classification", "Nothing to compare yet.");
        hint(m.classified_unlabelled > 0
                 ? "The classified images have no labelled annotations. Label what is on them (Image tab), and the "
                   "model's answer is compared here."
                 : "Open an image with labelled annotations, then Assistant > Classify > Classify this image. Every image "
                   "classified in this session is compared here.");
        return;
    }
    int right = 0;
    for (const auto& c : m.classified) right += c.right ? 1 : 0;
    figure(a, ui, "compare_accuracy",
           "Accuracy " + fmt(m.accuracy) + " (" + std::to_string(right) + " of " + std::to_string(m.classified.size()) +
               " images)   macro-F1 " + fmt(m.macro_f1));
    if (m.classified_unlabelled > 0)
        ImGui::TextDisabled("%d classified image(s) without labels left out.", m.classified_unlabelled);
    if (ImGui::BeginTable("##cls_images", 3, kTable)) {
        columns({"Image", "Model's top label", "Annotated"}, 3);
        for (const es::ClassifiedImage& c : m.classified) {
            ImGui::PushID(c.image.c_str());
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            image_cell(a, c.image);
            ImGui::TableNextColumn();
            ImGui::TextColored(c.right ? ImVec4(0.5f, 0.9f, 0.5f, 1) : ImVec4(1.0f, 0.5f, 0.45f, 1), "%s %s",
                               c.right ? "right:" : "wrong:", ann.label_name(c.predicted).c_str());
            ImGui::TableNextColumn();
            std::string labels;
            for (const std::string& t : c.truth) labels += (labels.empty() ? "" : ", ") + ann.label_name(t);
            text_ellipsized(labels.c_str());
            ImGui::PopID();
        }
        ImGui::EndTable();
    }
    if (ImGui::BeginTable("##cls_classes", 6, kTable)) {
        columns({"Label", "Support", "Predicted", "Precision", "Recall", "F1"});
        for (const es::ClassRow& c : m.per_class) {
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            text_ellipsized(ann.label_name(c.label).c_str());
            ImGui::TableNextColumn();
            ImGui::Text("%.0f", c.support);
            ImGui::TableNextColumn();
            ImGui::Text("%.0f", c.predicted);
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(fmt(c.precision).c_str());
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(fmt(c.recall).c_str());
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(fmt(c.f1).c_str());
        }
        ImGui::EndTable();
    }
}

void draw_boxes(App& a, CompareUi& ui) {
    const es::ModelComparison& m = ui.model;
    subtitle("Model boxes vs annotated boxes (matched at IoU >= 0.5)");
    if (m.model_boxes == 0) {
        figure(a, ui, "compare_boxes", "Nothing to compare yet (" + std::to_string(m.annotated_boxes) + " annotated boxes).");
        hint("Ask the assistant where the lesion is (Assistant > Chat, e.g. \"Where is the polyp?\"). The boxes in its "
             "latest answer on each image, and AI boxes you accepted, are compared here with the boxes you drew.");
        return;
    }
    figure(a, ui, "compare_boxes",
           "Matched " + std::to_string(m.matched_boxes) + " of " + std::to_string(m.model_boxes) + " model and " +
               std::to_string(m.annotated_boxes) + " annotated boxes: precision " + fmt(m.box_precision) + ", recall " +
               fmt(m.box_recall) + ", mean IoU " + fmt(m.box_matched_mean_iou));
    if (ImGui::BeginTable("##boxes", 5, kTable)) {
        columns({"Image", "Model", "Annotated", "Matched", "Mean IoU"});
        for (const es::BoxImageRow& r : m.boxes) {
            ImGui::PushID(r.image.c_str());
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            image_cell(a, r.image);
            ImGui::TableNextColumn();
            ImGui::Text("%d", r.model);
            ImGui::TableNextColumn();
            ImGui::Text("%d", r.annotated);
            ImGui::TableNextColumn();
            ImGui::Text("%d", r.matched);
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(fmt(r.mean_iou).c_str());
            ImGui::PopID();
        }
        ImGui::EndTable();
    }
}

void draw_masks(App& a, CompareUi& ui) {
    const es::ModelComparison& m = ui.model;
    subtitle("Segment masks vs annotated masks and polygons");
    if (m.mask_pairs == 0) {
        figure(a, ui, "compare_masks", "Nothing to compare yet.");
        hint("On an image where you drew the lesion (mask or polygon), use the Segment tool (S), click the lesion and "
             "accept its mask (Enter). Its Dice and IoU against your drawing appear here.");
    } else {
        figure(a, ui, "compare_masks",
               "Mean Dice " + fmt(m.mean_mask_dice) + ", mean IoU " + fmt(m.mean_mask_iou) + " over " +
                   std::to_string(m.mask_pairs) + " image(s)");
    }
    if (m.masks.empty() || m.mask_pairs == 0) return;
    if (ImGui::BeginTable("##masks", 3, kTable)) {
        columns({"Image", "Dice", "IoU"});
        for (const es::MaskImageRow& r : m.masks) {
            ImGui::PushID(r.image.c_str());
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            image_cell(a, r.image);
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(r.in_model ? fmt(r.dice).c_str() : "no Segment mask");
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(r.in_model ? fmt(r.iou).c_str() : "-");
            ImGui::PopID();
        }
        ImGui::EndTable();
    }
}

double metric(const es::AnnotationAgreement& r, const char* name) {
    for (const es::MetricValue& m : r.metrics)
        if (m.name == name) return m.value;
    return std::nan("");
}

void draw_annotators(App& a, CompareUi& ui) {
    ImGui::Separator();
    ImGui::TextDisabled("TWO ANNOTATORS");
    if (ImGui::Button(ui.has_second ? "Import another B..." : "Import annotator B...")) annotation_js_action("import_compare");
    a.record_widget("compare_import_b");
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Another annotator's version of this case: their COCO export or case bundle (.json).\n"
                          "The open case is annotator A and is not changed.");
    if (!ui.has_second) {
        hint("Import another annotator's version of this case (their COCO export or case bundle). The open case is "
             "annotator A; nothing in it changes. Cohen's kappa on the labels, Dice and IoU per image and label, and "
             "matched objects appear here.");
        return;
    }
    ImGui::SameLine();
    if (ImGui::Button("Remove B")) {
        ui.clear_second();
        return;
    }
    a.record_widget("compare_remove_b");
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(kColourA), "A: the open case");
    ImGui::SameLine();
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(kColourB), "  B:");
    ImGui::SameLine();
    text_ellipsized((ui.second_name + " (" + ui.second_kind + ")").c_str());
    const es::AnnotationAgreement& g = ui.agreement;
    figure(a, ui, "compare_kappa",
           "Cohen's kappa (labels per image) " + fmt(metric(g, "kappa")) + ", observed agreement " +
               fmt(metric(g, "observed_agreement")) + " over " + std::to_string(g.label_pairs) + " (image, label) pairs");
    figure(a, ui, "compare_regions",
           "Regions: mean Dice " + fmt(metric(g, "mean_dice")) + ", mean IoU " + fmt(metric(g, "mean_iou")) + " over " +
               std::to_string(g.regions.size()) + " (image, label) pairs");
    figure(a, ui, "compare_objects",
           "Objects matched at IoU >= 0.5: " + fmt(g.matched_objects, "%.0f") + " (A " + fmt(g.first_objects, "%.0f") +
               ", B " + fmt(g.second_objects, "%.0f") + "): precision " + fmt(metric(g, "object_precision")) +
               ", recall " + fmt(metric(g, "object_recall")) + ", F1 " + fmt(metric(g, "object_f1")) +
               ", matched mean IoU " + fmt(metric(g, "matched_mean_iou")));
    if (std::isnan(metric(g, "kappa")) && g.label_pairs > 0)
        hint("Kappa is undefined here: both versions mark every label the same way on every image, so there is no "
             "chance disagreement to correct for (observed agreement says how often they agree).");
    ImGui::TextDisabled("Click a row to see both outlines on the image.");
    const AnnotationUi& ann = annotation_ui();
    if (ImGui::BeginTable("##regions", 4, kTable)) {
        columns({"Image", "Label", "Dice", "IoU"}, 2);
        for (size_t i = 0; i < g.regions.size(); ++i) {
            const es::RegionPair& r = g.regions[i];
            ImGui::PushID(int(i));
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            const std::string shown = ellipsize(r.image.c_str(), ImGui::GetContentRegionAvail().x);
            if (ImGui::Selectable((shown + "##row").c_str(), ui.selected == int(i), ImGuiSelectableFlags_SpanAllColumns))
                ui.select_region(a, ui.selected == int(i) ? -1 : int(i));
            a.record_widget(("compare_region_" + std::to_string(i)).c_str());
            ImGui::TableNextColumn();
            text_ellipsized(ann.label_name(r.label).c_str());
            ImGui::TableNextColumn();
            const std::string dice = r.in_first && r.in_second ? fmt(r.dice) : (r.in_first ? "only A" : "only B");
            ImGui::TextUnformatted(dice.c_str());
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(r.in_first && r.in_second ? fmt(r.iou).c_str() : "0");
            ImGui::PopID();
        }
        ImGui::EndTable();
    }
}

void draw_outlines(App& a, const CompareUi& ui) {
    const ViewerImage* img = a.current_image();
    if (ui.selected < 0 || !img || img->name != ui.outline_image) return;
    ImDrawList* dl = ImGui::GetBackgroundDrawList();
    const Rect& v = a.viewer_rect;
    dl->PushClipRect(ImVec2(v.x, v.y), ImVec2(v.x + v.w, v.y + v.h), true);
    auto draw = [&](const std::vector<es::Polygon>& rings, ImU32 colour) {
        for (const es::Polygon& ring : rings) {
            std::vector<ImVec2> pts;
            for (const es::Point& p : ring) pts.emplace_back(float(a.view.to_screen_x(p.x)), float(a.view.to_screen_y(p.y)));
            if (pts.size() >= 2) dl->AddPolyline(pts.data(), int(pts.size()), colour, ImDrawFlags_Closed, 2.5f);
        }
    };
    draw(ui.outline_a, kColourA);
    draw(ui.outline_b, kColourB);
    const char* legend = "Compare: A (open case)      B (imported)";
    const ImVec2 ts = ImGui::CalcTextSize(legend);
    const ImVec2 p0(v.x + v.w - ts.x - 24, v.y + v.h - ts.y - 16), p1(v.x + v.w - 8, v.y + v.h - 6);
    dl->AddRectFilled(p0, p1, IM_COL32(0, 0, 0, 200), 3.0f);
    const float ty = p0.y + 5;
    dl->AddText(ImVec2(p0.x + 8, ty), kColourA, "Compare: A (open case)");
    dl->AddText(ImVec2(p0.x + 8 + ImGui::CalcTextSize("Compare: A (open case)      ").x, ty), kColourB, "B (imported)");
    a.widgets["compare_legend"] = {p0.x, p0.y, p1.x - p0.x, p1.y - p0.y};
    dl->PopClipRect();
}

}  // namespace

void draw_compare_tab(App& a) {
    CompareUi& ui = compare_ui();
    ui.observe_assistant(a, assistant_ui().state);
    ui.refresh(a);
    ui.shown.clear();

    // The export first: the tab grows long and it must stay at hand.
    if (ImGui::Button("Export figures (JSON)")) {
        const std::string base = a.case_name.empty() ? std::string("case") : a.case_name;
        annotation_js_action("download_text", nlohmann::json{{"file", base + "-compare.json"},
                                                             {"type", "application/json"},
                                                             {"text", ui.figures(a).dump(1)}}
                                                  .dump());
    }
    a.record_widget("compare_export");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Every figure below, per image too, as <case>-compare.json");
    ImGui::Separator();
    ImGui::TextDisabled("MODEL VS ANNOTATIONS");
    const bool any_model = !ui.model.classified.empty() || ui.model.model_boxes > 0 || ui.model.mask_pairs > 0;
    if (any_model) {
        draw_ai_label(a, "compare_ai_label");
        if (assistant_test_model(assistant_ui().state)) draw_test_model_warning(a, "compare_test_model_warning");
    }
    draw_classification(a, ui);
    ImGui::Spacing();
    draw_boxes(a, ui);
    ImGui::Spacing();
    draw_masks(a, ui);
    draw_annotators(a, ui);

    draw_outlines(a, ui);
}

}  // namespace esui
