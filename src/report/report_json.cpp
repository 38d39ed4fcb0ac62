// report_json.cpp: see report_json.h. nlohmann-json objects keep their keys
// sorted, which makes the written text canonical. The reader checks nesting
// depth and size before building a DOM, every type before reading it, and
// every term against the vocabulary; it throws nothing out.
#include "report/report_json.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <set>

#include "json/json_syntax.h"

namespace es {
namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------- writing

json value_json(const std::string& v) { return v; }
json value_json(int v) { return v; }
json value_json(double v) { return v; }
json value_json(bool v) { return v; }
json value_json(const TextList& v) { return json(v); }
json value_json(const ImageLinks& links) {
    json a = json::array();
    for (const ImageLink& l : links) {
        json o = {{"image", l.image}};
        if (l.annotation_id != 0) o["annotation_id"] = l.annotation_id;
        if (!l.landmark.empty()) o["landmark"] = l.landmark;
        a.push_back(std::move(o));
    }
    return a;
}
json value_json(const AttributeValue& v) {
    if (const std::string* s = std::get_if<std::string>(&v)) return *s;
    if (const double* d = std::get_if<double>(&v)) return *d;
    return std::get<bool>(v);
}

template <class T>
void put(json& obj, const char* key, const Field<T>& f) {
    if (!f.has_value()) return;
    json j = json::object();
    j["value"] = value_json(*f.value);
    j["source"] = value_source_name(f.source);
    if (f.probability) j["probability"] = *f.probability;
    j["accepted"] = f.accepted;
    if (!f.set_by.empty()) j["set_by"] = f.set_by;
    if (!f.set_at.empty()) j["set_at"] = f.set_at;
    obj[key] = std::move(j);
}

json content_json(const Report& r) {
    json out = json::object();
    json header = json::object();
    put(header, "procedure", r.header.procedure);
    put(header, "date", r.header.date);
    put(header, "endoscopist", r.header.endoscopist);
    put(header, "instrument", r.header.instrument);
    put(header, "sedation", r.header.sedation);
    put(header, "indications", r.header.indications);
    out["header"] = std::move(header);

    json extent = json::object();
    put(extent, "landmarks_reached", r.extent.landmarks_reached);
    put(extent, "caecal_intubation", r.extent.caecal_intubation);
    put(extent, "caecal_evidence", r.extent.caecal_evidence);
    put(extent, "incomplete_reason", r.extent.incomplete_reason);
    out["extent"] = std::move(extent);

    json prep = json::object();
    put(prep, "bbps_right", r.bowel_preparation.bbps_right);
    put(prep, "bbps_transverse", r.bowel_preparation.bbps_transverse);
    put(prep, "bbps_left", r.bowel_preparation.bbps_left);
    put(prep, "withdrawal_time_min", r.bowel_preparation.withdrawal_time_min);
    out["bowel_preparation"] = std::move(prep);

    json findings = json::array();
    for (const Finding& f : r.findings) {
        json o = {{"id", f.id}};
        put(o, "term", f.term);
        put(o, "location_segment", f.location_segment);
        put(o, "distance_cm", f.distance_cm);
        put(o, "size_mm", f.size_mm);
        put(o, "number", f.number);
        put(o, "paris", f.paris);
        put(o, "nice", f.nice);
        put(o, "jnet", f.jnet);
        json attrs = json::object();
        for (const auto& kv : f.attributes) put(attrs, kv.first.c_str(), kv.second);
        if (!attrs.empty()) o["attributes"] = std::move(attrs);
        put(o, "evidence", f.evidence);
        put(o, "notes", f.notes);
        findings.push_back(std::move(o));
    }
    out["findings"] = std::move(findings);

    json interventions = json::array();
    for (const Intervention& i : r.interventions) {
        json o = {{"id", i.id}};
        if (!i.finding_id.empty()) o["finding_id"] = i.finding_id;
        put(o, "method", i.method);
        put(o, "resection", i.resection);
        put(o, "retrieved", i.retrieved);
        put(o, "specimen_container", i.specimen_container);
        interventions.push_back(std::move(o));
    }
    out["interventions"] = std::move(interventions);

    put(out, "adverse_events", r.adverse_events);
    put(out, "diagnoses", r.diagnoses);
    put(out, "impression", r.impression);
    put(out, "recommendations", r.recommendations);
    json surveillance = json::object();
    put(surveillance, "interval_years", r.surveillance.interval_years);
    put(surveillance, "rule_id", r.surveillance.rule_id);
    put(surveillance, "confirmed", r.surveillance.confirmed);
    out["surveillance"] = std::move(surveillance);
    return out;
}

std::string dump(const json& j) { return j.dump(1, ' ', false, json::error_handler_t::replace); }

// ---------------------------------------------------------------- reading

std::string in_quotes(const std::string& s) {
    std::string shown = s.size() > 60 ? s.substr(0, 57) + "..." : s;
    return "\"" + shown + "\"";
}

std::string number_words(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

std::string json_words(const json& v) {
    if (v.is_string()) return in_quotes(v.get<std::string>());
    if (v.is_number()) return number_words(v.get<double>());
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_null()) return "null";
    if (v.is_array()) return "a list";
    return "an object";
}

const char* kind_words(const json& v) {
    if (v.is_string()) return "text";
    if (v.is_number()) return "a number";
    if (v.is_boolean()) return "true/false";
    if (v.is_null()) return "null";
    if (v.is_array()) return "a list";
    return "an object";
}

class Reader {
  public:
    explicit Reader(const ReportVocabulary& vocab) : vocab_(vocab) {}
    std::string error;

