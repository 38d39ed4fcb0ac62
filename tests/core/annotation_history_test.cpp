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

// The saved history, loaded into a fresh history next to the same annotations,
// undoes and redoes exactly as the original would have.
TEST(AnnotationHistory, SavedFormRoundTripsUndoAndRedo) {
    auto images = doc();
    AnnotationHistory h;
    ASSERT_TRUE(h.apply(images, AnnotationCommand::add("a.jpg", box(1, 0), "Add box")));
    Annotation m;
    m.id = 2;
    m.label = "polyps";
    m.kind = AnnotationKind::Mask;
    m.mask = Mask(100, 80);
    mask_paint_disc(m.mask, 30, 30, 9, 1);
    m.source = "sam";
    m.opacity = 0.3f;
    ASSERT_TRUE(h.apply(images, AnnotationCommand::add("a.jpg", m, "Add mask")));
    Annotation poly;
    poly.id = 3;
    poly.label = "lesion";
    poly.kind = AnnotationKind::Polygon;
    poly.polygons = {{{1.5, 2}, {20, 2}, {20, 30.25}}};
    Annotation pt;
    pt.id = 4;
    pt.label = "polyps";
    pt.kind = AnnotationKind::Point;
    pt.point = {7.5, 8};
    pt.visible = false;
    ASSERT_TRUE(h.apply(images, AnnotationCommand::batch({AnnotationCommand::add("a.jpg", poly),
                                                          AnnotationCommand::add("a.jpg", pt)}, "Add two")));
    Annotation moved = box(1, 12);
    ASSERT_TRUE(h.apply(images, AnnotationCommand::modify("a.jpg", box(1, 0), moved, "Move box 1")));
    ASSERT_TRUE(h.apply(images, AnnotationCommand::remove("a.jpg", m, "Delete mask")));
    ASSERT_TRUE(h.undo(images));  // one redo step to save as well
    const std::string saved = h.to_json();

    AnnotationHistory loaded;
    std::string err;
    ASSERT_TRUE(loaded.from_json(saved, &err)) << err;
    EXPECT_EQ(loaded.undo_steps(), 4u);
    EXPECT_EQ(loaded.redo_steps(), 1u);
    EXPECT_EQ(loaded.undo_description(), "Move box 1");
    EXPECT_EQ(loaded.redo_description(), "Delete mask");
    EXPECT_EQ(loaded.to_json(), saved);

    auto a = images, b = images;
    ASSERT_TRUE(h.redo(a));
    ASSERT_TRUE(loaded.redo(b, &err)) << err;
    EXPECT_EQ(a, b);
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(h.undo(a));
        ASSERT_TRUE(loaded.undo(b, &err)) << err;
        EXPECT_EQ(a, b) << "after undo " << i;
    }
    EXPECT_FALSE(loaded.can_undo());
    EXPECT_TRUE(b[0].items.empty());
}

TEST(AnnotationHistory, SavedFormKeepsOnlyTheNewestSteps) {
    auto images = doc();
    AnnotationHistory h;
    for (uint64_t id = 1; id <= 30; ++id) ASSERT_TRUE(h.apply(images, AnnotationCommand::add("a.jpg", box(id, double(id)), "Add " + std::to_string(id))));
    AnnotationHistory loaded;
    ASSERT_TRUE(loaded.from_json(h.to_json(10)));
    EXPECT_EQ(loaded.undo_steps(), 10u);
    EXPECT_EQ(loaded.undo_description(), "Add 30");
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(loaded.undo(images));
    EXPECT_EQ(images[0].items.size(), 20u);
    EXPECT_FALSE(loaded.undo(images));
}

TEST(AnnotationHistory, BadSavedFormChangesNothing) {
    auto images = doc();
    AnnotationHistory h;
    ASSERT_TRUE(h.apply(images, AnnotationCommand::add("a.jpg", box(1, 0), "Add box")));
    const std::string before = h.to_json();
    std::string err;
    for (const char* bad : {"", "[]", "{\"format\":\"endoscribe-history\",\"version\":2,\"done\":[],\"undone\":[]}",
                            "{\"format\":\"endoscribe-history\",\"version\":1,\"done\":[{\"type\":\"jump\"}],\"undone\":[]}",
                            "{\"format\":\"endoscribe-history\",\"version\":1,\"done\":[{\"type\":\"add\",\"image\":\"a.jpg\",\"after\":{\"id\":1,\"label\":\"x\",\"kind\":\"box\",\"box\":[0,0,1]}}],\"undone\":[]}",
                            "{\"format\":\"endoscribe-history\",\"version\":1,\"done\":[{\"type\":\"add\",\"image\":\"a.jpg\",\"after\":{\"id\":1,\"label\":\"x\",\"kind\":\"mask\",\"mask\":{\"width\":4,\"height\":4,\"rle\":\"zz\"}}}],\"undone\":[]}"}) {
        err.clear();
        EXPECT_FALSE(h.from_json(bad, &err)) << bad;
        EXPECT_FALSE(err.empty()) << bad;
        EXPECT_EQ(h.to_json(), before) << bad;
    }
}

// Saving after every change reuses each step's saved form: through applies,
// undos and redos the result equals that of the same history saved only once,
// at the end.
TEST(AnnotationHistory, SavedFormFollowsUndoAndRedo) {
    auto run = [](bool save_between) {
        auto images = doc();
        AnnotationHistory h;
        std::string last;
        auto step = [&](bool ok) {
            EXPECT_TRUE(ok);
            if (save_between) last = h.to_json();
        };
        step(h.apply(images, AnnotationCommand::add("a.jpg", box(1, 0), "Add 1")));
        step(h.apply(images, AnnotationCommand::add("a.jpg", box(2, 10), "Add 2")));
        step(h.apply(images, AnnotationCommand::remove("a.jpg", box(1, 0), "Delete 1")));
        step(h.undo(images));
        step(h.apply(images, AnnotationCommand::modify("a.jpg", box(1, 0), box(1, 30), "Move 1")));
        step(h.undo(images));
        step(h.undo(images));
        step(h.redo(images));
        return h.to_json();
    };
    EXPECT_EQ(run(true), run(false));
}

TEST(AnnotationHistory, SavedFormKeepsMasksWithinABudget) {
    auto images = doc();
    AnnotationHistory h;
    Annotation m;
    m.id = 1;
    m.label = "polyps";
    m.kind = AnnotationKind::Mask;
    m.mask = Mask(100, 80);
    ASSERT_TRUE(h.apply(images, AnnotationCommand::add("a.jpg", m, "Add mask")));
    std::vector<Mask> after;  // the mask after brush step i
    for (int i = 0; i < 9; ++i) {
        Annotation next = m;
        mask_paint_disc(next.mask, 10 + 8 * i, 40, 3, 1);
        ASSERT_TRUE(h.apply(images, AnnotationCommand::modify("a.jpg", m, next, "Brush " + std::to_string(i))));
        m = next;
        after.push_back(m.mask);
    }
    ASSERT_TRUE(h.apply(images, AnnotationCommand::add("a.jpg", box(2, 0), "Add box")));
    // A brush step holds two 100x80 masks: a budget of 5 masks keeps the box and two brush steps.
    AnnotationHistory loaded;
    ASSERT_TRUE(loaded.from_json(h.to_json(200, 5 * 100 * 80)));
    EXPECT_EQ(loaded.undo_steps(), 3u);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(loaded.undo(images));
    EXPECT_EQ(images[0].items.size(), 1u);
    EXPECT_EQ(images[0].items[0].mask, after[6]);  // brush steps 7 and 8 undone
    EXPECT_FALSE(loaded.undo(images));
}
