#include "annotation/label_set.h"

#include <cmath>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "json/json_syntax.h"

namespace es {

using json = nlohmann::json;

const LabelDef* LabelSet::find_label(const std::string& id) const {
    for (const LabelDef& l : labels)
        if (l.id == id) return &l;
    return nullptr;
}

const AttributeDef* LabelSet::find_attribute(const std::string& id) const {
    for (const AttributeDef& a : attributes)
        if (a.id == id) return &a;
    return nullptr;
}

std::vector<std::string> LabelSet::label_path(const std::string& id) const {
    std::vector<std::string> path;
    const LabelDef* l = find_label(id);
    while (l && path.size() <= labels.size()) {
        path.insert(path.begin(), l->id);
        l = l->parent.empty() ? nullptr : find_label(l->parent);
    }
    return path;
}

std::vector<std::string> LabelSet::children(const std::string& parent) const {
    std::vector<std::string> out;
    for (const LabelDef& l : labels)
        if (l.parent == parent) out.push_back(l.id);
    return out;
}

bool is_valid_label_id(const std::string& id) {
    if (id.empty() || id.size() > 64) return false;
    for (size_t i = 0; i < id.size(); ++i) {
        char c = id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '-' || c == '_' || c == '.'));
        if (!ok) return false;
    }
    return true;
}

static bool is_color(const std::string& c) {
    if (c.size() != 7 || c[0] != '#') return false;
    for (size_t i = 1; i < 7; ++i)
        if (!isxdigit(static_cast<unsigned char>(c[i]))) return false;
    return true;
}

bool validate_label_set(const LabelSet& s, std::string* error) {
    auto fail = [&](const std::string& m) {
        if (error) *error = "label set '" + s.id + "': " + m;
        return false;
    };
    if (!is_valid_label_id(s.id)) return fail("id must be lower-case letters, digits, '-', '_' or '.'");
    if (s.name.empty() || s.name.size() > 200) return fail("needs a name");
    if (s.labels.empty() && s.attributes.empty()) return fail("has no labels and no attributes");
    std::map<std::string, std::set<std::string>> dims;
    for (const LabelDimension& d : s.dimensions) {
        if (!is_valid_label_id(d.id)) return fail("dimension id '" + d.id + "' is not valid");
        if (dims.count(d.id)) return fail("duplicate dimension '" + d.id + "'");
        auto& vals = dims[d.id];
        for (const LabelOption& v : d.values) {
            if (!is_valid_label_id(v.id)) return fail("dimension '" + d.id + "' value id '" + v.id + "' is not valid");
            if (v.name.empty()) return fail("dimension '" + d.id + "' value '" + v.id + "' needs a name");
            if (!vals.insert(v.id).second) return fail("duplicate value '" + v.id + "' in dimension '" + d.id + "'");
        }
    }
    std::set<std::string> ids;
    for (const LabelDef& l : s.labels) {
        if (!is_valid_label_id(l.id)) return fail("label id '" + l.id + "' is not valid");
        if (!ids.insert(l.id).second) return fail("duplicate label '" + l.id + "'");
        if (l.name.empty() || l.name.size() > 200) return fail("label '" + l.id + "' needs a name");
        if (!l.color.empty() && !is_color(l.color)) return fail("label '" + l.id + "' color must be #rrggbb");
        if (l.count < -1) return fail("label '" + l.id + "' count is negative");
        for (const auto& [dim, val] : l.groups) {
            auto it = dims.find(dim);
            if (it == dims.end()) return fail("label '" + l.id + "' uses unknown dimension '" + dim + "'");
            if (!it->second.count(val)) return fail("label '" + l.id + "' uses unknown value '" + val + "' of '" + dim + "'");
        }
    }
    for (const LabelDef& l : s.labels) {
        if (l.parent.empty()) continue;
        if (!ids.count(l.parent)) return fail("label '" + l.id + "' has unknown parent '" + l.parent + "'");
        // Walk up: a cycle never reaches a root.
        std::set<std::string> seen{l.id};
        const LabelDef* p = s.find_label(l.parent);
        while (p) {
            if (!seen.insert(p->id).second) return fail("labels form a cycle through '" + l.id + "'");
            p = p->parent.empty() ? nullptr : s.find_label(p->parent);
        }
    }
    std::set<std::string> attr_ids;
    for (const AttributeDef& a : s.attributes) {
        if (!is_valid_label_id(a.id)) return fail("attribute id '" + a.id + "' is not valid");
        if (!attr_ids.insert(a.id).second) return fail("duplicate attribute '" + a.id + "'");
        if (a.name.empty()) return fail("attribute '" + a.id + "' needs a name");
        static const std::set<std::string> types{"enum", "number", "integer", "text", "boolean"};
        if (!types.count(a.type)) return fail("attribute '" + a.id + "' has unknown type '" + a.type + "'");
        if (a.type == "enum") {
            if (a.options.empty()) return fail("attribute '" + a.id + "' is an enum without options");
            std::set<std::string> o;
            for (const LabelOption& v : a.options) {
                if (v.id.empty() || v.id.size() > 64) return fail("attribute '" + a.id + "' has an option without id");
                if (v.name.empty()) return fail("attribute '" + a.id + "' option '" + v.id + "' needs a name");
                if (!o.insert(v.id).second) return fail("attribute '" + a.id + "' repeats option '" + v.id + "'");
            }
        } else if (!a.options.empty()) {
            return fail("attribute '" + a.id + "' has options but is not an enum");
        }
        if (a.has_min && a.has_max && a.min > a.max) return fail("attribute '" + a.id + "' has min > max");
        for (const std::string& t : a.applies_to)
            if (!ids.count(t)) return fail("attribute '" + a.id + "' applies to unknown label '" + t + "'");
    }
    return true;
}

