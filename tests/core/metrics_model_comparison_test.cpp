// The case's annotations against the model's outputs (Compare tab), and reading
// annotator B's version from the files the app writes, on cases worked out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "annotation/coco.h"
#include "case/annotation_version.h"
#include "case/case_bundle.h"
#include "metrics/model_comparison.h"

namespace {

es::Annotation box(const std::string& label, double x, double y, double w, double h, const std::string& source = "manual") {
    es::Annotation a;
    a.label = label;
    a.kind = es::AnnotationKind::Box;
    a.box = {x, y, w, h};
    a.source = source;
    return a;
}

es::Annotation square_mask(const std::string& label, int width, int height, int x0, int y0, int side,
                           const std::string& source) {
    es::Annotation a;
    a.label = label;
    a.kind = es::AnnotationKind::Mask;
    a.mask = es::Mask(width, height);
    for (int y = y0; y < y0 + side; ++y)
        for (int x = x0; x < x0 + side; ++x) a.mask.at(x, y) = 1;
    a.source = source;
    return a;
}

es::ImageAnnotations image(const std::string& name, std::vector<es::Annotation> items) {
    es::ImageAnnotations im;
    im.image = name;
    im.width = 20;
    im.height = 20;
    uint64_t id = 1;
    for (auto& a : items) a.id = id++;
    im.items = std::move(items);
    im.next_id = id;
    return im;
}

es::ImageModelOutputs classified(const std::string& image, const std::string& id, const std::string& name) {
    es::ImageModelOutputs o;
    o.image = image;
    o.classified = true;
    o.predicted_id = id;
    o.predicted_name = name;
    o.probability = 0.6;
    return o;
}

TEST(ModelComparison, LabelKeysIgnoreCaseAndPunctuation) {
    EXPECT_EQ(es::label_match_key("Z-line"), "zline");
    EXPECT_EQ(es::label_match_key("z-line"), "zline");
    EXPECT_EQ(es::label_match_key("Barrett's"), "barretts");
}

TEST(ModelComparison, ClassificationAgainstTheImageLabels) {
    std::vector<es::ImageAnnotations> ann = {
        image("a.png", {box("polyps", 0, 0, 5, 5)}),
        image("b.png", {box("polyps", 0, 0, 5, 5), box("z-line", 1, 1, 2, 2)}),
        image("c.png", {box("cecum", 0, 0, 5, 5)}),
        image("d.png", {box("polyps", 0, 0, 5, 5, "assistant")}),  // the model's own box is no reference
    };
    std::vector<es::ImageModelOutputs> out = {
        classified("a.png", "polyps", "Polyps"),  // right
        classified("b.png", "", "Z-line"),        // right, matched by name (no id)
        classified("c.png", "polyps", "Polyps"),  // wrong: truth cecum
        classified("d.png", "polyps", "Polyps"),  // no reference label
    };
    es::ModelComparison r = es::compare_with_model(ann, out);
    ASSERT_EQ(r.classified.size(), 3u);
    EXPECT_EQ(r.classified_unlabelled, 1);
    EXPECT_TRUE(r.classified[0].right);
    EXPECT_TRUE(r.classified[1].right);
    EXPECT_EQ(r.classified[1].predicted, "z-line");
    EXPECT_FALSE(r.classified[2].right);
    EXPECT_DOUBLE_EQ(r.accuracy, 2.0 / 3.0);
    // Classes in order of first use: polyps (truth a, predicted a and c), z-line (b), cecum (c).
    ASSERT_EQ(r.per_class.size(), 3u);
    EXPECT_EQ(r.per_class[0].label, "polyps");
    EXPECT_DOUBLE_EQ(r.per_class[0].support, 1);
    EXPECT_DOUBLE_EQ(r.per_class[0].predicted, 2);
    EXPECT_DOUBLE_EQ(r.per_class[0].precision, 0.5);
    EXPECT_DOUBLE_EQ(r.per_class[0].recall, 1);
    EXPECT_EQ(r.per_class[2].label, "cecum");
    EXPECT_DOUBLE_EQ(r.per_class[2].recall, 0);
    // macro-F1 = (2/3 + 1 + 0) / 3
    EXPECT_NEAR(r.macro_f1, (2.0 / 3.0 + 1.0) / 3.0, 1e-12);
}

TEST(ModelComparison, NothingToCompare) {
    es::ModelComparison r = es::compare_with_model({image("a.png", {})}, {});
    EXPECT_TRUE(r.classified.empty());
    EXPECT_TRUE(std::isnan(r.accuracy));
    EXPECT_TRUE(r.boxes.empty());
    EXPECT_TRUE(r.masks.empty());
    EXPECT_TRUE(std::isnan(r.box_precision));
    EXPECT_TRUE(std::isnan(r.mean_mask_dice));
}

TEST(ModelComparison, BoxesMatchedAtHalfIoU) {
    es::ImageModelOutputs o;
    o.image = "a.png";
    o.boxes = {{0, 0, 10, 10}, {0, 0, 10, 10}, {12, 12, 4, 4}};  // the same box twice counts once
    std::vector<es::ImageAnnotations> ann = {
        image("a.png", {box("polyps", 0, 0, 10, 5),            // IoU 0.5 with (0,0,10,10): matched
                        box("polyps", 12, 12, 4, 4, "assistant"),  // accepted: the same as an answer's box
                        box("polyps", 14, 0, 4, 4)}),           // no model box near it
        image("b.png", {box("polyps", 0, 0, 4, 4)}),
    };
    es::ModelComparison r = es::compare_with_model(ann, {o});
    ASSERT_EQ(r.boxes.size(), 2u);
    EXPECT_EQ(r.boxes[0].image, "a.png");
    EXPECT_EQ(r.boxes[0].model, 2);
    EXPECT_EQ(r.boxes[0].annotated, 2);
    EXPECT_EQ(r.boxes[0].matched, 1);
    EXPECT_DOUBLE_EQ(r.boxes[0].mean_iou, 0.5);
    EXPECT_EQ(r.boxes[1].model, 0);
    EXPECT_TRUE(std::isnan(r.boxes[1].mean_iou));
    EXPECT_EQ(r.model_boxes, 2);
    EXPECT_EQ(r.annotated_boxes, 3);
    EXPECT_EQ(r.matched_boxes, 1);
    EXPECT_DOUBLE_EQ(r.box_precision, 0.5);
    EXPECT_DOUBLE_EQ(r.box_recall, 1.0 / 3.0);
    EXPECT_DOUBLE_EQ(r.box_matched_mean_iou, 0.5);
    // Just under the threshold: no match.
    ann[0].items[0].box = {0, 0, 10, 4.9};
    EXPECT_EQ(es::compare_with_model(ann, {o}).matched_boxes, 0);
}

TEST(ModelComparison, SegmentMasksAgainstAnnotatedRegions) {
    std::vector<es::ImageAnnotations> ann = {
        // 4x4 reference, 4x4 SAM mask shifted by 2 columns: overlap 8, union 24.
        image("a.png", {square_mask("polyps", 20, 20, 0, 0, 4, "manual"), square_mask("polyps", 20, 20, 2, 0, 4, "sam")}),
        image("b.png", {square_mask("polyps", 20, 20, 0, 0, 4, "manual")}),  // nobody ran Segment here
        image("c.png", {box("polyps", 0, 0, 4, 4)}),                          // a box is no region here
    };
    es::ModelComparison r = es::compare_with_model(ann, {});
    ASSERT_EQ(r.masks.size(), 2u);
    EXPECT_DOUBLE_EQ(r.masks[0].iou, 8.0 / 24.0);
    EXPECT_DOUBLE_EQ(r.masks[0].dice, 16.0 / 32.0);
    EXPECT_FALSE(r.masks[1].in_model);
    EXPECT_TRUE(std::isnan(r.masks[1].iou));
    EXPECT_EQ(r.mask_pairs, 1);
    EXPECT_DOUBLE_EQ(r.mean_mask_iou, 1.0 / 3.0);
    EXPECT_DOUBLE_EQ(r.mean_mask_dice, 0.5);
}

TEST(AnnotationVersion, ReadsCocoBundleAndDocument) {
    std::vector<es::ImageAnnotations> ann = {image("a.png", {box("polyps", 1, 2, 3, 4)})};
    const std::string coco = es::export_coco(ann, {});
    es::AnnotationVersionRead r = es::read_annotation_version(coco);
    ASSERT_TRUE(r.ok) << r.detail;
    EXPECT_EQ(r.kind, "COCO file");
    ASSERT_EQ(r.images.size(), 1u);
    EXPECT_EQ(r.images[0].items[0].box, (es::Box{1, 2, 3, 4}));

    const std::string document = es::make_annotation_document(nullptr, ann);
    r = es::read_annotation_version(document);
    ASSERT_TRUE(r.ok) << r.detail;
    EXPECT_EQ(r.kind, "annotation document");
    EXPECT_EQ(r.images[0].items[0].label, "polyps");

    const std::vector<uint8_t> png = {0x89, 'P', 'N', 'G'};
    const std::string bundle = es::write_case_bundle(document, {{"a.png", png}});
    ASSERT_FALSE(bundle.empty());
    r = es::read_annotation_version(bundle);
    ASSERT_TRUE(r.ok) << r.message << " / " << r.detail;
    EXPECT_EQ(r.kind, "case bundle");
    EXPECT_EQ(r.images[0].items[0].box, (es::Box{1, 2, 3, 4}));
}

TEST(AnnotationVersion, RefusesOtherFilesInPlainWords) {
    for (const char* text : {"", "not json", "[1,2]", "{\"format\":\"endoscribe-label-set\"}", "{\"x\":1}",
                             "{\"images\":[{\"id\":1}],\"annotations\":[{\"image_id\":7}]}",
                             "{\"format\":\"endoscribe-annotations\"}"}) {
        es::AnnotationVersionRead r = es::read_annotation_version(text);
        EXPECT_FALSE(r.ok) << text;
        EXPECT_TRUE(r.images.empty());
        EXPECT_FALSE(r.message.empty()) << text;
        EXPECT_FALSE(r.detail.empty()) << text;
    }
}

}  // namespace
