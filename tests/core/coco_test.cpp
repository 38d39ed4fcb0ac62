#include "annotation/coco.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mask/rle.h"

using namespace es;
using json = nlohmann::json;

static std::vector<ImageAnnotations> sample() {
    ImageAnnotations a;
    a.image = "case1/img_001.jpg";
    a.width = 64;
    a.height = 48;
    Annotation box;
    box.id = 1;
    box.label = "polyps";
    box.kind = AnnotationKind::Box;
    box.box = Box{3.5, 4.25, 20, 10};
    Annotation poly;
    poly.id = 2;
    poly.label = "polyps";
    poly.kind = AnnotationKind::Polygon;
    poly.polygons = {{{10, 10}, {30.5, 10}, {30.5, 25}, {10, 25}}, {{40, 5}, {50, 5}, {45, 12.75}}};
    poly.visible = false;
    poly.opacity = 0.25f;
    Annotation mask;
    mask.id = 5;
    mask.label = "ulcerative-colitis-grade-2";
    mask.kind = AnnotationKind::Mask;
    mask.mask = Mask(64, 48);
    mask_paint_disc(mask.mask, 30, 30, 9, 1);
    mask_paint_disc(mask.mask, 30, 30, 3, 0);  // a hole: masks keep it
    mask.source = "sam";
    Annotation pt;
    pt.id = 6;
    pt.label = "z-line";
    pt.kind = AnnotationKind::Point;
    pt.point = Point{12.5, 40};
    a.items = {box, poly, mask, pt};
    a.next_id = 9;
    ImageAnnotations b;
    b.image = "case1/img_002.png";
    b.width = 10;
    b.height = 10;
    return {a, b};
}

TEST(Coco, RoundTripIsLossless) {
    auto images = sample();
    for (bool compressed : {false, true}) {
        CocoExportOptions o;
        o.compressed_rle = compressed;
        std::string text = export_coco(images, {{7, "polyps", "lower-gi"}}, o);
        CocoImport r = import_coco(text);
        ASSERT_TRUE(r.ok) << r.error;
        ASSERT_EQ(r.images.size(), 2u);
        EXPECT_EQ(r.images[0], images[0]);
        EXPECT_EQ(r.images[1], images[1]);
        ASSERT_EQ(r.categories.size(), 3u);
        EXPECT_EQ(r.categories[0], (CocoCategory{7, "polyps", "lower-gi"}));
        EXPECT_EQ(r.categories[1].id, 8);  // new labels get the next free ids
        // Export → import → export gives the same bytes.
        EXPECT_EQ(export_coco(r.images, r.categories, o), text);
    }
}

TEST(Coco, FollowsTheSpec) {
    json j = json::parse(export_coco(sample(), {}));
    ASSERT_TRUE(j["images"].is_array());
    EXPECT_EQ(j["images"][0]["width"], 64);
    EXPECT_EQ(j["images"][0]["height"], 48);
    const json& anns = j["annotations"];
    ASSERT_EQ(anns.size(), 4u);
    for (const json& a : anns) {
        EXPECT_TRUE(a["id"].is_number_integer());
        EXPECT_TRUE(a["bbox"].is_array());
        EXPECT_EQ(a["bbox"].size(), 4u);
        EXPECT_TRUE(a["area"].is_number());
        EXPECT_TRUE(a.contains("segmentation"));
    }
    // Box: segmentation empty, area w*h.
    EXPECT_EQ(anns[0]["area"], 200);
    EXPECT_EQ(anns[0]["iscrowd"], 0);
    // Polygon: list of flat rings, bbox around all rings, iscrowd 0.
    EXPECT_EQ(anns[1]["segmentation"].size(), 2u);
    EXPECT_EQ(anns[1]["segmentation"][0].size(), 8u);
    EXPECT_EQ(anns[1]["bbox"], json::parse("[10, 5, 40, 20]"));
    // Mask: RLE with iscrowd 1, size [h, w], counts summing to h*w, area = pixels.
    const json& seg = anns[2]["segmentation"];
    EXPECT_EQ(anns[2]["iscrowd"], 1);
    EXPECT_EQ(seg["size"], json::parse("[48, 64]"));
    uint64_t total = 0, ones = 0;
    for (size_t i = 0; i < seg["counts"].size(); ++i) {
        total += seg["counts"][i].get<uint64_t>();
        if (i % 2) ones += seg["counts"][i].get<uint64_t>();
    }
    EXPECT_EQ(total, 64u * 48u);
    EXPECT_EQ(anns[2]["area"].get<uint64_t>(), ones);
    // Category ids referenced exist.
    std::set<int64_t> cats;
    for (const json& c : j["categories"]) cats.insert(c["id"].get<int64_t>());
    for (const json& a : anns) EXPECT_TRUE(cats.count(a["category_id"].get<int64_t>()));
}

