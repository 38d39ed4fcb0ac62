// report_text.cpp: see report_text.h.
#include "report/report_text.h"

#include "report/report_narrative.h"

namespace es {
namespace {

std::string names(const ReportVocabulary& vocab, const char* list, const Field<TextList>& f) {
    std::string out;
    if (!f.has_value()) return out;
    for (const std::string& id : *f.value) out += (out.empty() ? "" : "; ") + vocab.name_of(list, id);
    return out;
}

void line(std::string& out, const std::string& label, const std::string& value) {
    if (!value.empty()) out += label + ": " + value + "\n";
}

void heading(std::string& out, const char* title) { out += std::string("\n") + title + "\n"; }

}  // namespace

std::string report_status_line(const Report& r) {
    if (r.status == ReportStatus::Final && !r.versions.empty()) {
        const ReportVersion& v = r.versions.back();
        return "FINAL, version " + std::to_string(v.number) + ", signed by " + v.signed_by + " on " + v.signed_at;
    }
    if (r.status == ReportStatus::Amended)
        return "AMENDMENT (version " + std::to_string(r.version) + ") in progress, not signed";
    return "DRAFT, not signed";
}

std::string report_text(const Report& r, const ReportVocabulary& vocab) {
    std::string out;
    const std::string procedure =
        r.header.procedure.has_value() ? vocab.name_of("procedures", *r.header.procedure.value) : "Endoscopy";
    out += procedure + " report\n";
    out += "Status: " + report_status_line(r) + "\n";
    line(out, "Date", r.header.date.value_or(""));
    line(out, "Endoscopist", r.header.endoscopist.value_or(""));
    line(out, "Instrument", r.header.instrument.value_or(""));
    line(out, "Sedation", r.header.sedation.has_value() ? vocab.name_of("sedation", *r.header.sedation.value) : "");
    line(out, "Indications", names(vocab, "indications", r.header.indications));

    const ReportNarrative n = report_narrative(r, vocab);
    heading(out, "EXTENT AND PREPARATION");
    const std::string extent = extent_sentences(r, vocab);
    out += (extent.empty() ? "Not recorded." : extent) + "\n";

    heading(out, "FINDINGS");
    if (r.findings.empty()) out += "No abnormality found.\n";
    for (size_t i = 0; i < r.findings.size(); ++i) out += r.findings[i].id + ": " + n.finding_sentences[i] + "\n";

    if (!r.interventions.empty()) {
        heading(out, "INTERVENTIONS");
        for (const Intervention& in : r.interventions) {
            out += "- " + in.id + (in.finding_id.empty() ? "" : " (" + in.finding_id + ")") + ": " +
                   (in.method.has_value() ? vocab.name_of("interventions", *in.method.value) : "method not recorded");
            if (in.resection.has_value()) out += ", " + report_lower_first(vocab.name_of("resection", *in.resection.value));
            if (in.retrieved.has_value()) out += *in.retrieved.value ? ", retrieved" : ", not retrieved";
            if (in.specimen_container.has_value() && !in.specimen_container.value->empty())
                out += ", pot " + *in.specimen_container.value;
            out += "\n";
        }
    }

    heading(out, "ADVERSE EVENTS");
    const std::string events = names(vocab, "adverse_events", r.adverse_events);
    out += (events.empty() ? "Not recorded." : events) + "\n";

    if (r.diagnoses.has_value() && !r.diagnoses.value->empty()) {
        heading(out, "DIAGNOSES");
        for (const std::string& d : *r.diagnoses.value) out += "- " + d + "\n";
    }
    heading(out, "IMPRESSION");
    out += (r.impression.has_value() && !r.impression.value->empty() ? *r.impression.value : n.impression) + "\n";
    if (r.recommendations.has_value() && !r.recommendations.value->empty()) {
        heading(out, "RECOMMENDATIONS");
        out += *r.recommendations.value + "\n";
    }
    const std::string surveillance = surveillance_sentence(r);
    if (!surveillance.empty()) {
        heading(out, "SURVEILLANCE");
        out += surveillance + "\n";
    }
    const std::vector<PendingAiValue> pending = report_pending_ai_values(r);
    if (!pending.empty()) {
        heading(out, "AI SUGGESTIONS NOT YET ACCEPTED");
        for (const PendingAiValue& p : pending) out += "- " + p.path + (p.set_by.empty() ? "" : " (" + p.set_by + ")") + "\n";
    }
    if (!r.versions.empty()) {
        heading(out, "VERSIONS");
        for (const ReportVersion& v : r.versions) {
            out += "- Version " + std::to_string(v.number) + ": signed by " + v.signed_by + " on " + v.signed_at;
            if (!v.reason.empty()) out += " (amendment: " + v.reason + ")";
            out += "\n";
        }
    }
    return out;
}

}  // namespace es
