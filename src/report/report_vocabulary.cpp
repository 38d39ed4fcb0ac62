// report_vocabulary.cpp: see report_vocabulary.h. Files are validated on
// load so that a unit's local file with a typo gets a message naming the
// entry, not a vocabulary that silently lacks the term.
#include "report/report_vocabulary.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "json/versioned_document.h"

namespace es {
namespace {

using json = nlohmann::json;

const size_t kMaxIdLength = 64;
const size_t kMaxNameLength = 300;
const size_t kMaxDescriptionLength = 2000;

bool is_vocab_id(const std::string& id) {
    if (id.empty() || id.size() > kMaxIdLength) return false;
    for (size_t i = 0; i < id.size(); ++i) {
        const char c = id[i];
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
        if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.' && c != '+'))) return false;
    }
    return true;
}

struct Reader {
    std::string error;
    bool fail(const std::string& path, const std::string& why) {
        if (error.empty()) error = path + ": " + why;
        return false;
    }
    bool text(const json& obj, const char* key, const std::string& path, std::string& out, bool required,
              size_t max_len) {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) {
            if (required) return fail(path + "." + key, "missing; it is required");
            return true;
        }
        if (!it->is_string()) return fail(path + "." + key, "should be text");
        out = it->get<std::string>();
        if (out.size() > max_len) return fail(path + "." + key, "longer than " + std::to_string(max_len) + " characters");
        return true;
    }
    bool id(const json& obj, const std::string& path, std::string& out) {
        if (!text(obj, "id", path, out, true, kMaxIdLength)) return false;
        if (!is_vocab_id(out))
            return fail(path + ".id", "\"" + out + "\" is not an id (letters, digits, '-', '_', '.', '+'; starting with a letter or digit)");
        return true;
    }
    bool id_list(const json& obj, const char* key, const std::string& path, std::vector<std::string>& out) {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return true;
        if (!it->is_array()) return fail(path + "." + key, "should be a list of ids");
        for (size_t i = 0; i < it->size(); ++i) {
            const json& v = (*it)[i];
            const std::string p = path + "." + key + "[" + std::to_string(i) + "]";
            if (!v.is_string() || !is_vocab_id(v.get<std::string>())) return fail(p, "should be an id");
            out.push_back(v.get<std::string>());
        }
        return true;
    }
};

std::string number_text(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

}  // namespace

std::string VocabOption::property(const std::string& key) const {
    auto it = properties.find(key);
    return it == properties.end() ? std::string() : it->second;
}

bool ReportTerm::calls(const std::string& field) const {
    return std::find(calls_for.begin(), calls_for.end(), field) != calls_for.end();
}

bool ReportTerm::is_required(const std::string& field) const {
    return std::find(required.begin(), required.end(), field) != required.end();
}

const std::vector<VocabOption>* ReportVocabulary::list(const std::string& name) const {
    auto it = lists.find(name);
    return it == lists.end() ? nullptr : &it->second;
}

const VocabOption* ReportVocabulary::find(const std::string& list_name, const std::string& id) const {
    const std::vector<VocabOption>* l = list(list_name);
    if (!l) return nullptr;
    for (const VocabOption& o : *l)
        if (o.id == id) return &o;
    return nullptr;
}

const ReportTerm* ReportVocabulary::find_term(const std::string& id) const {
    for (const ReportTerm& t : terms)
        if (t.id == id) return &t;
    return nullptr;
}

std::string ReportVocabulary::name_of(const std::string& list_name, const std::string& id) const {
    const VocabOption* o = find(list_name, id);
    return o ? o->name : id;
}

std::string ReportVocabulary::term_name(const std::string& id) const {
    const ReportTerm* t = find_term(id);
    return t ? t->name : id;
}

const std::vector<std::string>& report_vocabulary_file_names() {
    static const std::vector<std::string> files = {"report_lists.json", "classifications.json", "mst3_terms.json",
                                                   "label_map.json"};
    return files;
}

std::vector<std::string> report_vocabulary_files_to_load(const std::vector<std::string>& names) {
    const std::vector<std::string>& shipped = report_vocabulary_file_names();
    std::vector<std::string> local;
    for (const std::string& n : names) {
        const bool json = n.size() > 5 && n.compare(n.size() - 5, 5, ".json") == 0;
        if (json && std::find(shipped.begin(), shipped.end(), n) == shipped.end() && n.rfind("surveillance_", 0) != 0)
            local.push_back(n);
    }
    std::sort(local.begin(), local.end());
    std::vector<std::string> out = shipped;
    out.insert(out.end(), local.begin(), local.end());
    return out;
}

const ReportAttribute* ReportVocabulary::find_attribute(const std::string& id) const {
    for (const ReportAttribute& a : attributes)
        if (a.id == id) return &a;
    return nullptr;
}

std::vector<const ReportTerm*> ReportVocabulary::terms_for_organ(const std::string& organ) const {
    std::vector<const ReportTerm*> out;
    for (const ReportTerm& t : terms)
        if (std::find(t.organs.begin(), t.organs.end(), organ) != t.organs.end()) out.push_back(&t);
    return out;
}

const LabelTermMapping* ReportVocabulary::map_label(const std::string& label_set, const std::string& label) const {
    for (const LabelTermMapping& m : label_map)
        if (m.label == label && (label_set.empty() || m.label_set == label_set)) return &m;
    return nullptr;
}

const std::vector<std::string>& report_finding_fields() {
    static const std::vector<std::string> fields = {"location_segment", "distance_cm", "size_mm", "number",
                                                    "paris",            "nice",        "jnet"};
    return fields;
}

bool report_vocabulary_add(ReportVocabulary& vocab, const std::string& json_text, std::string* error) {
    auto fail = [&](const std::string& m) {
        if (error) *error = m;
        return false;
    };
    const VersionedDocument read =
        read_versioned_document(json_text, {"endoscribe-report-vocabulary", "a report vocabulary", 1, ""});
    if (!read.ok()) return fail(read.error);
    const json& doc = read.doc;

    ReportVocabulary next = vocab;  // all or nothing
    Reader rd;

    if (doc.contains("lists")) {
        const json& lists = doc["lists"];
        if (!lists.is_object()) return fail("lists: should be an object of named lists");
        for (auto it = lists.begin(); it != lists.end(); ++it) {
            const std::string lp = "lists." + it.key();
            if (!is_vocab_id(it.key())) return fail(lp + ": the list name is not an id");
            if (!it.value().is_array()) return fail(lp + ": should be a list of options");
            std::vector<VocabOption>& dest = next.lists[it.key()];
            for (size_t i = 0; i < it.value().size(); ++i) {
                const json& o = it.value()[i];
                const std::string p = lp + "[" + std::to_string(i) + "]";
                if (!o.is_object()) return fail(p + ": should be an object with id and name");
                VocabOption opt;
                if (!rd.id(o, p, opt.id) || !rd.text(o, "name", p, opt.name, true, kMaxNameLength) ||
                    !rd.text(o, "description", p, opt.description, false, kMaxDescriptionLength))
                    return fail(rd.error);
                for (auto kv = o.begin(); kv != o.end(); ++kv) {
                    if (kv.key() == "id" || kv.key() == "name" || kv.key() == "description") continue;
                    const json& v = kv.value();
                    if (v.is_string()) opt.properties[kv.key()] = v.get<std::string>();
                    else if (v.is_boolean()) opt.properties[kv.key()] = v.get<bool>() ? "true" : "false";
                    else if (v.is_number()) opt.properties[kv.key()] = number_text(v.get<double>());
                    else return fail(p + "." + kv.key() + ": option properties are text, numbers or true/false");
                }
                for (const VocabOption& existing : dest)
                    if (existing.id == opt.id)
                        return fail(p + ".id: \"" + opt.id + "\" is already in the list " + it.key());
                dest.push_back(std::move(opt));
            }
        }
    }

    if (doc.contains("attributes")) {
        const json& attrs = doc["attributes"];
        if (!attrs.is_array()) return fail("attributes: should be a list");
        for (size_t i = 0; i < attrs.size(); ++i) {
            const json& a = attrs[i];
            const std::string p = "attributes[" + std::to_string(i) + "]";
            if (!a.is_object()) return fail(p + ": should be an object");
            ReportAttribute at;
            if (!rd.id(a, p, at.id) || !rd.text(a, "name", p, at.name, true, kMaxNameLength) ||
                !rd.text(a, "type", p, at.type, true, 16) || !rd.text(a, "list", p, at.list, false, kMaxIdLength) ||
                !rd.text(a, "unit", p, at.unit, false, 16) ||
                !rd.text(a, "description", p, at.description, false, kMaxDescriptionLength))
                return fail(rd.error);
            if (at.type != "enum" && at.type != "number" && at.type != "integer" && at.type != "boolean" &&
                at.type != "text")
                return fail(p + ".type: \"" + at.type + "\" is not one of enum, number, integer, boolean, text");
            if (at.type == "enum" && at.list.empty()) return fail(p + ".list: an enum attribute names its list of options");
            for (const char* key : {"min", "max"}) {
                if (!a.contains(key)) continue;
                if (!a[key].is_number() || !std::isfinite(a[key].get<double>()))
                    return fail(p + "." + key + ": should be a number");
                (key[1] == 'i' ? at.has_min : at.has_max) = true;
                (key[1] == 'i' ? at.min : at.max) = a[key].get<double>();
            }
            if (at.has_min && at.has_max && at.min > at.max) return fail(p + ": min is above max");
            if (next.find_attribute(at.id)) return fail(p + ".id: the attribute \"" + at.id + "\" is defined twice");
            for (const std::string& f : report_finding_fields())
                if (f == at.id) return fail(p + ".id: \"" + at.id + "\" is a finding field, not an attribute");
            next.attributes.push_back(std::move(at));
        }
    }

    if (doc.contains("terms")) {
        const json& terms = doc["terms"];
        if (!terms.is_array()) return fail("terms: should be a list");
        for (size_t i = 0; i < terms.size(); ++i) {
            const json& t = terms[i];
            const std::string p = "terms[" + std::to_string(i) + "]";
            if (!t.is_object()) return fail(p + ": should be an object");
            ReportTerm term;
            if (!rd.id(t, p, term.id) || !rd.text(t, "name", p, term.name, true, kMaxNameLength) ||
                !rd.text(t, "group", p, term.group, false, kMaxNameLength) ||
                !rd.text(t, "description", p, term.description, false, kMaxDescriptionLength) ||
                !rd.text(t, "surveillance", p, term.surveillance, false, kMaxIdLength) ||
                !rd.id_list(t, "organs", p, term.organs) || !rd.id_list(t, "calls_for", p, term.calls_for) ||
                !rd.id_list(t, "requires", p, term.required))
                return fail(rd.error);
            if (term.organs.empty()) return fail(p + ".organs: a term names at least one organ");
            for (size_t k = 0; k < term.required.size(); ++k)
                if (!term.calls(term.required[k]))
                    return fail(p + ".requires[" + std::to_string(k) + "]: \"" + term.required[k] +
                                "\" is required but not in calls_for");
            if (next.find_term(term.id)) return fail(p + ".id: the term \"" + term.id + "\" is defined twice");
            next.terms.push_back(std::move(term));
        }
    }

    if (doc.contains("label_map")) {
        const json& map = doc["label_map"];
        if (!map.is_array()) return fail("label_map: should be a list");
        for (size_t i = 0; i < map.size(); ++i) {
            const json& m = map[i];
            const std::string p = "label_map[" + std::to_string(i) + "]";
            if (!m.is_object()) return fail(p + ": should be an object");
            LabelTermMapping lm;
            if (!rd.text(m, "label_set", p, lm.label_set, true, kMaxIdLength) ||
                !rd.text(m, "label", p, lm.label, true, kMaxIdLength) ||
                !rd.text(m, "term", p, lm.term, false, kMaxIdLength) ||
                !rd.text(m, "landmark", p, lm.landmark, false, kMaxIdLength))
                return fail(rd.error);
            if (lm.term.empty() == lm.landmark.empty())
                return fail(p + ": a mapping gives either a term or a landmark");
            if (m.contains("attributes")) {
                if (!m["attributes"].is_object()) return fail(p + ".attributes: should be an object");
                for (auto kv = m["attributes"].begin(); kv != m["attributes"].end(); ++kv) {
                    const json& v = kv.value();
                    if (v.is_string()) lm.attributes[kv.key()] = v.get<std::string>();
                    else if (v.is_number()) lm.attributes[kv.key()] = number_text(v.get<double>());
                    else return fail(p + ".attributes." + kv.key() + ": should be text or a number");
                }
            }
            next.label_map.push_back(std::move(lm));
        }
    }

    vocab = std::move(next);
    return true;
}

bool report_vocabulary_check(const ReportVocabulary& vocab, std::string* error) {
    auto fail = [&](const std::string& m) {
        if (error) *error = m;
        return false;
    };
    const std::vector<std::string>& fields = report_finding_fields();
    for (const ReportAttribute& a : vocab.attributes)
        if (a.type == "enum" && !vocab.list(a.list))
            return fail("attribute " + a.id + ": its list \"" + a.list + "\" is not defined in any vocabulary file");
    for (const ReportTerm& t : vocab.terms) {
        for (const std::string& c : t.calls_for)
            if (std::find(fields.begin(), fields.end(), c) == fields.end() && !vocab.find_attribute(c))
                return fail("term " + t.id + ": calls for \"" + c +
                            "\", which is neither a finding field nor a defined attribute");
        for (const std::string& o : t.organs)
            if (vocab.list("organs") && !vocab.has("organs", o))
                return fail("term " + t.id + ": organ \"" + o + "\" is not in the organs list");
    }
    for (const LabelTermMapping& m : vocab.label_map) {
        const std::string who = "label_map " + m.label_set + "/" + m.label;
        if (!m.term.empty()) {
            const ReportTerm* t = vocab.find_term(m.term);
            if (!t) return fail(who + ": the term \"" + m.term + "\" is not defined");
            for (const auto& kv : m.attributes)
                if (!t->calls(kv.first))
                    return fail(who + ": the term " + m.term + " does not call for \"" + kv.first + "\"");
        }
        if (!m.landmark.empty() && !vocab.has("landmarks", m.landmark))
            return fail(who + ": the landmark \"" + m.landmark + "\" is not in the landmarks list");
    }
    return true;
}

bool report_vocabulary_load(ReportVocabulary& vocab, const std::vector<std::string>& texts,
                            const std::vector<std::string>& names, std::string* error) {
    for (size_t i = 0; i < texts.size(); ++i) {
        std::string e;
        if (!report_vocabulary_add(vocab, texts[i], &e)) {
            if (error) *error = (i < names.size() ? names[i] : "vocabulary file " + std::to_string(i + 1)) + ": " + e;
            return false;
        }
    }
    return report_vocabulary_check(vocab, error);
}

bool is_valid_paris(const ReportVocabulary& vocab, const std::string& paris) {
    if (vocab.has("paris", paris)) return true;
    if (paris.size() < 6 || paris.compare(0, 2, "0-") != 0) return false;
    const size_t plus = paris.find('+');
    if (plus == std::string::npos || paris.find('+', plus + 1) != std::string::npos) return false;
    const std::string first = paris.substr(0, plus), second = "0-" + paris.substr(plus + 1);
    if (first == second) return false;
    const VocabOption* a = vocab.find("paris", first);
    const VocabOption* b = vocab.find("paris", second);
    return a && b && a->flag("combinable") && b->flag("combinable");
}

}  // namespace es