    bool fail(const std::string& path, const std::string& why) {
        if (error.empty()) error = path + ": " + why;
        return false;
    }

    bool keys(const json& obj, const std::string& path, std::initializer_list<const char*> allowed) {
        for (auto it = obj.begin(); it != obj.end(); ++it) {
            bool ok = false;
            for (const char* a : allowed) ok = ok || it.key() == a;
            if (!ok) {
                std::string names;
                for (const char* a : allowed) names += std::string(names.empty() ? "" : ", ") + a;
                return fail(join(path, it.key()), "unknown field; the fields here are " + names);
            }
        }
        return true;
    }

    static std::string join(const std::string& path, const std::string& key) {
        return path.empty() ? key : path + "." + key;
    }

    // ---- values
    using TextCheck = std::function<bool(const std::string&, const std::string&)>;

    bool text(const json& v, const std::string& path, size_t max_len, std::string& out) {
        if (!v.is_string()) return fail(path, std::string(kind_words(v)) + " where text was expected");
        const std::string& s = v.get_ref<const std::string&>();
        if (s.size() > max_len)
            return fail(path, "the text is " + std::to_string(s.size()) + " characters long; at most " +
                                  std::to_string(max_len) + " are allowed here");
        out = s;
        return true;
    }

    bool option(const json& v, const std::string& path, const char* list, const char* what, std::string& out) {
        if (!text(v, path, ReportLimits::kMaxShortText, out)) return false;
        if (!vocab_.has(list, out)) return fail(path, in_quotes(out) + " is not a known " + what + examples(list));
        return true;
    }

    std::string examples(const char* list) const {
        const std::vector<VocabOption>* l = vocab_.list(list);
        if (!l || l->empty()) return std::string("; the vocabulary has no list \"") + list + "\"";
        std::string s = "; known ones are ";
        for (size_t i = 0; i < l->size() && i < 8; ++i) s += (i ? ", " : "") + (*l)[i].id;
        if (l->size() > 8) s += ", ... (" + std::to_string(l->size()) + " in all, list \"" + list + "\")";
        return s;
    }

    bool integer(const json& v, const std::string& path, long long lo, long long hi, const std::string& what,
                 int& out) {
        if (!v.is_number()) return fail(path, std::string(kind_words(v)) + " where " + what + " (a whole number) was expected");
        const double d = v.get<double>();
        if (!std::isfinite(d) || d != std::floor(d))
            return fail(path, json_words(v) + " is not " + what + "; it is a whole number from " + std::to_string(lo) +
                                  " to " + std::to_string(hi));
        if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
            return fail(path, json_words(v) + " is not " + what + "; it is a whole number from " + std::to_string(lo) +
                                  " to " + std::to_string(hi));
        out = static_cast<int>(d);
        return true;
    }

    bool number(const json& v, const std::string& path, double lo, double hi, const std::string& what,
                const std::string& unit, double& out) {
        if (!v.is_number()) return fail(path, std::string(kind_words(v)) + " where " + what + " (a number) was expected");
        const double d = v.get<double>();
        if (!std::isfinite(d)) return fail(path, "not a finite number; " + what + " is a number");
        if (d < lo)
            return fail(path, number_words(d) + " is not " + what + "; " + what + " is " + number_words(lo) + unit +
                                  " or more");
        if (d > hi)
            return fail(path, number_words(d) + unit + " is too large for " + what + "; at most " + number_words(hi) +
                                  unit + " is accepted");
        out = d;
        return true;
    }

    bool boolean(const json& v, const std::string& path, bool& out) {
        if (!v.is_boolean()) return fail(path, std::string(kind_words(v)) + " where true or false was expected");
        out = v.get<bool>();
        return true;
    }

    bool list_of(const json& v, const std::string& path, const std::function<bool(const json&, const std::string&)>& each) {
        if (!v.is_array()) return fail(path, std::string(kind_words(v)) + " where a list was expected");
        if (v.size() > ReportLimits::kMaxListItems)
            return fail(path, "the list has " + std::to_string(v.size()) + " entries; at most " +
                                  std::to_string(ReportLimits::kMaxListItems) + " are allowed");
        for (size_t i = 0; i < v.size(); ++i)
            if (!each(v[i], path + "[" + std::to_string(i) + "]")) return false;
        return true;
    }