namespace {

struct Bad : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string str(const json& o, const char* key, bool required, const std::string& where) {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) {
        if (required) throw Bad(where + ": missing \"" + key + "\"");
        return "";
    }
    if (!it->is_string()) throw Bad(where + "." + key + ": must be a string");
    if (it->get_ref<const std::string&>().size() > 10000) throw Bad(where + "." + key + ": too long");
    return it->get<std::string>();
}

const json& arr(const json& o, const char* key, const std::string& where) {
    static const json empty = json::array();
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return empty;
    if (!it->is_array()) throw Bad(where + "." + key + ": must be a list");
    if (it->size() > 100000) throw Bad(where + "." + key + ": too many entries");
    return *it;
}

std::vector<LabelOption> options(const json& list, const std::string& where) {
    std::vector<LabelOption> out;
    for (size_t i = 0; i < list.size(); ++i) {
        std::string w = where + "[" + std::to_string(i) + "]";
        if (!list[i].is_object()) throw Bad(w + ": must be an object");
        out.push_back({str(list[i], "id", true, w), str(list[i], "name", true, w), str(list[i], "description", false, w)});
    }
    return out;
}

}  // namespace

LabelSetLoad parse_label_set(const std::string& text) {
    LabelSetLoad r;
    try {
        if (text.size() > (size_t(16) << 20)) throw Bad("file: larger than 16 MiB");
        json j;
        try {
            j = json::parse(text);
        } catch (const json::exception&) {
            const JsonSyntax syntax = check_json_syntax(text);  // line and column in words, not the exception's id
            throw Bad("file: " + (syntax.ok ? std::string("not valid JSON") : syntax.describe()));
        }
        if (!j.is_object()) throw Bad("file: top level must be an object");
        if (j.contains("format") && j["format"] != "endoscribe-label-set") throw Bad("file: format is not endoscribe-label-set");
        if (j.contains("version") && j["version"] != 1) throw Bad("file: unsupported version");
        LabelSet s;
        s.id = str(j, "id", true, "file");
        s.name = str(j, "name", true, "file");
        s.description = str(j, "description", false, "file");
        s.source = str(j, "source", false, "file");
        if (j.contains("user")) {
            if (!j["user"].is_boolean()) throw Bad("file.user: must be true or false");
            s.user = j["user"].get<bool>();
        }
        const json& dims = arr(j, "dimensions", "file");
        for (size_t i = 0; i < dims.size(); ++i) {
            std::string w = "dimensions[" + std::to_string(i) + "]";
            if (!dims[i].is_object()) throw Bad(w + ": must be an object");
            s.dimensions.push_back({str(dims[i], "id", true, w), str(dims[i], "name", true, w),
                                    options(arr(dims[i], "values", w), w + ".values")});
        }
        const json& labels = arr(j, "labels", "file");
        for (size_t i = 0; i < labels.size(); ++i) {
            std::string w = "labels[" + std::to_string(i) + "]";
            const json& l = labels[i];
            if (!l.is_object()) throw Bad(w + ": must be an object");
            LabelDef d;
            d.id = str(l, "id", true, w);
            d.name = str(l, "name", true, w);
            d.parent = str(l, "parent", false, w);
            d.description = str(l, "description", false, w);
            d.color = str(l, "color", false, w);
            if (l.contains("count")) {
                if (!l["count"].is_number_integer() || l["count"].get<int64_t>() < 0) throw Bad(w + ".count: must be a whole number >= 0");
                d.count = l["count"].get<int64_t>();
            }
            if (l.contains("groups")) {
                if (!l["groups"].is_object()) throw Bad(w + ".groups: must be an object");
                for (auto& [k, v] : l["groups"].items()) {
                    if (!v.is_string()) throw Bad(w + ".groups." + k + ": must be a string");
                    d.groups[k] = v.get<std::string>();
                }
            }
            if (l.contains("lesion")) {
                if (!l["lesion"].is_boolean()) throw Bad(w + ".lesion: must be true or false");
                d.lesion = l["lesion"].get<bool>();
            }
            if (l.contains("user_added")) d.user_added = l["user_added"].is_boolean() && l["user_added"].get<bool>();
            s.labels.push_back(std::move(d));
        }
        const json& attrs = arr(j, "attributes", "file");
        for (size_t i = 0; i < attrs.size(); ++i) {
            std::string w = "attributes[" + std::to_string(i) + "]";
            const json& a = attrs[i];
            if (!a.is_object()) throw Bad(w + ": must be an object");
            AttributeDef d;
            d.id = str(a, "id", true, w);
            d.name = str(a, "name", true, w);
            d.type = str(a, "type", true, w);
            d.description = str(a, "description", false, w);
            d.unit = str(a, "unit", false, w);
            d.options = options(arr(a, "options", w), w + ".options");
            for (const char* k : {"min", "max"}) {
                if (!a.contains(k)) continue;
                if (!a[k].is_number() || !std::isfinite(a[k].get<double>())) throw Bad(w + "." + k + ": must be a number");
                (k[1] == 'i' ? d.has_min : d.has_max) = true;
                (k[1] == 'i' ? d.min : d.max) = a[k].get<double>();
            }
            const json& to = arr(a, "applies_to", w);
            for (const json& t : to) {
                if (!t.is_string()) throw Bad(w + ".applies_to: must list label ids");
                d.applies_to.push_back(t.get<std::string>());
            }
            if (a.contains("required")) d.required = a["required"].is_boolean() && a["required"].get<bool>();
            s.attributes.push_back(std::move(d));
        }
        std::string err;
        if (!validate_label_set(s, &err)) throw Bad(err);
        r.set = std::move(s);
        r.ok = true;
    } catch (const Bad& e) {
        r.error = e.what();
    } catch (const json::exception&) {  // a value of an unexpected type; the library's text means nothing to users
        r.error = "file: a value has the wrong type";
    }
    return r;
}

