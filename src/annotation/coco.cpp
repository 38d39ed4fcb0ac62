#include "annotation/coco.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "json/json_syntax.h"
#include "mask/rle.h"

namespace es {

using json = nlohmann::json;

// ---- export -------------------------------------------------------------------

static json number(double v) {
    // Integers stay integers in the file (tools compare ids and sizes exactly).
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9e15) return json(int64_t(v));
    return json(v);
}

std::string export_coco(const std::vector<ImageAnnotations>& images, std::vector<CocoCategory> categories,
                        const CocoExportOptions& options) {
    std::map<std::string, int64_t> cat_id;
    int64_t next_cat = 1;
    for (const CocoCategory& c : categories) {
        cat_id.emplace(c.name, c.id);
        next_cat = std::max(next_cat, c.id + 1);
    }
    for (const ImageAnnotations& img : images)
        for (const Annotation& a : img.items)
            if (!cat_id.count(a.label)) {
                cat_id[a.label] = next_cat;
                categories.push_back({next_cat++, a.label, ""});
            }
    json out;
    out["info"] = {{"description", "EndoScribe annotations"}, {"version", "1.0"}};
    out["licenses"] = json::array();
    out["images"] = json::array();
    out["annotations"] = json::array();
    out["categories"] = json::array();
    for (const CocoCategory& c : categories)
        out["categories"].push_back({{"id", c.id}, {"name", c.name}, {"supercategory", c.supercategory}});
    int64_t ann_id = 1;
    for (size_t i = 0; i < images.size(); ++i) {
        const ImageAnnotations& img = images[i];
        int64_t image_id = int64_t(i) + 1;
        out["images"].push_back({{"id", image_id}, {"file_name", img.image}, {"width", img.width},
                                 {"height", img.height}, {"endoscribe", {{"next_id", img.next_id}}}});
        for (const Annotation& a : img.items) {
            json j;
            j["id"] = ann_id++;
            j["image_id"] = image_id;
            j["category_id"] = cat_id[a.label];
            Box b = annotation_bounds(a);
            j["bbox"] = {number(b.x), number(b.y), number(b.w), number(b.h)};
            j["area"] = number(annotation_area(a));
            j["iscrowd"] = 0;
            j["segmentation"] = json::array();
            switch (a.kind) {
                case AnnotationKind::Box: break;
                case AnnotationKind::Polygon:
                    for (const Polygon& p : a.polygons) {
                        json ring = json::array();
                        for (const Point& q : p) {
                            ring.push_back(number(q.x));
                            ring.push_back(number(q.y));
                        }
                        j["segmentation"].push_back(ring);
                    }
                    break;
                case AnnotationKind::Mask: {
                    Rle r = rle_encode(a.mask);
                    j["iscrowd"] = 1;
                    json seg;
                    seg["size"] = {r.height, r.width};
                    if (options.compressed_rle) seg["counts"] = rle_to_string(r);
                    else seg["counts"] = r.counts;
                    j["segmentation"] = seg;
                    break;
                }
                case AnnotationKind::Point:
                    j["keypoints"] = {number(a.point.x), number(a.point.y), 2};
                    j["num_keypoints"] = 1;
                    break;
            }
            j["endoscribe"] = {{"id", a.id}, {"kind", annotation_kind_name(a.kind)}, {"visible", a.visible},
                               {"opacity", a.opacity}, {"source", a.source}};
            out["annotations"].push_back(std::move(j));
        }
    }
    return out.dump(options.pretty ? 1 : -1);
}

// ---- import -------------------------------------------------------------------

namespace {

struct ImportError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& where, const std::string& what) { throw ImportError(where + ": " + what); }

const json& member(const json& o, const char* key, const std::string& where) {
    if (!o.is_object()) fail(where, "must be an object");
    auto it = o.find(key);
    if (it == o.end()) fail(where, std::string("missing \"") + key + "\"");
    return *it;
}

int64_t get_int(const json& v, const std::string& where, int64_t lo, int64_t hi) {
    int64_t x;
    if (v.is_number_integer()) {
        if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) fail(where, "number out of range");
        x = v.get<int64_t>();
    } else if (v.is_number_float()) {
        double d = v.get<double>();
        if (!std::isfinite(d) || d != std::floor(d) || d < double(lo) || d > double(hi)) fail(where, "must be an integer in range");
        x = int64_t(d);
    } else {
        fail(where, "must be an integer");
    }
    if (x < lo || x > hi) fail(where, "out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return x;
}