    bool option_list(const json& v, const std::string& path, const char* list, const char* what, TextList& out) {
        TextList items;
        std::set<std::string> seen;
        const bool ok = list_of(v, path, [&](const json& e, const std::string& p) {
            std::string s;
            if (!option(e, p, list, what, s)) return false;
            if (!seen.insert(s).second) return fail(p, in_quotes(s) + " is listed twice");
            items.push_back(s);
            return true;
        });
        if (ok) out = std::move(items);
        return ok;
    }

    bool text_list(const json& v, const std::string& path, size_t max_len, TextList& out) {
        TextList items;
        const bool ok = list_of(v, path, [&](const json& e, const std::string& p) {
            std::string s;
            if (!text(e, p, max_len, s)) return false;
            items.push_back(s);
            return true;
        });
        if (ok) out = std::move(items);
        return ok;
    }

    bool image_links(const json& v, const std::string& path, bool landmarks, ImageLinks& out) {
        ImageLinks links;
        const bool ok = list_of(v, path, [&](const json& e, const std::string& p) {
            if (!e.is_object()) return fail(p, std::string(kind_words(e)) + " where {image, annotation_id} was expected");
            if (!keys(e, p, {"image", "annotation_id", "landmark"})) return false;
            ImageLink l;
            if (!e.contains("image")) return fail(p + ".image", "missing; a link names the image");
            if (!text(e["image"], p + ".image", ReportLimits::kMaxShortText, l.image)) return false;
            if (l.image.empty()) return fail(p + ".image", "empty; a link names the image");
            if (e.contains("annotation_id") && !e["annotation_id"].is_null()) {
                const json& a = e["annotation_id"];
                if (!a.is_number_unsigned() && !(a.is_number_integer() && a.get<long long>() >= 0))
                    return fail(p + ".annotation_id", json_words(a) + " is not an annotation id (a whole number, 1 or more)");
                l.annotation_id = a.get<uint64_t>();
            }
            if (e.contains("landmark") && !e["landmark"].is_null()) {
                if (!landmarks) return fail(p + ".landmark", "only caecal evidence names a landmark");
                if (!option(e["landmark"], p + ".landmark", "landmarks", "landmark", l.landmark)) return false;
            }
            links.push_back(std::move(l));
            return true;
        });
        if (ok) out = std::move(links);
        return ok;
    }

    // ---- fields (value + provenance)
    template <class T>
    bool field(const json& obj, const char* key, const std::string& path, Field<T>& out,
               const std::function<bool(const json&, const std::string&, T&)>& read_value) {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return true;
        const std::string p = join(path, key);
        Field<T> f;
        const json* value = &*it;
        if (it->is_object()) {
            const json& o = *it;
            if (!keys(o, p, {"value", "source", "probability", "accepted", "set_by", "set_at"})) return false;
            if (!o.contains("value")) return fail(p + ".value", "missing; a field object holds its value under \"value\"");
            value = &o["value"];
            if (o.contains("source")) {
                std::string s;
                if (!text(o["source"], p + ".source", 16, s)) return false;
                if (!value_source_from_name(s, f.source))
                    return fail(p + ".source", in_quotes(s) + " is not a source; it is user, ai or ai_edited");
            }
            if (o.contains("probability") && !o["probability"].is_null()) {
                double pr = 0;
                if (!number(o["probability"], p + ".probability", 0, 1, "a probability", "", pr)) return false;
                if (f.source == ValueSource::User)
                    return fail(p + ".probability", "a value the user entered has no probability (only AI values do)");
                f.probability = pr;
            }
            if (o.contains("accepted")) {
                if (!boolean(o["accepted"], p + ".accepted", f.accepted)) return false;
                if (!f.accepted && f.source != ValueSource::Ai)
                    return fail(p + ".accepted", "only an AI value can be waiting for acceptance");
            } else {
                f.accepted = f.source != ValueSource::Ai;
            }
            if (o.contains("set_by") && !text(o["set_by"], p + ".set_by", ReportLimits::kMaxShortText, f.set_by))
                return false;
            if (o.contains("set_at")) {
                if (!text(o["set_at"], p + ".set_at", 40, f.set_at)) return false;
                if (!f.set_at.empty() && !is_iso8601_time(f.set_at))
                    return fail(p + ".set_at", in_quotes(f.set_at) + " is not an ISO-8601 UTC time such as 2026-11-30T09:15:00Z");
            }
        }
        if (value->is_null()) return true;  // an empty field
        T v{};
        if (!read_value(*value, p, v)) return false;
        f.value = std::move(v);
        out = std::move(f);
        return true;
    }