TEST(Coco, ImportsOtherToolsFiles) {
    // As CVAT / Label Studio write them: no endoscribe fields, float bbox,
    // uncompressed RLE for a crowd mask, compressed RLE, a flat polygon.
    const char* text = R"({
      "images": [{"id": 10, "file_name": "a.jpg", "width": 4, "height": 3}],
      "categories": [{"id": 1, "name": "polyp", "supercategory": ""}],
      "annotations": [
        {"id": 100, "image_id": 10, "category_id": 1, "bbox": [0.5, 0.5, 2.0, 1.5], "area": 3.0, "iscrowd": 0, "segmentation": []},
        {"id": 101, "image_id": 10, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4, "iscrowd": 0,
         "segmentation": [[0, 0, 2, 0, 2, 2, 0, 2]]},
        {"id": 102, "image_id": 10, "category_id": 1, "bbox": [1, 0, 2, 3], "area": 6, "iscrowd": 1,
         "segmentation": {"size": [3, 4], "counts": [3, 6, 3]}},
        {"id": 103, "image_id": 10, "category_id": 1, "bbox": [1, 0, 2, 3], "area": 6, "iscrowd": 1,
         "segmentation": {"size": [3, 4], "counts": "363"}},
        {"id": 104, "image_id": 10, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4, "iscrowd": 0,
         "segmentation": [0, 0, 2, 0, 2, 2]}
      ]})";
    CocoImport r = import_coco(text);
    ASSERT_TRUE(r.ok) << r.error;
    const auto& items = r.images[0].items;
    ASSERT_EQ(items.size(), 5u);
    EXPECT_EQ(items[0].kind, AnnotationKind::Box);
    EXPECT_TRUE(items[0].box == (Box{0.5, 0.5, 2.0, 1.5}));
    EXPECT_EQ(items[1].kind, AnnotationKind::Polygon);
    EXPECT_EQ(items[2].kind, AnnotationKind::Mask);
    EXPECT_EQ(items[2].mask.count(), 6u);
    EXPECT_EQ(items[2].mask.at(1, 0), 1);
    EXPECT_EQ(items[2].mask.at(0, 0), 0);
    EXPECT_EQ(items[3].mask, items[2].mask);
    EXPECT_EQ(items[4].polygons.size(), 1u);
    EXPECT_EQ(items[0].label, "polyp");
    EXPECT_EQ(items[0].id, 1u);  // numbered in file order
    EXPECT_EQ(items[4].id, 5u);
    EXPECT_EQ(r.images[0].next_id, 6u);
}

static std::string bad(const std::string& annotation, const std::string& extra_images = "") {
    return R"({"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 3})" + extra_images +
           R"(], "categories": [{"id": 1, "name": "polyp"}], "annotations": [)" + annotation + "]}";
}

