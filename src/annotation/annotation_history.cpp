#include "annotation/annotation_history.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "json/versioned_document.h"
#include "mask/rle.h"

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
    c.saved_form.clear();
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

namespace es {

// ---- saved form ----------------------------------------------------------------

namespace {

using json = nlohmann::json;

json point_json(const Point& p) { return json::array({p.x, p.y}); }

json annotation_json(const Annotation& a) {
    json j = {{"id", a.id}, {"label", a.label}, {"kind", annotation_kind_name(a.kind)}, {"visible", a.visible},
              {"opacity", a.opacity}, {"source", a.source}};
    switch (a.kind) {
        case AnnotationKind::Box: j["box"] = json::array({a.box.x, a.box.y, a.box.w, a.box.h}); break;
        case AnnotationKind::Point: j["point"] = point_json(a.point); break;
        case AnnotationKind::Polygon: {
            json rings = json::array();
            for (const Polygon& p : a.polygons) {
                json ring = json::array();
                for (const Point& q : p) ring.push_back(point_json(q));
                rings.push_back(ring);
            }
            j["polygons"] = rings;
            break;
        }
        case AnnotationKind::Mask:
            j["mask"] = {{"width", a.mask.width}, {"height", a.mask.height},
                         {"rle", a.mask.empty() ? std::string() : rle_to_string(rle_encode(a.mask))}};
            break;
    }
    return j;
}

bool number(const json& j, double& out) {
    if (!j.is_number()) return false;
    out = j.get<double>();
    return std::isfinite(out);
}

bool point_from(const json& j, Point& p) {
    return j.is_array() && j.size() == 2 && number(j[0], p.x) && number(j[1], p.y);
}

bool annotation_from(const json& j, Annotation& a, std::string& error) {
    if (!j.is_object()) return (error = "an annotation is not an object", false);
    if (!j.contains("id") || !j["id"].is_number_unsigned()) return (error = "an annotation has no id", false);
    a.id = j["id"].get<uint64_t>();
    if (!j.contains("kind") || !j["kind"].is_string() || !annotation_kind_from_name(j["kind"].get<std::string>(), a.kind))
        return (error = "annotation " + std::to_string(a.id) + ": unknown kind", false);
    if (!j.contains("label") || !j["label"].is_string()) return (error = "annotation " + std::to_string(a.id) + ": no label", false);
    a.label = j["label"].get<std::string>();
    a.visible = j.value("visible", true);
    double opacity = 0.5;
    if (j.contains("opacity") && !number(j["opacity"], opacity)) return (error = "bad opacity", false);
    a.opacity = float(opacity);
    a.source = j.contains("source") && j["source"].is_string() ? j["source"].get<std::string>() : "manual";
    const std::string where = "annotation " + std::to_string(a.id);
    switch (a.kind) {
        case AnnotationKind::Box: {
            const json& b = j.contains("box") ? j["box"] : json();
            if (!b.is_array() || b.size() != 4 || !number(b[0], a.box.x) || !number(b[1], a.box.y) ||
                !number(b[2], a.box.w) || !number(b[3], a.box.h))
                return (error = where + ": bad box", false);
            break;
        }
        case AnnotationKind::Point:
            if (!j.contains("point") || !point_from(j["point"], a.point)) return (error = where + ": bad point", false);
            break;
        case AnnotationKind::Polygon: {
            if (!j.contains("polygons") || !j["polygons"].is_array()) return (error = where + ": no polygons", false);
            for (const json& ring : j["polygons"]) {
                if (!ring.is_array()) return (error = where + ": bad polygon", false);
                Polygon p;
                for (const json& q : ring) {
                    Point pt;
                    if (!point_from(q, pt)) return (error = where + ": bad polygon point", false);
                    p.push_back(pt);
                }
                a.polygons.push_back(std::move(p));
            }
            break;
        }
        case AnnotationKind::Mask: {
            const json& m = j.contains("mask") ? j["mask"] : json();
            if (!m.is_object() || !m.contains("width") || !m.contains("height") || !m["width"].is_number_integer() ||
                !m["height"].is_number_integer() || !m.contains("rle") || !m["rle"].is_string())
                return (error = where + ": bad mask", false);
            const int w = m["width"].get<int>(), h = m["height"].get<int>();
            if (w < 0 || h < 0 || (w == 0) != (h == 0) || int64_t(w) * h > (int64_t(1) << 31))
                return (error = where + ": bad mask size", false);
            if (w == 0) break;
            Rle rle;
            std::string e;
            if (!rle_from_string(m["rle"].get<std::string>(), h, w, rle, &e) || !rle_decode(rle, a.mask, &e))
                return (error = where + ": mask: " + e, false);
            break;
        }
    }
    return true;
}

const char* type_name(AnnotationCommand::Type t) {
    switch (t) {
        case AnnotationCommand::Type::Add: return "add";
        case AnnotationCommand::Type::Remove: return "remove";
        case AnnotationCommand::Type::Modify: return "modify";
        case AnnotationCommand::Type::Batch: return "batch";
    }
    return "add";
}

json command_json(const AnnotationCommand& c) {
    using T = AnnotationCommand::Type;
    json j = {{"type", type_name(c.type)}, {"description", c.description}};
    if (c.type == T::Batch) {
        json children = json::array();
        for (const AnnotationCommand& k : c.children) children.push_back(command_json(k));
        j["children"] = children;
        return j;
    }
    j["image"] = c.image;
    j["index"] = c.index;
    if (c.type != T::Add) j["before"] = annotation_json(c.before);
    if (c.type != T::Remove) j["after"] = annotation_json(c.after);
    return j;
}

bool command_from(const json& j, AnnotationCommand& c, std::string& error, int depth) {
    using T = AnnotationCommand::Type;
    if (depth > 8) return (error = "commands nested too deeply", false);
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) return (error = "a step has no type", false);
    const std::string type = j["type"].get<std::string>();
    if (type == "add") c.type = T::Add;
    else if (type == "remove") c.type = T::Remove;
    else if (type == "modify") c.type = T::Modify;
    else if (type == "batch") c.type = T::Batch;
    else return (error = "unknown step type \"" + type + "\"", false);
    c.description = j.contains("description") && j["description"].is_string() ? j["description"].get<std::string>() : "";
    if (c.type == T::Batch) {
        if (!j.contains("children") || !j["children"].is_array()) return (error = "a batch step has no children", false);
        for (const json& k : j["children"]) {
            AnnotationCommand child;
            if (!command_from(k, child, error, depth + 1)) return false;
            c.children.push_back(std::move(child));
        }
        return true;
    }
    if (!j.contains("image") || !j["image"].is_string()) return (error = "a step names no image", false);
    c.image = j["image"].get<std::string>();
    c.index = j.contains("index") && j["index"].is_number_integer() ? j["index"].get<int>() : -1;
    if (c.type != T::Add && (!j.contains("before") || !annotation_from(j["before"], c.before, error))) {
        if (error.empty()) error = "a step has no 'before'";
        return false;
    }
    if (c.type != T::Remove && (!j.contains("after") || !annotation_from(j["after"], c.after, error))) {
        if (error.empty()) error = "a step has no 'after'";
        return false;
    }
    return true;
}

}  // namespace