    // Shorthands for the common kinds of field.
    bool text_field(const json& obj, const char* key, const std::string& path, size_t max_len, Field<std::string>& out) {
        return field<std::string>(obj, key, path, out, [&](const json& v, const std::string& p, std::string& s) {
            return text(v, p, max_len, s);
        });
    }
    bool option_field(const json& obj, const char* key, const std::string& path, const char* list, const char* what,
                      Field<std::string>& out) {
        return field<std::string>(obj, key, path, out, [&](const json& v, const std::string& p, std::string& s) {
            return option(v, p, list, what, s);
        });
    }
    bool option_list_field(const json& obj, const char* key, const std::string& path, const char* list,
                           const char* what, Field<TextList>& out) {
        return field<TextList>(obj, key, path, out, [&](const json& v, const std::string& p, TextList& l) {
            return option_list(v, p, list, what, l);
        });
    }
    bool number_field(const json& obj, const char* key, const std::string& path, double lo, double hi,
                      const std::string& what, const std::string& unit, Field<double>& out) {
        return field<double>(obj, key, path, out, [&](const json& v, const std::string& p, double& d) {
            return number(v, p, lo, hi, what, unit, d);
        });
    }
    bool integer_field(const json& obj, const char* key, const std::string& path, int lo, int hi,
                       const std::string& what, Field<int>& out) {
        return field<int>(obj, key, path, out, [&](const json& v, const std::string& p, int& i) {
            return integer(v, p, lo, hi, what, i);
        });
    }
    bool bool_field(const json& obj, const char* key, const std::string& path, Field<bool>& out) {
        return field<bool>(obj, key, path, out, [&](const json& v, const std::string& p, bool& b) {
            return boolean(v, p, b);
        });
    }
    bool bbps_field(const json& obj, const char* key, const std::string& path, Field<int>& out) {
        return field<int>(obj, key, path, out, [&](const json& v, const std::string& p, int& i) {
            if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() != std::floor(v.get<double>()) ||
                v.get<double>() < 0 || v.get<double>() > 3)
                return fail(p, json_words(v) + " is not a Boston Bowel Preparation Scale score; each segment is scored 0, 1, 2 or 3");
            i = static_cast<int>(v.get<double>());
            if (vocab_.list("bbps") && !vocab_.has("bbps", std::to_string(i)))
                return fail(p, std::to_string(i) + " is not in the vocabulary's BBPS list");
            return true;
        });
    }

    // ---- sections
    bool object_at(const json& parent, const char* key, const std::string& path, const json*& out) {
        auto it = parent.find(key);
        if (it == parent.end() || it->is_null()) {
            out = nullptr;
            return true;
        }
        if (!it->is_object()) return fail(join(path, key), std::string(kind_words(*it)) + " where an object was expected");
        out = &*it;
        return true;
    }