double get_number(const json& v, const std::string& where) {
    if (!v.is_number()) fail(where, "must be a number");
    double d = v.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > 1e9) fail(where, "number out of range");
    return d;
}

std::string get_string(const json& v, const std::string& where, size_t max_len = 4096) {
    if (!v.is_string()) fail(where, "must be a string");
    const std::string& s = v.get_ref<const std::string&>();
    if (s.size() > max_len) fail(where, "string too long");
    return s;
}

// Coordinates may sit on the image edge; allow a pixel of slack, no more.
void check_inside(double x, double y, int w, int h, const std::string& where) {
    if (x < -1 || y < -1 || x > w + 1 || y > h + 1)
        fail(where, "coordinate (" + std::to_string(x) + ", " + std::to_string(y) + ") lies outside the " +
                        std::to_string(w) + "x" + std::to_string(h) + " image");
}

}  // namespace

CocoImport import_coco(const std::string& text, const CocoLimits& lim) {
    CocoImport result;
    std::vector<ImageAnnotations> images;
    std::vector<CocoCategory> categories;
    try {
        if (text.size() > lim.max_bytes) fail("file", "larger than " + std::to_string(lim.max_bytes >> 20) + " MiB");
        if (json_nesting_depth(text, lim.max_depth) > lim.max_depth) fail("file", "nested deeper than COCO needs");
        json root;
        try {
            root = json::parse(text);
        } catch (const json::exception&) {
            const JsonSyntax syntax = check_json_syntax(text);  // line and column in words, not the exception's id
            fail("file", syntax.ok ? std::string("not valid JSON") : syntax.describe());
        }
        if (!root.is_object()) fail("file", "top level must be an object");

        // Categories.
        std::map<int64_t, size_t> cat_index;
        if (root.contains("categories")) {
            const json& jc = root["categories"];
            if (!jc.is_array()) fail("categories", "must be an array");
            if (jc.size() > 100000) fail("categories", "too many categories");
            for (size_t i = 0; i < jc.size(); ++i) {
                std::string w = "categories[" + std::to_string(i) + "]";
                CocoCategory c;
                c.id = get_int(member(jc[i], "id", w), w + ".id", INT64_MIN / 2, INT64_MAX / 2);
                c.name = get_string(member(jc[i], "name", w), w + ".name");
                if (c.name.empty()) fail(w + ".name", "is empty");
                if (jc[i].contains("supercategory") && !jc[i]["supercategory"].is_null())
                    c.supercategory = get_string(jc[i]["supercategory"], w + ".supercategory");
                if (!cat_index.emplace(c.id, categories.size()).second) fail(w + ".id", "duplicate category id " + std::to_string(c.id));
                categories.push_back(c);
            }
        }

        // Images.
        const json& jimages = member(root, "images", "file");
        if (!jimages.is_array()) fail("images", "must be an array");
        if (jimages.size() > lim.max_images) fail("images", "too many images");
        std::map<int64_t, size_t> image_index;
        std::set<std::string> names;
        for (size_t i = 0; i < jimages.size(); ++i) {
            std::string w = "images[" + std::to_string(i) + "]";
            const json& ji = jimages[i];
            int64_t id = get_int(member(ji, "id", w), w + ".id", INT64_MIN / 2, INT64_MAX / 2);
            ImageAnnotations img;
            img.image = get_string(member(ji, "file_name", w), w + ".file_name");
            if (img.image.empty()) fail(w + ".file_name", "is empty");
            img.width = int(get_int(member(ji, "width", w), w + ".width", 1, lim.max_image_side));
            img.height = int(get_int(member(ji, "height", w), w + ".height", 1, lim.max_image_side));
            if (ji.contains("endoscribe") && ji["endoscribe"].is_object() && ji["endoscribe"].contains("next_id"))
                img.next_id = uint64_t(get_int(ji["endoscribe"]["next_id"], w + ".endoscribe.next_id", 1, INT64_MAX / 2));
            if (!image_index.emplace(id, images.size()).second) fail(w + ".id", "duplicate image id " + std::to_string(id));
            if (!names.insert(img.image).second) fail(w + ".file_name", "duplicate file name '" + img.image + "'");
            images.push_back(std::move(img));
        }

        // Annotations.
        if (root.contains("annotations")) {
            const json& ja = root["annotations"];
            if (!ja.is_array()) fail("annotations", "must be an array");
            if (ja.size() > lim.max_annotations) fail("annotations", "too many annotations");
            std::set<int64_t> ann_ids;
            std::vector<std::set<uint64_t>> local_ids(images.size());
            uint64_t mask_pixels = 0;
            size_t polygon_points = 0;
            for (size_t i = 0; i < ja.size(); ++i) {
                std::string w = "annotations[" + std::to_string(i) + "]";
                const json& j = ja[i];
                int64_t coco_id = get_int(member(j, "id", w), w + ".id", INT64_MIN / 2, INT64_MAX / 2);
                if (!ann_ids.insert(coco_id).second) fail(w + ".id", "duplicate annotation id " + std::to_string(coco_id));
                int64_t image_id = get_int(member(j, "image_id", w), w + ".image_id", INT64_MIN / 2, INT64_MAX / 2);
                auto ii = image_index.find(image_id);
                if (ii == image_index.end()) fail(w + ".image_id", "no image with id " + std::to_string(image_id));
                ImageAnnotations& img = images[ii->second];
                int64_t cat = get_int(member(j, "category_id", w), w + ".category_id", INT64_MIN / 2, INT64_MAX / 2);
                auto ci = cat_index.find(cat);
                if (ci == cat_index.end()) fail(w + ".category_id", "no category with id " + std::to_string(cat));
                Annotation a;
                a.label = categories[ci->second].name;
                a.source = "import";
                int iscrowd = 0;
                if (j.contains("iscrowd")) iscrowd = int(get_int(j["iscrowd"], w + ".iscrowd", 0, 1));

                // Our extension first: it says what the annotation was.
                bool has_kind = false;
                if (j.contains("endoscribe")) {
                    const json& x = j["endoscribe"];
                    std::string wx = w + ".endoscribe";
                    if (!x.is_object()) fail(wx, "must be an object");
                    if (x.contains("id")) a.id = uint64_t(get_int(x["id"], wx + ".id", 1, INT64_MAX / 2));
                    if (x.contains("kind")) {
                        if (!annotation_kind_from_name(get_string(x["kind"], wx + ".kind"), a.kind))
                            fail(wx + ".kind", "unknown kind");
                        has_kind = true;
                    }
                    if (x.contains("visible")) {
                        if (!x["visible"].is_boolean()) fail(wx + ".visible", "must be true or false");
                        a.visible = x["visible"].get<bool>();
                    }
                    if (x.contains("opacity")) {
                        double o = get_number(x["opacity"], wx + ".opacity");
                        if (o < 0 || o > 1) fail(wx + ".opacity", "must be within 0..1");
                        a.opacity = float(o);
                    }
                    if (x.contains("source")) a.source = get_string(x["source"], wx + ".source", 64);
                }

                Box bbox;
                bool has_bbox = false;
                if (j.contains("bbox") && !j["bbox"].is_null()) {
                    const json& b = j["bbox"];
                    if (!b.is_array() || b.size() != 4) fail(w + ".bbox", "must be [x, y, width, height]");
                    bbox = Box{get_number(b[0], w + ".bbox"), get_number(b[1], w + ".bbox"), get_number(b[2], w + ".bbox"),
                               get_number(b[3], w + ".bbox")};
                    if (bbox.w < 0 || bbox.h < 0) fail(w + ".bbox", "negative width or height");
                    check_inside(bbox.x, bbox.y, img.width, img.height, w + ".bbox");
                    check_inside(bbox.x2(), bbox.y2(), img.width, img.height, w + ".bbox");
                    has_bbox = true;
                }

                // Segmentation: polygons (list of rings) or RLE (object).
                const json* seg = j.contains("segmentation") ? &j["segmentation"] : nullptr;
                bool has_polygon = false, has_rle = false;
                if (seg && seg->is_array() && !seg->empty()) {
                    // Some writers emit a single flat ring instead of a list of rings.
                    json rings = (*seg)[0].is_number() ? json::array({*seg}) : *seg;
                    for (size_t r = 0; r < rings.size(); ++r) {
                        std::string wr = w + ".segmentation[" + std::to_string(r) + "]";
                        const json& ring = rings[r];
                        if (!ring.is_array()) fail(wr, "must be a list of numbers");
                        if (ring.size() % 2 || ring.size() < 6) fail(wr, "needs an even count of at least 6 numbers");
                        polygon_points += ring.size() / 2;
                        if (polygon_points > lim.max_polygon_points) fail(wr, "too many polygon points in the file");
                        Polygon p;
                        for (size_t k = 0; k < ring.size(); k += 2) {
                            Point q{get_number(ring[k], wr), get_number(ring[k + 1], wr)};
                            check_inside(q.x, q.y, img.width, img.height, wr);
                            p.push_back(q);
                        }
                        a.polygons.push_back(std::move(p));
                    }
                    has_polygon = true;
                } else if (seg && seg->is_object()) {
                    std::string ws = w + ".segmentation";
                    const json& size = member(*seg, "size", ws);
                    if (!size.is_array() || size.size() != 2) fail(ws + ".size", "must be [height, width]");
                    int h = int(get_int(size[0], ws + ".size", 0, lim.max_image_side));
                    int wd = int(get_int(size[1], ws + ".size", 0, lim.max_image_side));
                    if (h != img.height || wd != img.width)
                        fail(ws + ".size", "[" + std::to_string(h) + ", " + std::to_string(wd) + "] does not match the image's " +
                                               std::to_string(img.height) + "x" + std::to_string(img.width));
                    mask_pixels += uint64_t(h) * uint64_t(wd);
                    if (mask_pixels > lim.max_mask_pixels_total) fail(ws, "masks in the file exceed the memory limit");
                    const json& counts = member(*seg, "counts", ws);
                    Rle rle;
                    std::string err;
                    if (counts.is_string()) {
                        if (!rle_from_string(counts.get_ref<const std::string&>(), h, wd, rle, &err)) fail(ws + ".counts", err);
                    } else if (counts.is_array()) {
                        if (counts.size() > uint64_t(h) * uint64_t(wd) + 1) fail(ws + ".counts", "more runs than pixels");
                        rle.height = h;
                        rle.width = wd;
                        for (size_t k = 0; k < counts.size(); ++k)
                            rle.counts.push_back(uint32_t(get_int(counts[k], ws + ".counts[" + std::to_string(k) + "]", 0, UINT32_MAX)));
                    } else {
                        fail(ws + ".counts", "must be a string or a list of integers");
                    }
                    if (!rle_decode(rle, a.mask, &err)) fail(ws + ".counts", err);
                    has_rle = true;
                } else if (seg && !seg->is_array() && !seg->is_null()) {
                    fail(w + ".segmentation", "must be a list of polygons or an RLE object");
                }
                (void)iscrowd;  // iscrowd=1 ⇔ RLE per the spec; we accept either way and keep the shape

                bool has_point = false;
                if (j.contains("keypoints") && j["keypoints"].is_array() && j["keypoints"].size() >= 2) {
                    a.point = Point{get_number(j["keypoints"][0], w + ".keypoints"), get_number(j["keypoints"][1], w + ".keypoints")};
                    check_inside(a.point.x, a.point.y, img.width, img.height, w + ".keypoints");
                    has_point = true;
                }

                if (!has_kind) a.kind = has_rle ? AnnotationKind::Mask : has_polygon ? AnnotationKind::Polygon
                                      : has_point && !has_bbox ? AnnotationKind::Point : AnnotationKind::Box;
                switch (a.kind) {
                    case AnnotationKind::Box:
                        if (!has_bbox) fail(w, "a box annotation needs a bbox");
                        a.box = bbox;
                        break;
                    case AnnotationKind::Polygon:
                        if (!has_polygon) fail(w, "a polygon annotation needs polygon segmentation");
                        break;
                    case AnnotationKind::Mask:
                        if (!has_rle) fail(w, "a mask annotation needs RLE segmentation");
                        break;
                    case AnnotationKind::Point:
                        if (!has_point) fail(w, "a point annotation needs keypoints");
                        break;
                }
                if (a.kind != AnnotationKind::Polygon) a.polygons.clear();
                if (a.kind != AnnotationKind::Mask) a.mask = Mask();
                if (a.kind != AnnotationKind::Point) a.point = Point{};  // only the shape of the kind is kept
                if (a.id == 0 || local_ids[ii->second].count(a.id)) {
                    a.id = img.next_id;  // files from other tools: number in file order
                    while (local_ids[ii->second].count(a.id)) ++a.id;
                }
                local_ids[ii->second].insert(a.id);
                img.next_id = std::max(img.next_id, a.id + 1);
                std::string err;
                if (!validate_annotation(a, img.width, img.height, &err)) fail(w, err);
                img.items.push_back(std::move(a));
            }
        }
    } catch (const ImportError& e) {
        result.error = e.what();
        return result;
    } catch (const json::exception&) {  // a value of an unexpected type; the library's text means nothing to users
        result.error = "file: cannot import (a value has the wrong type)";
        return result;
    } catch (const std::exception& e) {  // e.g. bad_alloc on absurd sizes
        result.error = std::string("file: cannot import (") + e.what() + ")";
        return result;
    }
    result.ok = true;
    result.images = std::move(images);
    result.categories = std::move(categories);
    return result;
}

}  // namespace es