static uint64_t mask_pixels(const AnnotationCommand& c) {
    uint64_t n = uint64_t(c.before.mask.width) * uint64_t(c.before.mask.height) +
                 uint64_t(c.after.mask.width) * uint64_t(c.after.mask.height);
    for (const AnnotationCommand& k : c.children) n += mask_pixels(k);
    return n;
}

std::string AnnotationHistory::to_json(size_t max_steps, uint64_t max_mask_pixels) const {
    const size_t n = std::min(max_steps, max_steps_);
    uint64_t pixels = 0;
    // Newest first (redo steps nearest the present are the last ones in
    // undone_), until a limit is reached.
    auto take = [&](const std::vector<AnnotationCommand>& steps) {
        size_t first = steps.size();
        while (first > 0 && steps.size() - first < n) {
            const uint64_t p = mask_pixels(steps[first - 1]);
            if (pixels + p > max_mask_pixels) break;
            pixels += p;
            --first;
        }
        std::string out = "[";
        for (size_t i = first; i < steps.size(); ++i) {
            if (steps[i].saved_form.empty()) steps[i].saved_form = command_json(steps[i]).dump();
            if (i > first) out += ',';
            out += steps[i].saved_form;
        }
        return out + "]";
    };
    const std::string done = take(done_);
    const std::string undone = take(undone_);
    return R"({"format":"endoscribe-history","version":1,"done":)" + done + R"(,"undone":)" + undone + "}";
}

bool AnnotationHistory::from_json(const std::string& text, std::string* error) {
    std::string e;
    const VersionedDocument opened = read_versioned_document(text, {"endoscribe-history", "an undo history", 1, ""});
    const json& j = opened.doc;
    std::vector<AnnotationCommand> done, undone;
    auto read = [&](const char* key, std::vector<AnnotationCommand>& out) {
        if (!j.contains(key) || !j[key].is_array()) return (e = std::string("no '") + key + "' list", false);
        for (const json& c : j[key]) {
            AnnotationCommand cmd;
            if (!command_from(c, cmd, e, 0)) return false;
            out.push_back(std::move(cmd));
        }
        return true;
    };
    if (!opened.ok()) {
        e = opened.error;
    } else if (read("done", done) && read("undone", undone)) {
        while (done.size() > max_steps_) done.erase(done.begin());
        done_ = std::move(done);
        undone_ = std::move(undone);
        return true;
    }
    if (error) *error = e;
    return false;
}

}  // namespace es