TEST(Coco, HostileFilesAreRejectedWithAReason) {
    struct Case {
        std::string text, expect;
    };
    std::vector<Case> cases = {
        {"", "not valid JSON"},
        {"{\"images\": [", "not valid JSON"},
        {"[]", "top level"},
        {"{}", "missing \"images\""},
        {"{\"images\": {}}", "must be an array"},
        {std::string(100000, '[') + std::string(100000, ']'), "nested deeper"},
        {R"({"images": [{"id": 1, "file_name": "a", "width": 1e300, "height": 3}]})", "width"},
        {R"({"images": [{"id": 1, "file_name": "a", "width": -4, "height": 3}]})", "width"},
        {R"({"images": [{"id": 1, "file_name": "a", "width": "4", "height": 3}]})", "must be an integer"},
        {R"({"images": [{"id": 99999999999999999999999, "file_name": "a", "width": 4, "height": 3}]})", "id"},
        {R"({"images": [{"id": 1, "file_name": "a", "width": 4, "height": 3}, {"id": 1, "file_name": "b", "width": 4, "height": 3}]})", "duplicate image id"},
        {bad(R"({"id": 1, "image_id": 2, "category_id": 1, "bbox": [0,0,1,1]})"), "no image with id 2"},
        {bad(R"({"id": 1, "image_id": 1, "category_id": 9, "bbox": [0,0,1,1]})"), "no category"},
        {bad(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [0,0,1,1]},{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0,0,1,1]})"), "duplicate annotation id"},
        {bad(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [0,0,-1,1]})"), "negative"},
        {bad(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [0,0,1e308,1]})"), "out of range"},
        {bad(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [0,0,100,1]})"), "outside"},
        {bad(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [0,0,1]})"), "bbox"},
        {bad(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": ["0",0,1,1]})"), "must be a number"},
        {bad(R"({"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[0,0,1,0,1]]})"), "even count"},
        {bad(R"({"id": 1, "image_id": 1, "category_id": 1, "segmentation": {"size": [3, 5], "counts": [15]}})"), "does not match"},
        {bad(R"({"id": 1, "image_id": 1, "category_id": 1, "segmentation": {"size": [3, 4], "counts": [4294967295, 4294967295]}})"), "more than height*width"},
        {bad(R"({"id": 1, "image_id": 1, "category_id": 1, "segmentation": {"size": [3, 4], "counts": [5, 99999999999]}})"), "counts[1]"},
        {bad(R"({"id": 1, "image_id": 1, "category_id": 1, "segmentation": {"size": [3, 4], "counts": "oooooooooooo1"}})"), "too long"},
        {bad(R"({"id": 1, "image_id": 1, "category_id": 1, "segmentation": {"size": [3, 4], "counts": 12}})"), "string or a list"},
        {bad(R"({"id": 1, "image_id": 1, "category_id": 1, "segmentation": "x"})"), "segmentation"},
        {bad(R"({"id": 1, "image_id": 1, "category_id": 1, "endoscribe": {"kind": "mask"}, "bbox": [0,0,1,1]})"), "needs RLE"},
        {bad(R"({"id": 1, "image_id": 1, "category_id": 1, "endoscribe": {"opacity": 7}, "bbox": [0,0,1,1]})"), "opacity"},
        {bad(R"({"id": 1, "image_id": 1, "category_id": 1})"), "needs a bbox"},
    };
    for (const Case& c : cases) {
        CocoImport r = import_coco(c.text);
        EXPECT_FALSE(r.ok) << c.text.substr(0, 200);
        EXPECT_NE(r.error.find(c.expect), std::string::npos) << "error was: " << r.error;
        EXPECT_TRUE(r.images.empty());  // nothing partial
        EXPECT_TRUE(r.categories.empty());
    }
}

TEST(Coco, OnlyTheKindsShapeIsKept) {
    // Found by fuzz_coco: a box that also carries keypoints must not keep a
    // point that its export drops (the round trip would then differ).
    std::string text = bad(R"({"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 1], "keypoints": [2, 2, 2]})");
    CocoImport r = import_coco(text);
    ASSERT_TRUE(r.ok) << r.error;
    ASSERT_EQ(r.images[0].items.size(), 1u);
    EXPECT_EQ(r.images[0].items[0].kind, AnnotationKind::Box);
    CocoImport back = import_coco(export_coco(r.images, r.categories));
    ASSERT_TRUE(back.ok) << back.error;
    EXPECT_EQ(back.images[0], r.images[0]);
}

TEST(Coco, LimitsAreEnforced) {
    CocoLimits lim;
    lim.max_mask_pixels_total = 20;
    std::string two_masks = bad(R"({"id": 1, "image_id": 1, "category_id": 1, "segmentation": {"size": [3, 4], "counts": [12]}},
                                   {"id": 2, "image_id": 1, "category_id": 1, "segmentation": {"size": [3, 4], "counts": [12]}})");
    EXPECT_TRUE(import_coco(two_masks).ok);
    CocoImport r = import_coco(two_masks, lim);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("memory limit"), std::string::npos);
    lim = CocoLimits{};
    lim.max_bytes = 10;
    EXPECT_FALSE(import_coco(two_masks, lim).ok);
}
