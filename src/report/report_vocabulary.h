// report_vocabulary.h: the report's vocabularies as data (models/report/*.json):
// MST 3.0 finding terms grouped by organ with the attributes each calls for,
// and the option lists (procedures, indications, landmarks, segments,
// sedation, interventions, resection, adverse events, Paris, NICE, JNET, BBPS,
// Mayo, LA grade, histology, ...), plus the map from the app's annotation
// labels to terms. Several files merge into one vocabulary, so a unit adds
// local terms with a file of its own. No file I/O: the caller passes the texts.
//
// File format "endoscribe-report-vocabulary", version 1 (see README.md):
//   lists: {list name: [{id, name, description?, <property>: string|number|bool ...}]}
//   attributes: [{id, name, type: enum|number|integer|boolean|text, list?, unit?, min?, max?, description?}]
//   terms: [{id, name, organs: [organ ids], group?, calls_for: [field or attribute ids],
//            requires?: [subset of calls_for], surveillance?: "polyp", description?}]
//   label_map: [{label_set, label, term?, landmark?, attributes?: {attribute id: value}}]
#pragma once
#include <map>
#include <string>
#include <vector>

namespace es {

// One option of a list. Extra keys of the file's object are kept as text in
// `properties` ("true"/"false" for flags, numbers as written by %g).
struct VocabOption {
    std::string id, name, description;
    std::map<std::string, std::string> properties;
    std::string property(const std::string& key) const;  // "" when absent
    bool flag(const std::string& key) const { return property(key) == "true"; }
};

// A term-specific finding attribute (finding.attributes[id]).
struct ReportAttribute {
    std::string id, name, type, list, unit, description;  // type: enum|number|integer|boolean|text; list: enum options
    bool has_min = false, has_max = false;
    double min = 0, max = 0;
};

struct ReportTerm {
    std::string id, name, group, description, surveillance;
    std::vector<std::string> organs;
    std::vector<std::string> calls_for;  // finding fields (location_segment, distance_cm, size_mm, number, paris, nice, jnet) and attribute ids
    std::vector<std::string> required;   // those the quality check wants filled
    bool calls(const std::string& field) const;
    bool is_required(const std::string& field) const;
};

// An annotation label of a label set (models/labels) → a finding term (with
// preset attributes, e.g. esophagitis-la-b → esophagitis with la_grade "B") or
// a landmark (cecum → caecal evidence).
struct LabelTermMapping {
    std::string label_set, label, term, landmark;
    std::map<std::string, std::string> attributes;  // attribute id → value as text ("B", "2")
};

struct ReportVocabulary {
    std::map<std::string, std::vector<VocabOption>> lists;
    std::vector<ReportAttribute> attributes;
    std::vector<ReportTerm> terms;
    std::vector<LabelTermMapping> label_map;

    const std::vector<VocabOption>* list(const std::string& name) const;  // nullptr when absent
    const VocabOption* find(const std::string& list_name, const std::string& id) const;
    bool has(const std::string& list_name, const std::string& id) const { return find(list_name, id) != nullptr; }
    const ReportTerm* find_term(const std::string& id) const;
    // Display names: the option's/term's name, or the id itself when unknown.
    std::string name_of(const std::string& list_name, const std::string& id) const;
    std::string term_name(const std::string& id) const;
    const ReportAttribute* find_attribute(const std::string& id) const;
    std::vector<const ReportTerm*> terms_for_organ(const std::string& organ) const;
    // Mapping for an annotation label; label_set "" matches any set. nullptr when none.
    const LabelTermMapping* map_label(const std::string& label_set, const std::string& label) const;
    bool empty() const { return lists.empty() && terms.empty(); }
};

// The shipped vocabulary files, in the order to load them (models/report/).
const std::vector<std::string>& report_vocabulary_file_names();

// The files to load from a vocabulary folder holding `names`: the shipped
// files in their order, then the folder's other .json files (a unit's local
// terms), sorted; surveillance rule tables are not vocabulary files.
std::vector<std::string> report_vocabulary_files_to_load(const std::vector<std::string>& names);

// The fixed finding fields a term may call for (besides attribute ids).
const std::vector<std::string>& report_finding_fields();

// Adds one vocabulary file to `vocab`. On error (message names the file's
// field, e.g. "terms[3].calls_for[1]: ...") `vocab` is unchanged.
bool report_vocabulary_add(ReportVocabulary& vocab, const std::string& json_text, std::string* error);

// After all files are added: every term's calls_for names a finding field or
// an attribute, every enum attribute's list exists, every mapping names a
// known term/landmark. Message names what is wrong.
bool report_vocabulary_check(const ReportVocabulary& vocab, std::string* error);

// Convenience: adds the texts in order, then checks. `names` (optional, same
// length) label the texts in messages ("mst3_terms.json: terms[3]...").
bool report_vocabulary_load(ReportVocabulary& vocab, const std::vector<std::string>& texts,
                            const std::vector<std::string>& names, std::string* error);

// Paris classification: one of the "paris" list's options, or a combination
// "0-X+Y" of two different types that the list marks combinable (e.g.
// 0-IIa+IIc, 0-Is+IIa). Dominant component first, as the classification writes it.
bool is_valid_paris(const ReportVocabulary& vocab, const std::string& paris);

}  // namespace es
