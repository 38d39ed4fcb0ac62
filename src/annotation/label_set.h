// label_set.h: label sets as data (models/labels/*.json), validated on load,
// and extended by users with their own labels and sets.
//
// File format (format "endoscribe-label-set", version 1):
//   id, name, description, source      – strings; id is [a-z0-9][a-z0-9._-]*
//   dimensions: [{id, name, values: [{id, name}]}]   – ways to group labels
//   labels: [{id, name, parent?, groups?: {dimension: value}, color?: "#rrggbb",
//             count?: int, lesion?: bool, description?}] – parent makes a hierarchy;
//             lesion: a focal finding a clinician counts one by one (polyp, ulcer)
//   attributes: [{id, name, type: enum|number|integer|text|boolean,
//                 options?: [{id, name, description?}], min?, max?, unit?,
//                 applies_to?: [label ids], required?, description?}]
// A set needs at least one label or attribute.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace es {

struct LabelOption {
    std::string id, name, description;
};

struct LabelDimension {
    std::string id, name;
    std::vector<LabelOption> values;
};

struct LabelDef {
    std::string id, name, parent, description, color;
    std::map<std::string, std::string> groups;  // dimension id → value id
    int64_t count = -1;                          // images in the source dataset; -1 unknown
    bool lesion = false;                         // counted in the image's lesion count
    bool user_added = false;
};

struct AttributeDef {
    std::string id, name, type, description, unit;
    std::vector<LabelOption> options;  // enum
    bool has_min = false, has_max = false;
    double min = 0, max = 0;
    std::vector<std::string> applies_to;  // label ids; empty = the whole image
    bool required = false;
};

struct LabelSet {
    std::string id, name, description, source;
    bool user = false;  // made by a user in the app
    std::vector<LabelDimension> dimensions;
    std::vector<LabelDef> labels;
    std::vector<AttributeDef> attributes;

    const LabelDef* find_label(const std::string& id) const;
    const AttributeDef* find_attribute(const std::string& id) const;
    // Ancestors from the root down to the label itself (hierarchical sets).
    std::vector<std::string> label_path(const std::string& id) const;
    std::vector<std::string> children(const std::string& parent) const;
};

struct LabelSetLoad {
    bool ok = false;
    std::string error;
    LabelSet set;
};

LabelSetLoad parse_label_set(const std::string& json);
bool validate_label_set(const LabelSet& set, std::string* error);
std::string label_set_to_json(const LabelSet& set);
bool is_valid_label_id(const std::string& id);

// User additions: validated against the set; on failure the set is unchanged.
bool add_user_label(LabelSet& set, LabelDef label, std::string* error);
bool remove_user_label(LabelSet& set, const std::string& id, std::string* error);
LabelSet make_user_label_set(const std::string& id, const std::string& name);

}  // namespace es