    bool content(const json& doc, const std::string& path, Report& r, std::initializer_list<const char*> extra_keys) {
        // Allowed top-level keys: the sections plus what the caller adds.
        static const char* const sections[] = {"header",        "extent",         "bowel_preparation", "findings",
                                               "interventions", "adverse_events", "diagnoses",         "impression",
                                               "recommendations", "surveillance"};
        for (auto it = doc.begin(); it != doc.end(); ++it) {
            bool ok = false;
            for (const char* s : sections) ok = ok || it.key() == s;
            for (const char* s : extra_keys) ok = ok || it.key() == s;
            if (!ok)
                return fail(join(path, it.key()),
                            "unknown field; a report has header, extent, bowel_preparation, findings, interventions, "
                            "adverse_events, diagnoses, impression, recommendations, surveillance");
        }
        const json* s = nullptr;
        if (!object_at(doc, "header", path, s)) return false;
        if (s) {
            const std::string p = join(path, "header");
            if (!keys(*s, p, {"procedure", "date", "endoscopist", "instrument", "sedation", "indications"}) ||
                !option_field(*s, "procedure", p, "procedures", "procedure", r.header.procedure) ||
                !field<std::string>(*s, "date", p, r.header.date,
                                    [&](const json& v, const std::string& vp, std::string& out) {
                                        if (!text(v, vp, 40, out)) return false;
                                        if (!is_iso8601_time(out))
                                            return fail(vp, in_quotes(out) + " is not a date; write it as YYYY-MM-DD (or an ISO-8601 UTC time)");
                                        return true;
                                    }) ||
                !text_field(*s, "endoscopist", p, ReportLimits::kMaxShortText, r.header.endoscopist) ||
                !text_field(*s, "instrument", p, ReportLimits::kMaxShortText, r.header.instrument) ||
                !option_field(*s, "sedation", p, "sedation", "sedation", r.header.sedation) ||
                !option_list_field(*s, "indications", p, "indications", "reason for examination", r.header.indications))
                return false;
        }
        if (!object_at(doc, "extent", path, s)) return false;
        if (s) {
            const std::string p = join(path, "extent");
            if (!keys(*s, p, {"landmarks_reached", "caecal_intubation", "caecal_evidence", "incomplete_reason"}) ||
                !option_list_field(*s, "landmarks_reached", p, "landmarks", "landmark", r.extent.landmarks_reached) ||
                !bool_field(*s, "caecal_intubation", p, r.extent.caecal_intubation) ||
                !field<ImageLinks>(*s, "caecal_evidence", p, r.extent.caecal_evidence,
                                   [&](const json& v, const std::string& vp, ImageLinks& out) {
                                       return image_links(v, vp, true, out);
                                   }) ||
                !option_field(*s, "incomplete_reason", p, "incomplete_reasons", "reason for an incomplete examination",
                              r.extent.incomplete_reason))
                return false;
        }
        if (!object_at(doc, "bowel_preparation", path, s)) return false;
        if (s) {
            const std::string p = join(path, "bowel_preparation");
            if (!keys(*s, p, {"bbps_right", "bbps_transverse", "bbps_left", "withdrawal_time_min"}) ||
                !bbps_field(*s, "bbps_right", p, r.bowel_preparation.bbps_right) ||
                !bbps_field(*s, "bbps_transverse", p, r.bowel_preparation.bbps_transverse) ||
                !bbps_field(*s, "bbps_left", p, r.bowel_preparation.bbps_left) ||
                !number_field(*s, "withdrawal_time_min", p, 0, 300, "a withdrawal time", " min",
                              r.bowel_preparation.withdrawal_time_min))
                return false;
        }
        if (!findings(doc, path, r)) return false;
        if (!interventions(doc, path, r)) return false;
        if (!option_list_field(doc, "adverse_events", path, "adverse_events", "adverse event", r.adverse_events) ||
            !field<TextList>(doc, "diagnoses", path, r.diagnoses, [&](const json& v, const std::string& p, TextList& l) {
                return text_list(v, p, 2000, l);
            }) ||
            !text_field(doc, "impression", path, ReportLimits::kMaxLongText, r.impression) ||
            !text_field(doc, "recommendations", path, ReportLimits::kMaxLongText, r.recommendations))
            return false;
        if (!object_at(doc, "surveillance", path, s)) return false;
        if (s) {
            const std::string p = join(path, "surveillance");
            if (!keys(*s, p, {"interval_years", "rule_id", "confirmed"}) ||
                !number_field(*s, "interval_years", p, 0, 20, "a surveillance interval", " years",
                              r.surveillance.interval_years) ||
                !text_field(*s, "rule_id", p, 120, r.surveillance.rule_id) ||
                !bool_field(*s, "confirmed", p, r.surveillance.confirmed))
                return false;
        }
        return true;
    }

    bool item_id(const json& o, const std::string& p, std::string& out) {
        if (!o.contains("id")) return fail(p + ".id", "missing; every entry has an id such as F1");
        if (!text(o["id"], p + ".id", 32, out)) return false;
        if (out.empty()) return fail(p + ".id", "empty; every entry has an id such as F1");
        return true;
    }

    bool findings(const json& doc, const std::string& path, Report& r) {
        auto it = doc.find("findings");
        if (it == doc.end() || it->is_null()) return true;
        const std::string p = join(path, "findings");
        if (!it->is_array()) return fail(p, std::string(kind_words(*it)) + " where a list of findings was expected");
        if (it->size() > ReportLimits::kMaxFindings)
            return fail(p, std::to_string(it->size()) + " findings; at most " + std::to_string(ReportLimits::kMaxFindings) +
                               " are allowed");
        std::set<std::string> ids;
        for (size_t i = 0; i < it->size(); ++i) {
            const json& o = (*it)[i];
            const std::string fp = p + "[" + std::to_string(i) + "]";
            if (!o.is_object()) return fail(fp, std::string(kind_words(o)) + " where a finding (an object) was expected");
            if (!keys(o, fp, {"id", "term", "location_segment", "distance_cm", "size_mm", "number", "paris", "nice",
                              "jnet", "attributes", "evidence", "notes"}))
                return false;
            Finding f;
            if (!item_id(o, fp, f.id)) return false;
            if (!ids.insert(f.id).second) return fail(fp + ".id", in_quotes(f.id) + " is used by another finding");
            if (!field<std::string>(o, "term", fp, f.term, [&](const json& v, const std::string& vp, std::string& t) {
                    if (!text(v, vp, ReportLimits::kMaxShortText, t)) return false;
                    if (!vocab_.find_term(t))
                        return fail(vp, in_quotes(t) + " is not a finding term of the vocabulary (MST 3.0 terms and the unit's local terms)");
                    return true;
                }) ||
                !option_field(o, "location_segment", fp, "segments", "location", f.location_segment) ||
                !number_field(o, "distance_cm", fp, 0, 250, "a distance", " cm", f.distance_cm) ||
                !field<double>(o, "size_mm", fp, f.size_mm, [&](const json& v, const std::string& vp, double& d) {
                    if (v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() < 0)
                        return fail(vp, number_words(v.get<double>()) + " is not a size; sizes are 0 mm or more");
                    return number(v, vp, 0, 300, "a size", " mm", d);
                }) ||
                !integer_field(o, "number", fp, 1, 1000, "a number of lesions", f.number) ||
                !field<std::string>(o, "paris", fp, f.paris, [&](const json& v, const std::string& vp, std::string& s) {
                    if (!text(v, vp, 32, s)) return false;
                    if (!is_valid_paris(vocab_, s))
                        return fail(vp, in_quotes(s) + " is not a Paris class; it is one of 0-Ip, 0-Isp, 0-Is, 0-IIa, 0-IIb, "
                                                     "0-IIc, 0-III or a combination such as 0-IIa+IIc");
                    return true;
                }) ||
                !option_field(o, "nice", fp, "nice", "NICE type (1, 2 or 3)", f.nice) ||
                !option_field(o, "jnet", fp, "jnet", "JNET type (1, 2A, 2B or 3)", f.jnet) ||
                !attributes(o, fp, f) ||
                !field<ImageLinks>(o, "evidence", fp, f.evidence, [&](const json& v, const std::string& vp, ImageLinks& l) {
                    return image_links(v, vp, false, l);
                }) ||
                !text_field(o, "notes", fp, ReportLimits::kMaxLongText, f.notes))
                return false;
            r.findings.push_back(std::move(f));
        }
        return true;
    }

