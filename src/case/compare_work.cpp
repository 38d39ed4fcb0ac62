// compare_work.cpp: see compare_work.h. Annotator B rides as COCO with our
// own fields (coco.h: the importer gets back exactly what was exported).
#include "case/compare_work.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "annotation/coco.h"
#include "json/versioned_document.h"

namespace es {

namespace {

using json = nlohmann::json;

const DocumentKind kKind{"endoscribe-compare-work", "the Compare tab's saved work", 1, ""};

bool finite_number(const json& v) { return v.is_number() && std::isfinite(v.get<double>()); }

}  // namespace

std::string compare_work_to_json(const CompareWork& work) {
    json outputs = json::array();
    for (const ImageModelOutputs& o : work.outputs) {
        json boxes = json::array();
        for (const Box& b : o.boxes) boxes.push_back({b.x, b.y, b.w, b.h});
        outputs.push_back({{"image", o.image},
                           {"classified", o.classified},
                           {"predicted_id", o.predicted_id},
                           {"predicted_name", o.predicted_name},
                           {"probability", std::isfinite(o.probability) ? o.probability : 0.0},
                           {"boxes", boxes}});
    }
    json j = {{"format", kKind.format}, {"version", 1}, {"model_outputs", outputs}, {"annotator_b", nullptr}};
    if (work.has_second) {
        json coco = json::parse(export_coco(work.second, {}), nullptr, false);
        j["annotator_b"] = {{"name", work.second_name}, {"kind", work.second_kind}, {"coco", coco}};
    }
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

CompareWorkRead compare_work_from_json(const std::string& text) {
    CompareWorkRead r;
    auto fail = [&](const std::string& m) {
        r.error = m;
        r.work = CompareWork();
        return r;
    };
    const VersionedDocument read = read_versioned_document(text, kKind);
    if (!read.ok()) return fail(read.error);
    const json& doc = read.doc;
    const auto outputs = doc.find("model_outputs");
    if (outputs == doc.end() || !outputs->is_array()) return fail("model_outputs: should be a list (one entry per image)");
    for (size_t i = 0; i < outputs->size(); ++i) {
        const json& o = (*outputs)[i];
        const std::string p = "model_outputs[" + std::to_string(i) + "]";
        if (!o.is_object()) return fail(p + ": should be an object");
        ImageModelOutputs m;
        for (const char* key : {"image", "predicted_id", "predicted_name"}) {
            if (o.contains(key) && !o[key].is_string()) return fail(p + "." + key + ": should be text");
        }
        m.image = o.value("image", std::string());
        if (m.image.empty()) return fail(p + ".image: missing (the image's name in the case)");
        m.predicted_id = o.value("predicted_id", std::string());
        m.predicted_name = o.value("predicted_name", std::string());
        if (o.contains("classified") && !o["classified"].is_boolean()) return fail(p + ".classified: should be true or false");
        m.classified = o.value("classified", false);
        if (o.contains("probability")) {
            if (!finite_number(o["probability"]) || o["probability"].get<double>() < 0 || o["probability"].get<double>() > 1)
                return fail(p + ".probability: should be a number from 0 to 1");
            m.probability = o["probability"].get<double>();
        }
        if (o.contains("boxes")) {
            if (!o["boxes"].is_array()) return fail(p + ".boxes: should be a list of [x, y, w, h]");
            for (size_t k = 0; k < o["boxes"].size(); ++k) {
                const json& b = o["boxes"][k];
                if (!b.is_array() || b.size() != 4 || !finite_number(b[0]) || !finite_number(b[1]) ||
                    !finite_number(b[2]) || !finite_number(b[3]) || b[2].get<double>() < 0 || b[3].get<double>() < 0)
                    return fail(p + ".boxes[" + std::to_string(k) + "]: should be [x, y, w, h] with w, h >= 0");
                m.boxes.push_back({b[0].get<double>(), b[1].get<double>(), b[2].get<double>(), b[3].get<double>()});
            }
        }
        for (const ImageModelOutputs& seen : r.work.outputs)
            if (seen.image == m.image) return fail(p + ".image: \"" + m.image + "\" is listed twice");
        r.work.outputs.push_back(std::move(m));
    }
    const auto b = doc.find("annotator_b");
    if (b != doc.end() && !b->is_null()) {
        if (!b->is_object()) return fail("annotator_b: should be an object or null");
        for (const char* key : {"name", "kind"})
            if (!b->contains(key) || !(*b)[key].is_string()) return fail(std::string("annotator_b.") + key + ": should be text");
        const auto coco = b->find("coco");
        if (coco == b->end() || !coco->is_object()) return fail("annotator_b.coco: should be B's annotations as COCO");
        CocoImport in = import_coco(coco->dump());
        if (!in.ok) return fail("annotator_b.coco." + in.error);
        r.work.has_second = true;
        r.work.second_name = (*b)["name"].get<std::string>();
        r.work.second_kind = (*b)["kind"].get<std::string>();
        r.work.second = std::move(in.images);
    }
    r.ok = true;
    return r;
}

}  // namespace es
