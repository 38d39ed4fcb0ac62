// case.cpp: case.json writing and validated reading (see case.h). Parsing never
// throws: the WebAssembly build cannot catch exceptions, so JSON errors are
// found with a SAX pass and every access is type-checked first.
#include "case/case.h"

#include <nlohmann/json.hpp>

#include "json/versioned_document.h"

namespace es {
namespace {

using json = nlohmann::json;

struct Reader {
    std::string error;

    bool fail(const std::string& where, const std::string& what) {
        if (error.empty()) error = where + ": " + what;
        return false;
    }
    bool string_field(const json& obj, const char* key, const std::string& where, std::string& out, bool required) {
        auto it = obj.find(key);
        if (it == obj.end()) return required ? fail(where, std::string("missing \"") + key + "\"") : true;
        if (!it->is_string()) return fail(where + "." + key, "must be a string");
        out = it->get<std::string>();
        return true;
    }
    bool int_value(const json& v, const std::string& where, int64_t lo, int64_t hi, int64_t& out) {
        if (v.is_number_unsigned()) {
            uint64_t u = v.get<uint64_t>();
            if (u > uint64_t(hi))
                return fail(where, "must be from " + std::to_string(lo) + " to " + std::to_string(hi) + ", not " +
                                       std::to_string(u));
            out = int64_t(u);
        } else if (v.is_number_integer()) {
            out = v.get<int64_t>();
        } else {
            return fail(where, "must be a whole number");
        }
        if (out < lo || out > hi)
            return fail(where, "must be from " + std::to_string(lo) + " to " + std::to_string(hi) + ", not " +
                                   std::to_string(out));
        return true;
    }
    bool int_field(const json& obj, const char* key, const std::string& where, int64_t lo, int64_t hi, int64_t& out) {
        auto it = obj.find(key);
        if (it == obj.end()) return fail(where, std::string("missing \"") + key + "\"");
        return int_value(*it, where + "." + key, lo, hi, out);
    }

    bool lesion(const json& j, const std::string& where, const CaseImage& img, size_t index, Lesion& l) {
        if (!j.is_object()) return fail(where, "must be an object");
        if (!string_field(j, "id", where, l.id, false)) return false;
        if (l.id.empty()) l.id = "lesion-" + std::to_string(index + 1);
        if (!string_field(j, "label", where, l.label, false)) return false;
        if (!string_field(j, "mask", where, l.mask, false)) return false;
        if (!l.mask.empty() && !is_safe_relative_path(l.mask))
            return fail(where + ".mask", "\"" + l.mask + "\" is not a relative path inside the case folder");
        auto box = j.find("box");
        if (box == j.end()) return fail(where, "missing \"box\"");
        if (!box->is_array() || box->size() != 4) return fail(where + ".box", "must be [x1, y1, x2, y2]");
        int64_t v[4];
        const int64_t limit[4] = {img.width, img.height, img.width, img.height};
        for (size_t k = 0; k < 4; ++k)
            if (!int_value((*box)[k], where + ".box[" + std::to_string(k) + "]", 0, limit[k], v[k])) return false;
        if (v[2] <= v[0]) return fail(where + ".box", "x2 must be greater than x1");
        if (v[3] <= v[1]) return fail(where + ".box", "y2 must be greater than y1");
        l.box = {int(v[0]), int(v[1]), int(v[2]), int(v[3])};
        int64_t area = 0;
        if (j.contains("area")) {
            if (!int_value(j["area"], where + ".area", 0, (v[2] - v[0]) * (v[3] - v[1]), area)) return false;
        } else {
            area = (v[2] - v[0]) * (v[3] - v[1]);
        }
        l.area = area;
        return true;
    }