    bool attributes(const json& o, const std::string& fp, Finding& f) {
        auto it = o.find("attributes");
        if (it == o.end() || it->is_null()) return true;
        const std::string p = fp + ".attributes";
        if (!it->is_object()) return fail(p, std::string(kind_words(*it)) + " where an object of attributes was expected");
        if (it->size() > ReportLimits::kMaxListItems) return fail(p, "too many attributes");
        for (auto kv = it->begin(); kv != it->end(); ++kv) {
            const ReportAttribute* def = vocab_.find_attribute(kv.key());
            if (!def) return fail(p + "." + kv.key(), "not an attribute of the vocabulary (e.g. prague_c, la_grade, mayo, histology)");
            Field<AttributeValue> field_value;
            if (!field<AttributeValue>(*it, kv.key().c_str(), p, field_value,
                                       [&](const json& v, const std::string& vp, AttributeValue& out) {
                                           return attribute_value(*def, v, vp, out);
                                       }))
                return false;
            if (field_value.has_value()) f.attributes[kv.key()] = std::move(field_value);
        }
        // Prague: the maximal extent M includes the circumferential extent C.
        auto c = f.attributes.find("prague_c"), m = f.attributes.find("prague_m");
        if (c != f.attributes.end() && m != f.attributes.end()) {
            const double* cv = std::get_if<double>(&*c->second.value);
            const double* mv = std::get_if<double>(&*m->second.value);
            if (cv && mv && *mv < *cv)
                return fail(p + ".prague_m", "M " + number_words(*mv) + " cm is less than C " + number_words(*cv) +
                                                 " cm; the maximal extent (M) includes the circumferential one (C)");
        }
        return true;
    }

    bool attribute_value(const ReportAttribute& def, const json& v, const std::string& vp, AttributeValue& out) {
        if (def.type == "enum") {
            std::string s;
            if (v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() == std::floor(v.get<double>()))
                s = number_words(v.get<double>());  // mayo 2 written as a number
            else if (!text(v, vp, ReportLimits::kMaxShortText, s))
                return false;
            if (!vocab_.has(def.list, s))
                return fail(vp, in_quotes(s) + " is not a valid " + def.name + examples(def.list.c_str()));
            out = s;
            return true;
        }
        if (def.type == "number" || def.type == "integer") {
            const double lo = def.has_min ? def.min : -1e9, hi = def.has_max ? def.max : 1e9;
            double d = 0;
            if (!number(v, vp, lo, hi, def.name, def.unit.empty() ? "" : " " + def.unit, d)) return false;
            if (def.type == "integer" && d != std::floor(d)) return fail(vp, number_words(d) + " is not a whole number");
            out = d;
            return true;
        }
        if (def.type == "boolean") {
            bool b = false;
            if (!boolean(v, vp, b)) return false;
            out = b;
            return true;
        }
        std::string s;
        if (!text(v, vp, ReportLimits::kMaxLongText, s)) return false;
        out = s;
        return true;
    }

