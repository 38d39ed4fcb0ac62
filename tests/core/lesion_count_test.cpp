#include "annotation/lesion_count.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

using namespace es;

static LabelSet load(const std::string& name) {
    std::ifstream f(std::string(ES_SOURCE_DIR) + "/models/labels/" + name, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    LabelSetLoad r = parse_label_set(s.str());
    EXPECT_TRUE(r.ok) << name << ": " << r.error;
    return r.set;
}

static std::vector<LabelSet> shipped() {
    return {load("hyperkvasir.json"), load("polyp_attributes.json"), load("upper_gi_three_level.json"),
            load("mayo_endoscopic_score.json")};
}

static Annotation mask_annotation(const std::string& label, int w, int h, int parts) {
    Annotation a;
    a.kind = AnnotationKind::Mask;
    a.label = label;
    a.mask = Mask(w, h);
    for (int p = 0; p < parts; ++p)
        for (int y = 10; y < 30; ++y)
            for (int x = 10 + 40 * p; x < 30 + 40 * p; ++x) a.mask.at(x, y) = 1;
    return a;
}

TEST(LesionCount, LesionLabelsComeFromTheLabelSets) {
    std::vector<LabelSet> sets = shipped();
    for (const char* id : {"polyps", "dyed-lifted-polyps", "polyp", "gastric-polyp", "gastric-ulcer", "duodenal-ulcer",
                           "esophageal-neoplasia", "angiodysplasia"})
        EXPECT_TRUE(is_lesion_label(sets, id)) << id;
    for (const char* id : {"cecum", "z-line", "pylorus", "bbps-2-3", "ulcerative-colitis-grade-2", "mayo-2",
                           "esophagitis-la-b", "gastritis", "stomach", "nonexistent"})
        EXPECT_FALSE(is_lesion_label(sets, id)) << id;
}

TEST(LesionCount, OnePerLesionAnnotationWhateverItsShape) {
    std::vector<LabelSet> sets = shipped();
    ImageAnnotations img;
    img.width = 200;
    img.height = 100;
    // The issue's case: one accepted polyp mask with specks counted 6 before.
    Annotation m = mask_annotation("polyps", 200, 100, 1);
    for (int i = 0; i < 5; ++i) m.mask.at(150 + 8 * i, 80) = 1;
    img.items.push_back(m);
    EXPECT_EQ(count_lesions(img, sets), 1);
    // And a box labelled Polyps counted 0.
    Annotation box;
    box.kind = AnnotationKind::Box;
    box.label = "polyps";
    box.box = Box{100, 10, 30, 30};
    img.items.push_back(box);
    Annotation point;
    point.kind = AnnotationKind::Point;
    point.label = "polyp";
    point.point = Point{5, 5};
    img.items.push_back(point);
    Annotation poly;
    poly.kind = AnnotationKind::Polygon;
    poly.label = "gastric-ulcer";
    poly.polygons = {Polygon{{60, 60}, {90, 60}, {90, 90}}};
    img.items.push_back(poly);
    EXPECT_EQ(count_lesions(img, sets), 4);
    // Not lesions: a landmark box, an unknown label; hidden lesions still count.
    Annotation landmark = box;
    landmark.label = "cecum";
    img.items.push_back(landmark);
    img.items[0].visible = false;
    EXPECT_EQ(count_lesions(img, sets), 4);
    EXPECT_EQ(count_lesions(img, {}), 0);
}

TEST(LesionCount, MaskPartsAboveTheThreshold) {
    Annotation one = mask_annotation("polyps", 200, 100, 1);
    Annotation three = mask_annotation("polyps", 200, 100, 3);
    EXPECT_EQ(annotation_parts(one, 200, 100, 50), 1);
    EXPECT_EQ(annotation_parts(three, 200, 100, 50), 3);
    three.mask.at(190, 90) = 1;  // a speck is not a part
    EXPECT_EQ(annotation_parts(three, 200, 100, 50), 3);
    EXPECT_EQ(annotation_parts(three, 200, 100, 1), 4);
    Annotation poly;
    poly.kind = AnnotationKind::Polygon;
    poly.polygons = {Polygon{{10, 10}, {40, 10}, {40, 40}, {10, 40}}, Polygon{{100, 10}, {140, 10}, {140, 40}}};
    EXPECT_EQ(annotation_parts(poly, 200, 100, 50), 2);
    Annotation box;
    EXPECT_EQ(annotation_parts(box, 200, 100, 50), 1);
}

TEST(LesionCount, LesionFlagRoundTripsAndIsChecked) {
    LabelSetLoad r = parse_label_set(R"({"format":"endoscribe-label-set","version":1,"id":"x","name":"X",
        "labels":[{"id":"a","name":"A","lesion":true},{"id":"b","name":"B"}]})");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(r.set.labels[0].lesion);
    EXPECT_FALSE(r.set.labels[1].lesion);
    LabelSetLoad again = parse_label_set(label_set_to_json(r.set));
    ASSERT_TRUE(again.ok);
    EXPECT_TRUE(again.set.labels[0].lesion);
    LabelSetLoad bad = parse_label_set(R"({"format":"endoscribe-label-set","version":1,"id":"x","name":"X",
        "labels":[{"id":"a","name":"A","lesion":"yes"}]})");
    EXPECT_FALSE(bad.ok);
    EXPECT_NE(bad.error.find("lesion"), std::string::npos) << bad.error;
}
