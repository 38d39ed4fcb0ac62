// surveillance_rules.cpp: see surveillance_rules.h. The facts are computed
// here once; what a guideline does with them is in its data file.
#include "report/surveillance_rules.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "json/versioned_document.h"

namespace es {
namespace {

using json = nlohmann::json;

std::string number_words(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

const std::string* attribute_text(const Finding& f, const char* id) {
    auto it = f.attributes.find(id);
    if (it == f.attributes.end() || !it->second.has_value()) return nullptr;
    return std::get_if<std::string>(&*it->second.value);
}

bool holds(const SurveillanceCondition& c, double v) {
    if (c.op == "==") return v == c.value;
    if (c.op == "!=") return v != c.value;
    if (c.op == ">") return v > c.value;
    if (c.op == ">=") return v >= c.value;
    if (c.op == "<") return v < c.value;
    if (c.op == "<=") return v <= c.value;
    return false;
}

}  // namespace

const std::map<std::string, std::string>& surveillance_fact_descriptions() {
    static const std::map<std::string, std::string> facts = {
        {"caecal_intubation", "1 when the caecum was reached, 0 when not (absent when not recorded)"},
        {"bbps_adequate", "1 when the Boston score is adequate (total >= 6, every segment >= 2), 0 when not (absent while a segment is unscored)"},
        {"polyps", "colorectal polyps (findings whose term has surveillance \"polyp\"), counted with their number"},
        {"histology_pending", "polyps without a histology yet"},
        {"size_missing", "polyps without a size"},
        {"adenomas", "polyps with adenoma histology (tubular, tubulovillous, villous)"},
        {"adenoma_max_size_mm", "the largest adenoma (0 when none)"},
        {"adenoma_villous", "adenomas with a villous component (tubulovillous or villous)"},
        {"adenoma_hgd", "adenomas with high-grade dysplasia"},
        {"ssl", "sessile serrated lesions"},
        {"ssl_max_size_mm", "the largest sessile serrated lesion (0 when none)"},
        {"ssl_dysplasia", "sessile serrated lesions with dysplasia"},
        {"tsa", "traditional serrated adenomas"},
        {"hyperplastic", "hyperplastic polyps"},
        {"hyperplastic_max_size_mm", "the largest hyperplastic polyp (0 when none)"},
        {"hyperplastic_rectosigmoid", "hyperplastic polyps in the rectum or sigmoid colon"},
        {"hyperplastic_proximal", "hyperplastic polyps proximal to the sigmoid colon (or of unrecorded location)"},
        {"serrated", "serrated polyps of any kind (sessile serrated, traditional serrated, hyperplastic)"},
        {"serrated_max_size_mm", "the largest serrated polyp (0 when none)"},
        {"serrated_dysplasia", "serrated polyps with dysplasia (low or high grade)"},
        {"cancer", "colorectal cancers: polyps with adenocarcinoma histology and findings whose term has surveillance \"cancer\""},
        {"piecemeal_max_size_mm", "the largest polyp resected piecemeal (0 when none)"},
        {"piecemeal_adenoma_max_size_mm", "the largest adenoma resected piecemeal (0 when none)"},
        {"piecemeal_ssl_max_size_mm", "the largest sessile serrated lesion resected piecemeal (0 when none)"},
    };
    return facts;
}

const SurveillanceRule* SurveillanceTable::find(const std::string& rule_id) const {
    std::string local = rule_id;
    if (local.compare(0, id.size() + 1, id + ".") == 0) local = local.substr(id.size() + 1);
    for (const SurveillanceRule& r : rules)
        if (r.id == local) return &r;
    return nullptr;
}

bool surveillance_table_parse(const std::string& json_text, SurveillanceTable* out, std::string* error) {
    auto fail = [&](const std::string& m) {
        if (error) *error = m;
        return false;
    };
    const VersionedDocument read =
        read_versioned_document(json_text, {"endoscribe-surveillance-rules", "a surveillance rule table", 1, ""});
    if (!read.ok()) return fail(read.error);
    const json& doc = read.doc;
    SurveillanceTable t;
    auto text = [&](const json& o, const char* key, const std::string& path, std::string& dest, bool required) {
        if (!o.contains(key)) return !required || fail(path + key + ": missing");
        if (!o[key].is_string()) return fail(path + key + ": should be text");
        dest = o[key].get<std::string>();
        if (required && dest.empty()) return fail(path + key + ": empty");
        return true;
    };
    if (!text(doc, "id", "", t.id, true) || !text(doc, "name", "", t.name, true) || !text(doc, "source", "", t.source, true))
        return false;
    if (!doc.contains("procedures") || !doc["procedures"].is_array()) return fail("procedures: should be a list of procedure ids");
    for (const json& p : doc["procedures"]) {
        if (!p.is_string()) return fail("procedures: should be a list of procedure ids");
        t.procedures.push_back(p.get<std::string>());
    }
    if (!doc.contains("rules") || !doc["rules"].is_array() || doc["rules"].empty())
        return fail("rules: should be a non-empty list of rules");
    const auto& facts = surveillance_fact_descriptions();
    for (size_t i = 0; i < doc["rules"].size(); ++i) {
        const json& r = doc["rules"][i];
        const std::string p = "rules[" + std::to_string(i) + "].";
        if (!r.is_object()) return fail(p.substr(0, p.size() - 1) + ": should be an object");
        SurveillanceRule rule;
        if (!text(r, "id", p, rule.id, true) || !text(r, "text", p, rule.text, true) ||
            !text(r, "citation", p, rule.citation, true))
            return false;
        if (t.find(rule.id)) return fail(p + "id: \"" + rule.id + "\" is used twice");
        if (!r.contains("when") || !r["when"].is_array()) return fail(p + "when: should be a list of conditions");
        for (size_t k = 0; k < r["when"].size(); ++k) {
            const json& c = r["when"][k];
            const std::string cp = p + "when[" + std::to_string(k) + "].";
            if (!c.is_object()) return fail(cp + ": should be {fact, op, value}");
            SurveillanceCondition cond;
            if (!text(c, "fact", cp, cond.fact, true) || !text(c, "op", cp, cond.op, true)) return false;
            if (!facts.count(cond.fact)) return fail(cp + "fact: \"" + cond.fact + "\" is not a fact the core computes");
            static const char* const ops[] = {"==", "!=", ">", ">=", "<", "<="};
            if (std::find(std::begin(ops), std::end(ops), cond.op) == std::end(ops))
                return fail(cp + "op: \"" + cond.op + "\" is not one of == != > >= < <=");
            if (!c.contains("value") || !c["value"].is_number() || !std::isfinite(c["value"].get<double>()))
                return fail(cp + "value: should be a number");
            cond.value = c["value"].get<double>();
            rule.when.push_back(cond);
        }
        if (r.contains("interval_years") && !r["interval_years"].is_null()) {
            const json& iv = r["interval_years"];
            if (!iv.is_object() || !iv.contains("min") || !iv.contains("max") || !iv["min"].is_number() ||
                !iv["max"].is_number())
                return fail(p + "interval_years: should be {min, max} in years, or null");
            rule.min_years = iv["min"].get<double>();
            rule.max_years = iv["max"].get<double>();
            if (!(*rule.min_years >= 0) || !(*rule.max_years >= *rule.min_years) || *rule.max_years > 20)
                return fail(p + "interval_years: min and max should satisfy 0 <= min <= max <= 20");
        }
        t.rules.push_back(std::move(rule));
    }
    if (out) *out = std::move(t);
    return true;
}

std::map<std::string, double> surveillance_facts(const Report& report, const ReportVocabulary& vocab) {
    std::map<std::string, double> f;
    for (const auto& kv : surveillance_fact_descriptions())
        if (kv.first != "caecal_intubation" && kv.first != "bbps_adequate") f[kv.first] = 0;
    if (report.extent.caecal_intubation.has_value()) f["caecal_intubation"] = *report.extent.caecal_intubation.value ? 1 : 0;
    if (const std::optional<bool> adequate = bbps_adequate(report.bowel_preparation)) f["bbps_adequate"] = *adequate ? 1 : 0;

    auto raise = [&](const char* key, double v) { f[key] = std::max(f[key], v); };
    for (const Finding& finding : report.findings) {
        if (!finding.term.has_value()) continue;
        const ReportTerm* term = vocab.find_term(*finding.term.value);
        if (!term) continue;
        const double n = finding.number.has_value() ? *finding.number.value : 1;
        if (term->surveillance == "cancer") {
            f["cancer"] += n;
            continue;
        }
        if (term->surveillance != "polyp") continue;
        f["polyps"] += n;
        if (!finding.size_mm.has_value()) f["size_missing"] += n;
        const double size = finding.size_mm.value_or(0);
        bool piecemeal = false;
        for (const Intervention& in : report.interventions)
            if (in.finding_id == finding.id && in.resection.value_or("") == "piecemeal") piecemeal = true;
        if (piecemeal) raise("piecemeal_max_size_mm", size);

        const std::string* histology = attribute_text(finding, "histology");
        if (!histology) {
            f["histology_pending"] += n;
            continue;
        }
        const VocabOption* h = vocab.find("histology", *histology);
        const std::string group = h ? h->property("group") : "";
        const std::string* dysplasia = attribute_text(finding, "dysplasia");
        const bool any_dysplasia = dysplasia && *dysplasia != "none";
        const bool high_grade = dysplasia && *dysplasia == "high-grade";
        if (group == "adenoma") {
            f["adenomas"] += n;
            raise("adenoma_max_size_mm", size);
            if (h->flag("villous")) f["adenoma_villous"] += n;
            if (high_grade) f["adenoma_hgd"] += n;
            if (piecemeal) raise("piecemeal_adenoma_max_size_mm", size);
        } else if (group == "ssl" || group == "tsa" || group == "hyperplastic") {
            f["serrated"] += n;
            raise("serrated_max_size_mm", size);
            if (any_dysplasia) f["serrated_dysplasia"] += n;
            if (group == "ssl") {
                f["ssl"] += n;
                raise("ssl_max_size_mm", size);
                if (any_dysplasia) f["ssl_dysplasia"] += n;
                if (piecemeal) raise("piecemeal_ssl_max_size_mm", size);
            } else if (group == "tsa") {
                f["tsa"] += n;
            } else {
                f["hyperplastic"] += n;
                raise("hyperplastic_max_size_mm", size);
                const std::string where = finding.location_segment.value_or("");
                if (where == "rectum" || where == "sigmoid-colon") f["hyperplastic_rectosigmoid"] += n;
                else f["hyperplastic_proximal"] += n;
            }
        } else if (group == "cancer") {
            f["cancer"] += n;
        }
    }
    return f;
}

std::string SurveillanceSuggestion::interval_words() const {
    if (!min_years || !max_years) return "";
    auto words = [](double years) {
        if (years < 1) return number_words(std::round(years * 12)) ;
        return number_words(years);
    };
    const bool months = *max_years < 1;
    const std::string unit = months ? " months" : (*max_years == 1 ? " year" : " years");
    if (*min_years == *max_years) return words(*min_years) + unit;
    if (*min_years < 1 && !months) return words(*min_years) + " months to " + words(*max_years) + unit;
    return words(*min_years) + "-" + words(*max_years) + unit;
}

SurveillanceSuggestion suggest_surveillance(const Report& report, const ReportVocabulary& vocab,
                                            const SurveillanceTable& table) {
    SurveillanceSuggestion s;
    s.guideline = table.name;
    const std::string procedure = report.header.procedure.value_or("");
    if (procedure.empty()) {
        s.why = "the procedure is not recorded; " + table.name + " applies to " +
                (table.procedures.empty() ? std::string("no procedure") : table.procedures.front());
        return s;
    }
    if (std::find(table.procedures.begin(), table.procedures.end(), procedure) == table.procedures.end()) {
        s.why = table.name + " does not apply to a " + procedure;
        return s;
    }
    const std::map<std::string, double> facts = surveillance_facts(report, vocab);
    for (const SurveillanceRule& rule : table.rules) {
        std::vector<std::string> because;
        bool all = true;
        for (const SurveillanceCondition& c : rule.when) {
            auto it = facts.find(c.fact);
            if (it == facts.end() || !holds(c, it->second)) {
                all = false;
                break;
            }
            because.push_back(c.fact + " = " + number_words(it->second));
        }
        if (!all) continue;
        s.matched = true;
        s.rule_id = table.id + "." + rule.id;
        s.min_years = rule.min_years;
        s.max_years = rule.max_years;
        s.text = rule.text;
        s.citation = rule.citation;
        s.because = std::move(because);
        return s;
    }
    s.why = "no rule of " + table.name + " matches these findings";
    return s;
}

bool surveillance_propose(Report& report, const SurveillanceSuggestion& s, const std::string& when) {
    if (report.surveillance.confirmed.value_or(false)) return false;
    const std::string who = "rule " + s.rule_id.substr(0, s.rule_id.find('.'));
    if (s.matched && s.min_years) field_set_user(report.surveillance.interval_years, *s.min_years, who, when);
    else field_clear(report.surveillance.interval_years);
    if (s.matched) field_set_user(report.surveillance.rule_id, s.rule_id, who, when);
    else field_clear(report.surveillance.rule_id);
    field_set_user(report.surveillance.confirmed, false, who, when);
    return true;
}

}  // namespace es
