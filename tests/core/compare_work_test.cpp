// The Compare tab's saved work (src/case/compare_work.h): what is written reads
// back the same (model outputs, annotator B with boxes, polygons and masks), and
// a damaged document is refused whole with the field named.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "case/compare_work.h"

using namespace es;
using json = nlohmann::json;

namespace {

CompareWork sample() {
    CompareWork w;
    ImageModelOutputs a;
    a.image = "image-1.png";
    a.classified = true;
    a.predicted_id = "polyps";
    a.predicted_name = "Polyps";
    a.probability = 0.7;
    a.boxes = {Box{177, 206, 242, 190}, Box{1.5, 2.25, 3, 4}};
    ImageModelOutputs b;
    b.image = "image 2 (2).jpg";
    b.boxes = {Box{0, 0, 10, 10}};
    w.outputs = {a, b};
    w.has_second = true;
    w.second_name = "annotator-b.coco.json";
    w.second_kind = "COCO file";
    ImageAnnotations im;
    im.image = "image-1.png";
    im.width = 64;
    im.height = 48;
    Annotation box;
    box.id = 1;
    box.label = "polyps";
    box.kind = AnnotationKind::Box;
    box.box = Box{4, 5, 20, 10};
    Annotation poly;
    poly.id = 2;
    poly.label = "dyed-lifted-polyps";
    poly.kind = AnnotationKind::Polygon;
    poly.polygons = {{{1, 1}, {30, 1}, {30, 20}, {1, 20}}};
    poly.source = "import";
    Annotation mask;
    mask.id = 5;
    mask.label = "polyps";
    mask.kind = AnnotationKind::Mask;
    mask.mask = Mask(64, 48);
    for (int y = 10; y < 30; ++y)
        for (int x = 20; x < 40; ++x) mask.mask.at(x, y) = 1;
    im.items = {box, poly, mask};
    im.next_id = 6;
    w.second = {im};
    return w;
}

}  // namespace

TEST(CompareWork, WhatIsWrittenReadsBackTheSame) {
    const CompareWork w = sample();
    const std::string text = compare_work_to_json(w);
    const json j = json::parse(text);
    EXPECT_EQ(j["format"], "endoscribe-compare-work");
    EXPECT_EQ(j["version"], 1);
    CompareWorkRead r = compare_work_from_json(text);
    ASSERT_TRUE(r.ok) << r.error;
    ASSERT_EQ(r.work.outputs.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
        EXPECT_EQ(r.work.outputs[i].image, w.outputs[i].image);
        EXPECT_EQ(r.work.outputs[i].classified, w.outputs[i].classified);
        EXPECT_EQ(r.work.outputs[i].predicted_id, w.outputs[i].predicted_id);
        EXPECT_EQ(r.work.outputs[i].predicted_name, w.outputs[i].predicted_name);
        EXPECT_EQ(r.work.outputs[i].probability, w.outputs[i].probability);
        EXPECT_EQ(r.work.outputs[i].boxes, w.outputs[i].boxes);
    }
    EXPECT_TRUE(r.work.has_second);
    EXPECT_EQ(r.work.second_name, "annotator-b.coco.json");
    EXPECT_EQ(r.work.second_kind, "COCO file");
    ASSERT_EQ(r.work.second.size(), 1u);
    EXPECT_TRUE(r.work.second[0] == w.second[0]);
    // Nothing to compare yet is a document too.
    CompareWorkRead empty = compare_work_from_json(compare_work_to_json(CompareWork()));
    ASSERT_TRUE(empty.ok) << empty.error;
    EXPECT_TRUE(empty.work.outputs.empty());
    EXPECT_FALSE(empty.work.has_second);
}

TEST(CompareWork, ADamagedDocumentIsRefusedWholeNamingTheField) {
    const json good = json::parse(compare_work_to_json(sample()));
    auto with = [&](auto change) {
        json c = good;
        change(c);
        return c.dump();
    };
    struct Bad {
        std::string text;
        const char* error;
    };
    const Bad bad[] = {
        {"{", "not valid JSON"},
        {R"({"format": "endoscribe-annotations", "version": 1})", "format: "},
        {with([](json& c) { c["version"] = 2; }), "version: 2 is newer"},
        {with([](json& c) { c.erase("model_outputs"); }), "model_outputs: should be a list"},
        {with([](json& c) { c["model_outputs"][1]["image"] = ""; }), "model_outputs[1].image: missing"},
        {with([](json& c) { c["model_outputs"][1]["image"] = "image-1.png"; }), "model_outputs[1].image: \"image-1.png\" is listed twice"},
        {with([](json& c) { c["model_outputs"][0]["probability"] = 1.5; }), "model_outputs[0].probability"},
        {with([](json& c) { c["model_outputs"][0]["classified"] = "yes"; }), "model_outputs[0].classified"},
        {with([](json& c) { c["model_outputs"][0]["boxes"][1] = json::array({1, 2, -3, 4}); }), "model_outputs[0].boxes[1]"},
        {with([](json& c) { c["annotator_b"]["name"] = 3; }), "annotator_b.name"},
        {with([](json& c) { c["annotator_b"]["coco"]["annotations"] = 7; }), "annotator_b.coco.annotations"},
    };
    for (const Bad& b : bad) {
        CompareWorkRead r = compare_work_from_json(b.text);
        EXPECT_FALSE(r.ok) << b.error;
        EXPECT_NE(r.error.find(b.error), std::string::npos) << "want \"" << b.error << "\", got \"" << r.error << "\"";
        EXPECT_TRUE(r.work.outputs.empty() && !r.work.has_second) << b.error;  // nothing half-read
    }
}