    bool image(const json& j, const std::string& where, CaseImage& img) {
        if (!j.is_object()) return fail(where, "must be an object");
        if (!string_field(j, "file", where, img.file, true)) return false;
        if (!is_safe_relative_path(img.file))
            return fail(where + ".file", "\"" + img.file + "\" is not a relative path inside the case folder");
        int64_t w, h;
        if (!int_field(j, "width", where, 1, 65535, w) || !int_field(j, "height", where, 1, 65535, h)) return false;
        img.width = int(w);
        img.height = int(h);
        if (!string_field(j, "title", where, img.title, false)) return false;
        if (img.title.empty()) img.title = img.file;
        if (!string_field(j, "location", where, img.location, false)) return false;
        auto lesions = j.find("lesions");
        if (lesions == j.end()) return true;
        if (!lesions->is_array()) return fail(where + ".lesions", "must be an array");
        for (size_t i = 0; i < lesions->size(); ++i) {
            Lesion l;
            if (!lesion((*lesions)[i], where + ".lesions[" + std::to_string(i) + "]", img, i, l)) return false;
            for (const Lesion& other : img.lesions)
                if (other.id == l.id) return fail(where + ".lesions[" + std::to_string(i) + "]", "duplicate id \"" + l.id + "\"");
            img.lesions.push_back(l);
        }
        return true;
    }
};

}  // namespace

bool is_safe_relative_path(const std::string& path) {
    if (path.empty() || path.size() > 1024 || path[0] == '/') return false;
    for (unsigned char c : path)
        if (c < 0x20 || c == 0x7F || c == '\\' || c == ':' || c == '?' || c == '#') return false;
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        std::string seg = path.substr(start, end - start);
        if (seg.empty() || seg == "." || seg == "..") return false;
        start = end + 1;
    }
    return true;
}

std::string case_to_json(const Case& c) {
    nlohmann::ordered_json j;
    j["format"] = "endoscribe-case";
    j["version"] = Case::kFormatVersion;
    j["id"] = c.id;
    j["title"] = c.title;
    j["description"] = c.description;
    j["procedure"] = c.procedure;
    j["images"] = nlohmann::ordered_json::array();
    for (const CaseImage& img : c.images) {
        nlohmann::ordered_json ji;
        ji["file"] = img.file;
        ji["width"] = img.width;
        ji["height"] = img.height;
        ji["title"] = img.title;
        ji["location"] = img.location;
        ji["lesions"] = nlohmann::ordered_json::array();
        for (const Lesion& l : img.lesions) {
            nlohmann::ordered_json jl;
            jl["id"] = l.id;
            jl["label"] = l.label;
            jl["mask"] = l.mask;
            jl["box"] = {l.box[0], l.box[1], l.box[2], l.box[3]};
            jl["area"] = l.area;
            ji["lesions"].push_back(jl);
        }
        j["images"].push_back(ji);
    }
    return j.dump(2) + "\n";
}

CaseParseResult case_from_json(const std::string& text) {
    CaseParseResult r;
    r.reason = "is not a valid case file";
    const VersionedDocument read =
        read_versioned_document(text, {"endoscribe-case", "a case file", Case::kFormatVersion, "case"});
    if (!read.ok()) {
        r.error = read.error;
        if (read.problem == DocumentProblem::NewerVersion) r.reason = "was made by a newer version of EndoScribe";
        return r;
    }
    const json& j = read.doc;
    Reader rd;
    if (!rd.string_field(j, "id", "case", r.value.id, false) ||
        !rd.string_field(j, "title", "case", r.value.title, false) ||
        !rd.string_field(j, "description", "case", r.value.description, false) ||
        !rd.string_field(j, "procedure", "case", r.value.procedure, false)) {
        r.error = rd.error;
        return r;
    }
    auto images = j.find("images");
    if (images == j.end() || !images->is_array()) {
        r.error = "case: \"images\" must be an array";
        return r;
    }
    for (size_t i = 0; i < images->size(); ++i) {
        CaseImage img;
        if (!rd.image((*images)[i], "images[" + std::to_string(i) + "]", img)) {
            r.error = rd.error;
            return r;
        }
        r.value.images.push_back(std::move(img));
    }
    r.ok = true;
    r.reason.clear();
    return r;
}

}  // namespace es