    bool interventions(const json& doc, const std::string& path, Report& r) {
        auto it = doc.find("interventions");
        if (it == doc.end() || it->is_null()) return true;
        const std::string p = join(path, "interventions");
        if (!it->is_array()) return fail(p, std::string(kind_words(*it)) + " where a list of interventions was expected");
        if (it->size() > ReportLimits::kMaxFindings)
            return fail(p, std::to_string(it->size()) + " interventions; at most " +
                               std::to_string(ReportLimits::kMaxFindings) + " are allowed");
        std::set<std::string> ids;
        for (size_t i = 0; i < it->size(); ++i) {
            const json& o = (*it)[i];
            const std::string ip = p + "[" + std::to_string(i) + "]";
            if (!o.is_object()) return fail(ip, std::string(kind_words(o)) + " where an intervention (an object) was expected");
            if (!keys(o, ip, {"id", "finding_id", "method", "resection", "retrieved", "specimen_container"})) return false;
            Intervention in;
            if (!item_id(o, ip, in.id)) return false;
            if (!ids.insert(in.id).second) return fail(ip + ".id", in_quotes(in.id) + " is used by another intervention");
            if (o.contains("finding_id") && !o["finding_id"].is_null()) {
                if (!text(o["finding_id"], ip + ".finding_id", 32, in.finding_id)) return false;
                if (!in.finding_id.empty() && !r.find_finding(in.finding_id))
                    return fail(ip + ".finding_id", in_quotes(in.finding_id) + " is not the id of a finding in this report");
            }
            if (!option_field(o, "method", ip, "interventions", "intervention", in.method) ||
                !option_field(o, "resection", ip, "resection", "kind of resection (en_bloc or piecemeal)", in.resection) ||
                !bool_field(o, "retrieved", ip, in.retrieved) ||
                !text_field(o, "specimen_container", ip, 40, in.specimen_container))
                return false;
            r.interventions.push_back(std::move(in));
        }
        return true;
    }

    bool versions(const json& doc, Report& r) {
        auto it = doc.find("versions");
        if (it == doc.end() || it->is_null()) return true;
        if (!it->is_array()) return fail("versions", std::string(kind_words(*it)) + " where a list of signed versions was expected");
        if (it->size() > ReportLimits::kMaxVersions) return fail("versions", "too many signed versions");
        for (size_t i = 0; i < it->size(); ++i) {
            const json& o = (*it)[i];
            const std::string p = "versions[" + std::to_string(i) + "]";
            if (!o.is_object()) return fail(p, std::string(kind_words(o)) + " where a signed version (an object) was expected");
            if (!keys(o, p, {"number", "signed_by", "signed_at", "reason", "snapshot"})) return false;
            ReportVersion v;
            if (!o.contains("number")) return fail(p + ".number", "missing");
            if (!integer(o["number"], p + ".number", 1, 1000000, "a version number", v.number)) return false;
            if (v.number != static_cast<int>(i) + 1)
                return fail(p + ".number", std::to_string(v.number) + " is out of order; signed versions are numbered 1, 2, 3 ...");
            if (!o.contains("signed_by") || !text(o["signed_by"], p + ".signed_by", ReportLimits::kMaxShortText, v.signed_by))
                return fail(p + ".signed_by", "missing; a signed version names its signer");
            if (v.signed_by.empty()) return fail(p + ".signed_by", "empty; a signed version names its signer");
            if (!o.contains("signed_at") || !text(o["signed_at"], p + ".signed_at", 40, v.signed_at))
                return fail(p + ".signed_at", "missing; a signed version has its time");
            if (!is_iso8601_time(v.signed_at))
                return fail(p + ".signed_at", in_quotes(v.signed_at) + " is not an ISO-8601 UTC time");
            if (o.contains("reason") && !text(o["reason"], p + ".reason", ReportLimits::kMaxLongText, v.reason)) return false;
            if (!o.contains("snapshot") || !o["snapshot"].is_object())
                return fail(p + ".snapshot", "missing; a signed version keeps the report as it was signed");
            Report snap;
            if (!content(o["snapshot"], p + ".snapshot", snap, {})) return false;
            v.snapshot = dump(content_json(snap));
            r.versions.push_back(std::move(v));
        }
        return true;
    }

  private:
    const ReportVocabulary& vocab_;
};

}  // namespace

std::string report_content_to_json(const Report& report) { return dump(content_json(report)); }

std::string report_to_json(const Report& report) {
    json out = content_json(report);
    out["format"] = "endoscribe-report";
    out["format_version"] = 1;
    out["status"] = report_status_name(report.status);
    out["version"] = report.version;
    if (!report.amendment_reason.empty()) out["amendment_reason"] = report.amendment_reason;
    json versions = json::array();
    for (const ReportVersion& v : report.versions) {
        json o = {{"number", v.number}, {"signed_by", v.signed_by}, {"signed_at", v.signed_at}};
        if (!v.reason.empty()) o["reason"] = v.reason;
        json snap = json::parse(v.snapshot, nullptr, false);
        o["snapshot"] = snap.is_discarded() ? json::object() : snap;
        versions.push_back(std::move(o));
    }
    out["versions"] = std::move(versions);
    return dump(out);
}