std::string label_set_to_json(const LabelSet& s) {
    json j;
    j["format"] = "endoscribe-label-set";
    j["version"] = 1;
    j["id"] = s.id;
    j["name"] = s.name;
    if (!s.description.empty()) j["description"] = s.description;
    if (!s.source.empty()) j["source"] = s.source;
    if (s.user) j["user"] = true;
    auto opts = [](const std::vector<LabelOption>& v) {
        json a = json::array();
        for (const LabelOption& o : v) {
            json x{{"id", o.id}, {"name", o.name}};
            if (!o.description.empty()) x["description"] = o.description;
            a.push_back(x);
        }
        return a;
    };
    j["dimensions"] = json::array();
    for (const LabelDimension& d : s.dimensions) j["dimensions"].push_back({{"id", d.id}, {"name", d.name}, {"values", opts(d.values)}});
    j["labels"] = json::array();
    for (const LabelDef& l : s.labels) {
        json x{{"id", l.id}, {"name", l.name}};
        if (!l.parent.empty()) x["parent"] = l.parent;
        if (!l.groups.empty()) x["groups"] = l.groups;
        if (!l.color.empty()) x["color"] = l.color;
        if (l.count >= 0) x["count"] = l.count;
        if (!l.description.empty()) x["description"] = l.description;
        if (l.lesion) x["lesion"] = true;
        if (l.user_added) x["user_added"] = true;
        j["labels"].push_back(x);
    }
    j["attributes"] = json::array();
    for (const AttributeDef& a : s.attributes) {
        json x{{"id", a.id}, {"name", a.name}, {"type", a.type}};
        if (!a.description.empty()) x["description"] = a.description;
        if (!a.options.empty()) x["options"] = opts(a.options);
        if (a.has_min) x["min"] = a.min;
        if (a.has_max) x["max"] = a.max;
        if (!a.unit.empty()) x["unit"] = a.unit;
        if (!a.applies_to.empty()) x["applies_to"] = a.applies_to;
        if (a.required) x["required"] = true;
        j["attributes"].push_back(x);
    }
    return j.dump(1);
}

bool add_user_label(LabelSet& set, LabelDef label, std::string* error) {
    label.user_added = true;
    LabelSet next = set;
    next.labels.push_back(std::move(label));
    if (!validate_label_set(next, error)) return false;
    set = std::move(next);
    return true;
}

bool remove_user_label(LabelSet& set, const std::string& id, std::string* error) {
    for (size_t i = 0; i < set.labels.size(); ++i) {
        if (set.labels[i].id != id) continue;
        if (!set.labels[i].user_added) {
            if (error) *error = "label '" + id + "' ships with the set and cannot be removed";
            return false;
        }
        LabelSet next = set;
        next.labels.erase(next.labels.begin() + long(i));
        if (!validate_label_set(next, error)) return false;  // e.g. still a parent
        set = std::move(next);
        return true;
    }
    if (error) *error = "no label '" + id + "'";
    return false;
}

LabelSet make_user_label_set(const std::string& id, const std::string& name) {
    LabelSet s;
    s.id = id;
    s.name = name;
    s.user = true;
    return s;
}

}  // namespace es
