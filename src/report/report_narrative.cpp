// report_narrative.cpp: see report_narrative.h.
#include "report/report_narrative.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace es {
namespace {

std::string lower_first(std::string s);

std::string lower_first_impl(std::string s) {
    if (!s.empty() && std::isupper(static_cast<unsigned char>(s[0])) &&
        !(s.size() > 1 && std::isupper(static_cast<unsigned char>(s[1]))))
        s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
    return s;
}

std::string join_words(const std::vector<std::string>& items, const char* last = " and ") {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += i + 1 == items.size() ? last : ", ";
        out += items[i];
    }
    return out;
}

std::string attribute_words(const ReportVocabulary& vocab, const std::string& id, const AttributeValue& value) {
    const ReportAttribute* def = vocab.find_attribute(id);
    const std::string name = def ? def->name : id;
    if (const std::string* s = std::get_if<std::string>(&value)) {
        if (def && def->type == "enum") {
            const std::string option = vocab.name_of(def->list, *s);
            // Options that already say what they are ("LA grade B", "Mayo 2") stand alone.
            if (option.find(' ') != std::string::npos && option != *s) return option;
            return name + " " + option;
        }
        return name + ": " + *s;
    }
    if (const double* d = std::get_if<double>(&value))
        return name + " " + report_number(*d) + (def && !def->unit.empty() ? " " + def->unit : "");
    return name + (std::get<bool>(value) ? ": yes" : ": no");
}

std::string lower_first(std::string s) { return lower_first_impl(std::move(s)); }

}  // namespace

std::string report_lower_first(std::string s) { return lower_first(std::move(s)); }

std::string report_number(double v) {
    if (!std::isfinite(v)) return "?";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    std::string s = buf;
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    if (s == "-0") s = "0";
    return s;
}

std::string finding_sentence(const Report& report, const Finding& f, const ReportVocabulary& vocab) {
    std::string what = f.term.has_value() ? vocab.term_name(*f.term.value) : "Finding (no term yet)";
    const int number = f.number.value_or(1);
    std::vector<std::string> parts;
    if (number > 1) what = std::to_string(number) + " x " + lower_first(what);
    if (f.size_mm.has_value()) parts.push_back((number > 1 ? "up to " : "") + report_number(*f.size_mm.value) + " mm");
    if (f.paris.has_value()) parts.push_back("Paris " + *f.paris.value);
    if (f.nice.has_value()) parts.push_back("NICE " + *f.nice.value);
    if (f.jnet.has_value()) parts.push_back("JNET " + *f.jnet.value);
    // Prague C&M reads as one value.
    auto c = f.attributes.find("prague_c"), m = f.attributes.find("prague_m");
    const bool prague = c != f.attributes.end() && m != f.attributes.end() && c->second.has_value() &&
                        m->second.has_value() && std::holds_alternative<double>(*c->second.value) &&
                        std::holds_alternative<double>(*m->second.value);
    if (prague)
        parts.push_back("Prague C" + report_number(std::get<double>(*c->second.value)) + "M" +
                        report_number(std::get<double>(*m->second.value)));
    for (const auto& kv : f.attributes) {
        if (!kv.second.has_value()) continue;
        if (prague && (kv.first == "prague_c" || kv.first == "prague_m")) continue;
        if (kv.first == "histology" || kv.first == "dysplasia") continue;  // said separately below
        parts.push_back(attribute_words(vocab, kv.first, *kv.second.value));
    }
    std::string s = what;
    if (!parts.empty()) s += ", " + join_words(parts, ", ");
    if (f.location_segment.has_value()) s += ", in the " + lower_first(vocab.name_of("segments", *f.location_segment.value));
    if (f.distance_cm.has_value()) s += " at " + report_number(*f.distance_cm.value) + " cm";
    s += ".";

    auto histology = f.attributes.find("histology");
    if (histology != f.attributes.end() && histology->second.has_value()) {
        const std::string* h = std::get_if<std::string>(&*histology->second.value);
        if (h) {
            s += " Histology: " + lower_first(vocab.name_of("histology", *h));
            auto d = f.attributes.find("dysplasia");
            if (d != f.attributes.end() && d->second.has_value())
                if (const std::string* dv = std::get_if<std::string>(&*d->second.value))
                    s += ", " + lower_first(vocab.name_of("dysplasia", *dv));
            s += ".";
        }
    }

    for (const Intervention& in : report.interventions) {
        if (in.finding_id != f.id || !in.method.has_value()) continue;
        std::vector<std::string> how;
        if (in.resection.has_value()) how.push_back(lower_first(vocab.name_of("resection", *in.resection.value)));
        if (in.retrieved.has_value()) {
            std::string r = *in.retrieved.value ? "retrieved" : "not retrieved";
            if (*in.retrieved.value && in.specimen_container.has_value() && !in.specimen_container.value->empty())
                r += " (pot " + *in.specimen_container.value + ")";
            how.push_back(r);
        }
        const VocabOption* m2 = vocab.find("interventions", *in.method.value);
        const bool removal = m2 && m2->flag("resection");
        s += std::string(" ") + (removal ? "Removed by " : "Treated by ") +
             lower_first(vocab.name_of("interventions", *in.method.value));
        if (!how.empty()) s += ", " + join_words(how, ", ");
        s += ".";
    }
    if (f.notes.has_value() && !f.notes.value->empty()) {
        s += " " + *f.notes.value;
        if (s.back() != '.' && s.back() != '!' && s.back() != '?') s += ".";
    }
    return s;
}

