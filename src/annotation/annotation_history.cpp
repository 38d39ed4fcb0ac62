#include "annotation/annotation_history.h"

#include <algorithm>

namespace es {

AnnotationCommand AnnotationCommand::add(const std::string& image, Annotation a, std::string d) {
    AnnotationCommand c;
    c.type = Type::Add;
    c.image = image;
    c.after = std::move(a);
    c.description = std::move(d);
    return c;
}
AnnotationCommand AnnotationCommand::remove(const std::string& image, const Annotation& a, std::string d) {
    AnnotationCommand c;
    c.type = Type::Remove;
    c.image = image;
    c.before = a;
    c.description = std::move(d);
    return c;
}
AnnotationCommand AnnotationCommand::modify(const std::string& image, const Annotation& before, Annotation after,
                                            std::string d) {
    AnnotationCommand c;
    c.type = Type::Modify;
    c.image = image;
    c.before = before;
    c.after = std::move(after);
    c.description = std::move(d);
    return c;
}
AnnotationCommand AnnotationCommand::batch(std::vector<AnnotationCommand> children, std::string d) {
    AnnotationCommand c;
    c.type = Type::Batch;
    c.children = std::move(children);
    c.description = std::move(d);
    return c;
}

static ImageAnnotations* find_image(std::vector<ImageAnnotations>& images, const std::string& key) {
    for (ImageAnnotations& i : images)
        if (i.image == key) return &i;
    return nullptr;
}

static bool fail(std::string* e, const std::string& m) {
    if (e) *e = m;
    return false;
}

bool execute_command(std::vector<ImageAnnotations>& images, AnnotationCommand& c, bool forward, std::string* e) {
    using T = AnnotationCommand::Type;
    if (c.type == T::Batch) {
        // All or nothing: on failure, roll back the children already done
        // (and the id counters they advanced).
        std::vector<uint64_t> next_ids;
        for (const ImageAnnotations& i : images) next_ids.push_back(i.next_id);
        size_t n = c.children.size();
        for (size_t k = 0; k < n; ++k) {
            AnnotationCommand& child = c.children[forward ? k : n - 1 - k];
            if (!execute_command(images, child, forward, e)) {
                for (size_t j = k; j-- > 0;) execute_command(images, c.children[forward ? j : n - 1 - j], !forward, nullptr);
                for (size_t i = 0; i < images.size() && i < next_ids.size(); ++i) images[i].next_id = next_ids[i];
                return false;
            }
        }
        return true;
    }
    ImageAnnotations* img = find_image(images, c.image);
    if (!img) return fail(e, "no image '" + c.image + "'");
    bool adding = (c.type == T::Add) == forward;
    if (c.type == T::Modify) {
        const Annotation& from = forward ? c.before : c.after;
        const Annotation& to = forward ? c.after : c.before;
        Annotation* a = img->find(from.id);
        if (!a) return fail(e, "no annotation " + std::to_string(from.id));
        if (to.id != from.id) return fail(e, "an edit cannot change an annotation's id");
        *a = to;
        return true;
    }
    if (adding) {
        const Annotation& a = c.type == T::Add ? c.after : c.before;
        if (img->find(a.id)) return fail(e, "annotation " + std::to_string(a.id) + " already exists");
        if (a.id == 0) return fail(e, "annotation id 0 is reserved");
        int at = c.index >= 0 && c.index <= int(img->items.size()) ? c.index : int(img->items.size());
        img->items.insert(img->items.begin() + at, a);
        c.index = at;
        img->next_id = std::max(img->next_id, a.id + 1);
    } else {
        const Annotation& a = c.type == T::Add ? c.after : c.before;
        int i = img->index_of(a.id);
        if (i < 0) return fail(e, "no annotation " + std::to_string(a.id));
        if (c.type == T::Remove) c.before = img->items[size_t(i)];  // exact state for undo
        c.index = i;
        img->items.erase(img->items.begin() + i);
    }
    return true;
}

bool AnnotationHistory::apply(std::vector<ImageAnnotations>& images, AnnotationCommand cmd, std::string* e) {
    if (!execute_command(images, cmd, true, e)) return false;
    done_.push_back(std::move(cmd));
    undone_.clear();
    if (done_.size() > max_steps_) done_.erase(done_.begin());
    return true;
}

bool AnnotationHistory::undo(std::vector<ImageAnnotations>& images, std::string* e) {
    if (done_.empty()) return fail(e, "nothing to undo");
    if (!execute_command(images, done_.back(), false, e)) return false;
    undone_.push_back(std::move(done_.back()));
    done_.pop_back();
    return true;
}

bool AnnotationHistory::redo(std::vector<ImageAnnotations>& images, std::string* e) {
    if (undone_.empty()) return fail(e, "nothing to redo");
    if (!execute_command(images, undone_.back(), true, e)) return false;
    done_.push_back(std::move(undone_.back()));
    undone_.pop_back();
    return true;
}

static const std::string kEmpty;
const std::string& AnnotationHistory::undo_description() const { return done_.empty() ? kEmpty : done_.back().description; }
const std::string& AnnotationHistory::redo_description() const { return undone_.empty() ? kEmpty : undone_.back().description; }

}  // namespace es