bool report_from_json(const std::string& text, const ReportVocabulary& vocab, Report* out, std::string* error) {
    auto fail = [&](const std::string& m) {
        if (error) *error = m;
        return false;
    };
    try {
        if (text.size() > ReportLimits::kMaxJsonBytes)
            return fail("the report is " + std::to_string(text.size() >> 20) + " MB; at most " +
                        std::to_string(ReportLimits::kMaxJsonBytes >> 20) + " MB are accepted");
        if (json_nesting_depth(text, ReportLimits::kMaxNesting) > ReportLimits::kMaxNesting)
            return fail("the report nests lists and objects more than " + std::to_string(ReportLimits::kMaxNesting) +
                        " deep; a report never does, so this is not a report");
        const JsonSyntax syntax = check_json_syntax(text);
        if (!syntax.ok) return fail("the report is " + syntax.describe());
        const json doc = json::parse(text, nullptr, false);
        if (doc.is_discarded()) return fail("the report is not valid JSON");
        if (!doc.is_object()) return fail(std::string("the report is ") + kind_words(doc) + ", not an object");
        if (doc.contains("format") &&
            (!doc["format"].is_string() || doc["format"].get<std::string>() != "endoscribe-report"))
            return fail("format: " + json_words(doc["format"]) + " is not an EndoScribe report (format \"endoscribe-report\")");
        if (doc.contains("format_version") &&
            (!doc["format_version"].is_number_integer() || doc["format_version"].get<long long>() != 1))
            return fail("format_version: " + json_words(doc["format_version"]) +
                        " is not a version this app reads (1); a newer app may have written it");

        Reader rd(vocab);
        Report r;
        if (!rd.content(doc, "", r, {"format", "format_version", "status", "version", "amendment_reason", "versions"}))
            return fail(rd.error);
        if (doc.contains("status")) {
            std::string s;
            if (!rd.text(doc["status"], "status", 16, s)) return fail(rd.error);
            if (!report_status_from_name(s, r.status))
                return fail("status: " + in_quotes(s) + " is not a report status; it is draft, final or amended");
        }
        if (doc.contains("version") && !rd.integer(doc["version"], "version", 1, 1000000, "a version number", r.version))
            return fail(rd.error);
        if (doc.contains("amendment_reason") &&
            !rd.text(doc["amendment_reason"], "amendment_reason", ReportLimits::kMaxLongText, r.amendment_reason))
            return fail(rd.error);
        if (!rd.versions(doc, r)) return fail(rd.error);
        // The status, the version number and the signed versions agree.
        const int signed_count = static_cast<int>(r.versions.size());
        if (r.status == ReportStatus::Draft && (signed_count != 0 || r.version != 1))
            return fail("status: a draft that was never signed is version 1 with no signed versions; this one has " +
                        std::to_string(signed_count) + " signed and says version " + std::to_string(r.version));
        if (r.status == ReportStatus::Final && (signed_count == 0 || r.version != signed_count))
            return fail("status: a final report's version (" + std::to_string(r.version) +
                        ") is its last signed version (" + std::to_string(signed_count) + " signed)");
        if (r.status == ReportStatus::Amended && (signed_count == 0 || r.version != signed_count + 1))
            return fail("status: an amendment is the version after the last signed one (" +
                        std::to_string(signed_count) + " signed, but it says version " + std::to_string(r.version) + ")");
        // A final report is its last signed version: a change without an amendment is not one.
        if (r.status == ReportStatus::Final && report_content_to_json(r) != r.versions.back().snapshot)
            return fail("status: the report is marked final but its content differs from signed version " +
                        std::to_string(r.version) + "; a change after signing must be an amendment (status \"amended\")");
        if (out) *out = std::move(r);
        return true;
    } catch (const std::exception& e) {
        return fail(std::string("the report could not be read (") + e.what() + ")");
    }
}

bool report_signed_version(const Report& report, int number, const ReportVocabulary& vocab, Report* out,
                           std::string* error) {
    if (number < 1 || number > static_cast<int>(report.versions.size())) {
        if (error)
            *error = "there is no signed version " + std::to_string(number) + " (" +
                     std::to_string(report.versions.size()) + " signed)";
        return false;
    }
    try {
        const json snapshot = json::parse(report.versions[number - 1].snapshot, nullptr, false);
        if (snapshot.is_discarded() || !snapshot.is_object()) {
            if (error) *error = "signed version " + std::to_string(number) + " is damaged (its snapshot is not JSON)";
            return false;
        }
        Reader rd(vocab);
        Report r;
        if (!rd.content(snapshot, "versions[" + std::to_string(number - 1) + "].snapshot", r, {})) {
            if (error) *error = rd.error;
            return false;
        }
        r.status = ReportStatus::Final;
        r.version = number;
        r.versions.assign(report.versions.begin(), report.versions.begin() + number);
        if (out) *out = std::move(r);
        return true;
    } catch (const std::exception& e) {
        if (error) *error = std::string("signed version could not be read (") + e.what() + ")";
        return false;
    }
}

}  // namespace es