std::string extent_sentences(const Report& report, const ReportVocabulary& vocab) {
    std::string s;
    const std::string procedure = report.header.procedure.value_or("");
    const VocabOption* proc = procedure.empty() ? nullptr : vocab.find("procedures", procedure);
    if (proc) s += proc->name;
    const ReportExtent& e = report.extent;
    if (proc && proc->flag("caecum_expected") && e.caecal_intubation.has_value()) {
        if (*e.caecal_intubation.value) {
            s += " to the caecum";
            std::vector<std::string> shown;
            if (e.caecal_evidence.has_value())
                for (const ImageLink& l : *e.caecal_evidence.value)
                    if (!l.landmark.empty()) {
                        const std::string name = "the " + lower_first(vocab.name_of("landmarks", l.landmark));
                        if (std::find(shown.begin(), shown.end(), name) == shown.end()) shown.push_back(name);
                    }
            if (!shown.empty()) s += ", documented by images of " + join_words(shown);
            else if (e.caecal_evidence.has_value() && !e.caecal_evidence.value->empty())
                s += ", documented by " + std::to_string(e.caecal_evidence.value->size()) + " image" +
                     (e.caecal_evidence.value->size() == 1 ? "" : "s");
        } else {
            s += ", incomplete: the caecum was not reached";
            if (e.incomplete_reason.has_value())
                s += " (" + lower_first(vocab.name_of("incomplete_reasons", *e.incomplete_reason.value)) + ")";
        }
        s += ".";
    } else if (!s.empty()) {
        s += ".";
    }
    if (e.landmarks_reached.has_value() && !e.landmarks_reached.value->empty() && !(proc && proc->flag("caecum_expected"))) {
        std::vector<std::string> names;
        for (const std::string& l : *e.landmarks_reached.value) names.push_back(lower_first(vocab.name_of("landmarks", l)));
        s += (s.empty() ? "" : " ") + std::string("Landmarks reached: ") + join_words(names) + ".";
    }
    const BowelPreparation& p = report.bowel_preparation;
    if (const std::optional<int> total = bbps_total(p)) {
        s += (s.empty() ? "" : " ") + std::string("Boston Bowel Preparation Scale ") + std::to_string(*total) + " (right " +
             std::to_string(*p.bbps_right.value) + ", transverse " + std::to_string(*p.bbps_transverse.value) + ", left " +
             std::to_string(*p.bbps_left.value) + "): " + (*bbps_adequate(p) ? "adequate." : "inadequate.");
    } else if (p.bbps_right.has_value() || p.bbps_transverse.has_value() || p.bbps_left.has_value()) {
        s += (s.empty() ? "" : " ") + std::string("Boston Bowel Preparation Scale incompletely scored.");
    }
    if (p.withdrawal_time_min.has_value())
        s += (s.empty() ? "" : " ") + std::string("Withdrawal time ") + report_number(*p.withdrawal_time_min.value) + " min.";
    return s;
}

ReportNarrative report_narrative(const Report& report, const ReportVocabulary& vocab) {
    ReportNarrative n;
    n.findings_text = extent_sentences(report, vocab);
    for (const Finding& f : report.findings) {
        n.finding_sentences.push_back(finding_sentence(report, f, vocab));
        n.findings_text += (n.findings_text.empty() ? "" : "\n") + n.finding_sentences.back();
    }
    if (report.findings.empty()) n.findings_text += (n.findings_text.empty() ? "" : "\n") + std::string("No abnormality found.");

    // Impression: one line per finding term (counted), then the preparation when inadequate.
    std::vector<std::string> lines;
    for (const Finding& f : report.findings) {
        if (!f.term.has_value()) continue;
        std::string line = vocab.term_name(*f.term.value);
        const int number = f.number.value_or(1);
        if (number > 1) line = std::to_string(number) + " x " + lower_first(line);
        if (f.location_segment.has_value()) line += ", " + lower_first(vocab.name_of("segments", *f.location_segment.value));
        if (f.size_mm.has_value()) line += ", " + report_number(*f.size_mm.value) + " mm";
        for (const Intervention& in : report.interventions)
            if (in.finding_id == f.id && in.method.has_value()) {
                const VocabOption* m = vocab.find("interventions", *in.method.value);
                if (m && m->flag("resection")) {
                    line += ", removed";
                    if (in.resection.has_value()) line += " " + lower_first(vocab.name_of("resection", *in.resection.value));
                    break;
                }
            }
        lines.push_back(line);
    }
    if (lines.empty()) lines.push_back(report.findings.empty() ? "Normal examination" : "Findings without a term");
    if (const std::optional<bool> adequate = bbps_adequate(report.bowel_preparation))
        if (!*adequate) lines.push_back("Inadequate bowel preparation");
    if (report.extent.caecal_intubation.has_value() && !*report.extent.caecal_intubation.value)
        lines.push_back("Incomplete examination");
    for (size_t i = 0; i < lines.size(); ++i)
        n.impression += (i ? "\n" : "") + (lines.size() > 1 ? std::to_string(i + 1) + ". " : "") + lines[i] + ".";
    return n;
}

std::string surveillance_sentence(const Report& report) {
    const Surveillance& s = report.surveillance;
    if (!s.interval_years.has_value() && !s.rule_id.has_value()) return "";
    std::string out = "Surveillance colonoscopy";
    if (s.interval_years.has_value()) {
        const double y = *s.interval_years.value;
        if (y < 1) out += " in " + report_number(std::round(y * 12)) + " months";
        else out += " in " + report_number(y) + (y == 1 ? " year" : " years");
    } else {
        out += ": no interval yet";
    }
    if (s.rule_id.has_value() && !s.rule_id.value->empty()) out += " (rule " + *s.rule_id.value + ")";
    out += s.confirmed.value_or(false) ? ", confirmed by the clinician." : ", suggested, not yet confirmed.";
    return out;
}

}  // namespace es
