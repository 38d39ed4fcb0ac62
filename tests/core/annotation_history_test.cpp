#include "annotation/annotation_history.h"

#include <gtest/gtest.h>

using namespace es;

static Annotation box(uint64_t id, double x) {
    Annotation a;
    a.id = id;
    a.label = "polyps";
    a.kind = AnnotationKind::Box;
    a.box = Box{x, 0, 5, 5};
    return a;
}

static std::vector<ImageAnnotations> doc() {
    ImageAnnotations i;
    i.image = "a.jpg";
    i.width = 100;
    i.height = 80;
    return {i};
}

TEST(AnnotationHistory, UndoRedoSequence) {
    auto images = doc();
    AnnotationHistory h;
    std::vector<std::vector<ImageAnnotations>> states{images};
    ASSERT_TRUE(h.apply(images, AnnotationCommand::add("a.jpg", box(1, 0), "Add box")));
    states.push_back(images);
    ASSERT_TRUE(h.apply(images, AnnotationCommand::add("a.jpg", box(2, 10))));
    states.push_back(images);
    Annotation moved = box(1, 40);
    ASSERT_TRUE(h.apply(images, AnnotationCommand::modify("a.jpg", images[0].items[0], moved, "Move")));
    states.push_back(images);
    Annotation relabel = images[0].items[1];
    relabel.label = "ulcer";
    relabel.visible = false;
    relabel.opacity = 0.9f;
    ASSERT_TRUE(h.apply(images, AnnotationCommand::modify("a.jpg", images[0].items[1], relabel, "Relabel")));
    states.push_back(images);
    ASSERT_TRUE(h.apply(images, AnnotationCommand::remove("a.jpg", images[0].items[0], "Delete")));
    states.push_back(images);
    EXPECT_EQ(images[0].items.size(), 1u);
    EXPECT_EQ(h.undo_description(), "Delete");

    // Undo all the way back, checking every intermediate state, then redo forward.
    // (Ids are never reused: next_id keeps its high-water mark through undo.)
    for (size_t k = states.size() - 1; k > 0; --k) {
        ASSERT_TRUE(h.undo(images));
        EXPECT_EQ(images[0].items, states[k - 1][0].items) << "after undo to state " << k - 1;
        EXPECT_EQ(images[0].next_id, 3u);
    }
    EXPECT_FALSE(h.can_undo());
    EXPECT_FALSE(h.undo(images));
    for (size_t k = 1; k < states.size(); ++k) {
        ASSERT_TRUE(h.redo(images));
        EXPECT_EQ(images[0].items, states[k][0].items) << "after redo to state " << k;
    }
    EXPECT_FALSE(h.can_redo());
    // Deleting restores the annotation at its original position on undo.
    ASSERT_TRUE(h.undo(images));
    EXPECT_EQ(images[0].items[0].id, 1u);
    EXPECT_EQ(images[0].items[0].box.x, 40);
    // A new action after undo drops the redo branch.
    ASSERT_TRUE(h.apply(images, AnnotationCommand::add("a.jpg", box(3, 0))));
    EXPECT_FALSE(h.can_redo());
}

TEST(AnnotationHistory, InvalidCommandsChangeNothing) {
    auto images = doc();
    AnnotationHistory h;
    ASSERT_TRUE(h.apply(images, AnnotationCommand::add("a.jpg", box(1, 0))));
    auto before = images;
    std::string err;
    EXPECT_FALSE(h.apply(images, AnnotationCommand::add("a.jpg", box(1, 0)), &err));  // duplicate id
    EXPECT_NE(err.find("already exists"), std::string::npos);
    EXPECT_FALSE(h.apply(images, AnnotationCommand::add("nope.jpg", box(2, 0)), &err));
    EXPECT_FALSE(h.apply(images, AnnotationCommand::remove("a.jpg", box(7, 0)), &err));
    EXPECT_FALSE(h.apply(images, AnnotationCommand::modify("a.jpg", box(1, 0), box(2, 0)), &err));  // id change
    // A batch is all or nothing.
    std::vector<AnnotationCommand> kids{AnnotationCommand::add("a.jpg", box(5, 0)), AnnotationCommand::add("a.jpg", box(1, 0))};
    EXPECT_FALSE(h.apply(images, AnnotationCommand::batch(kids, "Paste"), &err));
    EXPECT_EQ(images, before);
    EXPECT_EQ(h.undo_steps(), 1u);
}

TEST(AnnotationHistory, BatchAndLimit) {
    auto images = doc();
    AnnotationHistory h(3);
    std::vector<AnnotationCommand> kids;
    for (uint64_t i = 1; i <= 4; ++i) kids.push_back(AnnotationCommand::add("a.jpg", box(i, double(i))));
    ASSERT_TRUE(h.apply(images, AnnotationCommand::batch(kids, "Import")));
    EXPECT_EQ(images[0].items.size(), 4u);
    EXPECT_EQ(images[0].next_id, 5u);
    ASSERT_TRUE(h.undo(images));
    EXPECT_TRUE(images[0].items.empty());
    ASSERT_TRUE(h.redo(images));
    EXPECT_EQ(images[0].items.size(), 4u);
    for (uint64_t i = 10; i < 15; ++i) ASSERT_TRUE(h.apply(images, AnnotationCommand::add("a.jpg", box(i, 0))));
    EXPECT_EQ(h.undo_steps(), 3u);  // oldest steps fall off
}

TEST(Annotation, MaskEditsAndGeometry) {
    auto images = doc();
    AnnotationHistory h;
    Annotation m;
    m.id = 1;
    m.label = "polyps";
    m.kind = AnnotationKind::Mask;
    m.mask = Mask(100, 80);
    mask_paint_disc(m.mask, 50, 40, 10, 1);
    ASSERT_TRUE(h.apply(images, AnnotationCommand::add("a.jpg", m)));
    Annotation brushed = m;
    mask_paint_stroke(brushed.mask, 60, 40, 80, 40, 4, 1);  // brush
    ASSERT_TRUE(h.apply(images, AnnotationCommand::modify("a.jpg", m, brushed, "Brush")));
    Annotation erased = brushed;
    mask_paint_disc(erased.mask, 50, 40, 5, 0);  // eraser
    ASSERT_TRUE(h.apply(images, AnnotationCommand::modify("a.jpg", brushed, erased, "Erase")));
    EXPECT_LT(images[0].items[0].mask.count(), brushed.mask.count());
    ASSERT_TRUE(h.undo(images));
    ASSERT_TRUE(h.undo(images));
    EXPECT_EQ(images[0].items[0].mask, m.mask);
    Annotation t = m;
    annotation_translate(t, 5.2, -3.0);
    EXPECT_EQ(t.mask.count(), m.mask.count());
    EXPECT_TRUE(annotation_bounds(t) == (Box{annotation_bounds(m).x + 5, annotation_bounds(m).y - 3, annotation_bounds(m).w, annotation_bounds(m).h}));
    std::string err;
    EXPECT_TRUE(validate_annotation(m, 100, 80, &err)) << err;
    EXPECT_FALSE(validate_annotation(m, 50, 80, &err));
}
