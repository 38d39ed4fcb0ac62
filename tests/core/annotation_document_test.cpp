// One annotation document as the app edits it, on the core alone: box,
// polygon and SAM mask added, moved, restyled and converted through undoable
// commands; everything undone and redone; saved to COCO and read back
// identical; a hostile file refused with nothing changed.
#include <gtest/gtest.h>

#include "annotation/annotation_history.h"
#include "annotation/coco.h"
#include "mask/connected_components.h"
#include "mask/contour.h"

using namespace es;

namespace {

Annotation make(AnnotationKind kind, const char* label) {
    Annotation a;
    a.kind = kind;
    a.label = label;
    return a;
}

// Adds `a` with the image's next id, as the app does; 0 when refused.
uint64_t add(AnnotationHistory& h, std::vector<ImageAnnotations>& doc, Annotation a, std::string* err) {
    ImageAnnotations& img = doc[0];
    a.id = img.next_id;
    if (!validate_annotation(a, img.width, img.height, err)) return 0;
    uint64_t id = a.id;
    return h.apply(doc, AnnotationCommand::add(img.image, std::move(a)), err) ? id : 0;
}

template <class F>
bool modify(AnnotationHistory& h, std::vector<ImageAnnotations>& doc, uint64_t id, F f) {
    const Annotation* a = doc[0].find(id);
    if (!a) return false;
    Annotation after = *a;
    f(after);
    return h.apply(doc, AnnotationCommand::modify(doc[0].image, *a, std::move(after)));
}

}  // namespace

TEST(AnnotationDocument, EditUndoRedoCocoRoundTrip) {
    std::vector<ImageAnnotations> doc(1);
    doc[0].image = "img.png";
    doc[0].width = 100;
    doc[0].height = 80;
    AnnotationHistory h;
    std::string err;

    Annotation box = make(AnnotationKind::Box, "polyps");
    box.box = Box{10, 10, 20, 15};
    uint64_t b = add(h, doc, box, &err);
    Annotation poly = make(AnnotationKind::Polygon, "ulcer");
    poly.polygons = {{{50, 10}, {70, 10}, {60, 30}}};
    uint64_t p = add(h, doc, poly, &err);
    Annotation mask = make(AnnotationKind::Mask, "polyps");
    mask.mask = Mask(100, 80);
    for (int i = 0; i < 400; ++i) mask.mask.data[size_t(4000 + i)] = 1;  // rows 40..43
    mask.source = "sam";
    uint64_t m = add(h, doc, mask, &err);
    ASSERT_TRUE(b && p && m) << err;
    ASSERT_TRUE(modify(h, doc, b, [](Annotation& a) { annotation_translate(a, 5, 5); }));
    ASSERT_TRUE(modify(h, doc, p, [](Annotation& a) { a.opacity = 0.8f; }));
    ASSERT_TRUE(modify(h, doc, m, [](Annotation& a) { a.visible = false; }));
    EXPECT_EQ(annotation_bounds(*doc[0].find(b)), (Box{15, 15, 20, 15}));
    EXPECT_EQ(count_regions(doc[0].find(m)->mask), 1);

    // An unlabelled annotation is refused by name and recorded nowhere.
    EXPECT_EQ(add(h, doc, make(AnnotationKind::Box, ""), &err), 0u);
    EXPECT_NE(err.find("no label"), std::string::npos) << err;
    EXPECT_EQ(h.undo_steps(), 6u);

    const std::vector<ImageAnnotations> done = doc;
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(h.undo(doc));
    EXPECT_TRUE(doc[0].items.empty());
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(h.redo(doc));
    EXPECT_EQ(doc, done);

    CocoExportOptions o;
    o.compressed_rle = true;
    const std::string coco = export_coco(doc, {}, o);
    CocoImport bad = import_coco(R"({"images": [1]})");
    EXPECT_FALSE(bad.ok);
    EXPECT_NE(bad.error.find("images[0]"), std::string::npos) << bad.error;
    CocoImport back = import_coco(coco);
    ASSERT_TRUE(back.ok) << back.error;
    ASSERT_EQ(back.images.size(), 1u);
    EXPECT_EQ(back.images[0].items, done[0].items);
    // Mask -> polygon is one undoable step; the outline keeps the mask's extent.
    ASSERT_TRUE(modify(h, doc, m, [](Annotation& a) {
        a.polygons = mask_to_polygons(a.mask, 1.0, 4).polygons;
        a.kind = AnnotationKind::Polygon;
        a.mask = Mask();
    }));
    EXPECT_EQ(doc[0].find(m)->kind, AnnotationKind::Polygon);
    EXPECT_EQ(annotation_bounds(*doc[0].find(m)), (Box{0, 40, 100, 4}));
    ASSERT_TRUE(h.undo(doc));
    EXPECT_EQ(doc, done);
}
