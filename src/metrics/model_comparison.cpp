// model_comparison.cpp: see model_comparison.h.
#include "metrics/model_comparison.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "annotation/geometry.h"
#include "metrics/classification.h"

namespace es {

namespace {

const double kNan = std::numeric_limits<double>::quiet_NaN();

Mask region_mask(const Annotation& a, int width, int height) {
    if (a.kind == AnnotationKind::Polygon) return rasterize_polygons(a.polygons, width, height);
    if (a.kind == AnnotationKind::Mask)
        return a.mask.width == width && a.mask.height == height ? a.mask : mask_resize_nearest(a.mask, width, height);
    return Mask(width, height);
}

double ratio(double num, double den) { return den > 0 ? num / den : kNan; }

}  // namespace

bool model_annotation(const Annotation& a) { return a.source == "sam" || a.source == "assistant"; }

std::string label_match_key(const std::string& label) {
    std::string k;
    for (unsigned char c : label)
        if (std::isalnum(c)) k += char(std::tolower(c));
    return k;
}

ModelComparison compare_with_model(const std::vector<ImageAnnotations>& annotations,
                                   const std::vector<ImageModelOutputs>& outputs, double match_iou) {
    ModelComparison out;
    std::map<std::string, const ImageAnnotations*> by_image;
    for (const ImageAnnotations& im : annotations) by_image[im.image] = &im;
    std::map<std::string, const ImageModelOutputs*> outputs_by_image;
    for (const ImageModelOutputs& o : outputs) outputs_by_image[o.image] = &o;

    // Classification.
    std::vector<std::string> classes;  // class index -> label
    auto class_index = [&](const std::string& label) {
        auto it = std::find(classes.begin(), classes.end(), label);
        if (it != classes.end()) return int(it - classes.begin());
        classes.push_back(label);
        return int(classes.size()) - 1;
    };
    std::vector<int> truth, predicted;
    for (const ImageModelOutputs& o : outputs) {
        if (!o.classified) continue;
        ClassifiedImage row;
        row.image = o.image;
        row.probability = o.probability;
        if (auto it = by_image.find(o.image); it != by_image.end())
            for (const Annotation& a : it->second->items)
                if (!model_annotation(a) && std::find(row.truth.begin(), row.truth.end(), a.label) == row.truth.end())
                    row.truth.push_back(a.label);
        if (row.truth.empty()) {
            ++out.classified_unlabelled;
            continue;
        }
        const std::string key_id = label_match_key(o.predicted_id), key_name = label_match_key(o.predicted_name);
        row.predicted = o.predicted_id.empty() ? o.predicted_name : o.predicted_id;
        for (const std::string& t : row.truth) {
            const std::string k = label_match_key(t);
            if ((!key_id.empty() && k == key_id) || (o.predicted_id.empty() && !key_name.empty() && k == key_name)) {
                row.predicted = t;
                row.right = true;
                break;
            }
        }
        truth.push_back(class_index(row.right ? row.predicted : row.truth.front()));
        predicted.push_back(class_index(row.predicted));
        out.classified.push_back(row);
    }
    out.accuracy = kNan;
    out.macro_f1 = kNan;
    if (!truth.empty()) {
        const ClassificationCounts counts = count_classifications(truth, predicted, int(classes.size()));
        const std::vector<ClassScores> scores = class_scores(counts);
        out.accuracy = accuracy(counts);
        out.macro_f1 = macro_f1(scores);
        for (size_t c = 0; c < classes.size(); ++c)
            out.per_class.push_back({classes[c], scores[c].support, counts.predicted(int(c)), scores[c].precision,
                                     scores[c].recall, scores[c].f1});
    }

    // Boxes and masks, image by image (images in either list, in name order).
    std::set<std::string> keys;
    for (const auto& [k, v] : by_image) keys.insert(k);
    for (const auto& [k, v] : outputs_by_image) keys.insert(k);
    std::vector<double> matched_iou, mask_iou_values, mask_dice_values;
    for (const std::string& key : keys) {
        const ImageAnnotations* im = by_image.count(key) ? by_image[key] : nullptr;
        const ImageModelOutputs* o = outputs_by_image.count(key) ? outputs_by_image[key] : nullptr;
        std::vector<Box> model, annotated;
        auto add_model = [&](const Box& b) {
            if (b.empty()) return;
            if (std::find(model.begin(), model.end(), b) == model.end()) model.push_back(b);
        };
        if (o)
            for (const Box& b : o->boxes) add_model(b);
        if (im)
            for (const Annotation& a : im->items) {
                if (a.kind != AnnotationKind::Box) continue;
                if (model_annotation(a)) add_model(a.box);
                else if (!a.box.empty()) annotated.push_back(a.box);
            }
        if (!model.empty() || !annotated.empty()) {
            BoxImageRow row{key, int(model.size()), int(annotated.size()), 0, kNan};
            std::vector<std::tuple<double, size_t, size_t>> candidates;
            for (size_t i = 0; i < annotated.size(); ++i)
                for (size_t j = 0; j < model.size(); ++j) {
                    const double iou = box_iou(annotated[i], model[j]);
                    if (iou >= match_iou && iou > 0) candidates.emplace_back(iou, i, j);
                }
            std::stable_sort(candidates.begin(), candidates.end(),
                             [](const auto& x, const auto& y) { return std::get<0>(x) > std::get<0>(y); });
            std::vector<bool> used_a(annotated.size()), used_m(model.size());
            double sum = 0;
            for (const auto& [iou, i, j] : candidates) {
                if (used_a[i] || used_m[j]) continue;
                used_a[i] = used_m[j] = true;
                ++row.matched;
                sum += iou;
                matched_iou.push_back(iou);
            }
            if (row.matched) row.mean_iou = sum / row.matched;
            out.model_boxes += row.model;
            out.annotated_boxes += row.annotated;
            out.matched_boxes += row.matched;
            out.boxes.push_back(row);
        }

        if (!im || im->width <= 0 || im->height <= 0) continue;
        Mask model_mask(im->width, im->height), reference(im->width, im->height);
        bool in_model = false, in_annotation = false;
        for (const Annotation& a : im->items) {
            if (a.kind != AnnotationKind::Mask && a.kind != AnnotationKind::Polygon) continue;
            if (a.source == "sam") {
                model_mask = mask_or(model_mask, region_mask(a, im->width, im->height));
                in_model = true;
            } else if (!model_annotation(a)) {
                reference = mask_or(reference, region_mask(a, im->width, im->height));
                in_annotation = true;
            }
        }
        if (!in_model && !in_annotation) continue;
        MaskImageRow row{key, in_model, in_annotation, kNan, kNan};
        if (in_model && in_annotation) {
            row.iou = mask_iou(model_mask, reference);
            row.dice = mask_dice(model_mask, reference);
            mask_iou_values.push_back(row.iou);
            mask_dice_values.push_back(row.dice);
        }
        out.masks.push_back(row);
    }
    out.box_precision = ratio(out.matched_boxes, out.model_boxes);
    out.box_recall = ratio(out.matched_boxes, out.annotated_boxes);
    double s = 0;
    for (double v : matched_iou) s += v;
    out.box_matched_mean_iou = ratio(s, double(matched_iou.size()));
    out.mask_pairs = int(mask_iou_values.size());
    double si = 0, sd = 0;
    for (size_t i = 0; i < mask_iou_values.size(); ++i) {
        si += mask_iou_values[i];
        sd += mask_dice_values[i];
    }
    out.mean_mask_iou = ratio(si, out.mask_pairs);
    out.mean_mask_dice = ratio(sd, out.mask_pairs);
    return out;
}

}  // namespace es
