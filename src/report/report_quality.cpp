// report_quality.cpp: see report_quality.h. The checks follow the ESGE
// performance measures for lower GI endoscopy (Kaminski et al., Endoscopy
// 2017;49:378-397) and the ASGE/ACG quality indicators for colonoscopy (Rex et
// al., Gastrointest Endosc 2015;81:31-53); which procedure needs what comes
// from the vocabulary's procedure flags, which finding needs what from its term.
#include "report/report_quality.h"

#include <algorithm>
#include <cstdio>

namespace es {
namespace {

std::string number_words(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

class Checker {
  public:
    Checker(const Report& r, const ReportVocabulary& v, const std::vector<std::string>* images)
        : r_(r), v_(v), images_(images) {}
    std::vector<QualityWarning> out;

    void warn(const std::string& path, const char* code, const std::string& message, bool blocks = false) {
        out.push_back({path, code, message, blocks});
    }

    void run() {
        header();
        const VocabOption* proc = r_.header.procedure.has_value() ? v_.find("procedures", *r_.header.procedure.value) : nullptr;
        if (proc && proc->flag("caecum_expected")) extent();
        if (proc && proc->flag("bowel_preparation")) preparation(proc->flag("withdrawal_time"));
        findings();
        interventions();
        closing(proc);
        provenance();
        status();
    }

  private:
    void header() {
        const ReportHeader& h = r_.header;
        if (!h.procedure.has_value()) warn("header.procedure", "procedure_missing", "the procedure is not recorded");
        if (!h.date.has_value()) warn("header.date", "date_missing", "the date of the examination is not recorded");
        if (!h.endoscopist.has_value() || h.endoscopist.value->empty())
            warn("header.endoscopist", "endoscopist_missing", "the endoscopist is not recorded");
        if (!h.indications.has_value() || h.indications.value->empty())
            warn("header.indications", "indication_missing",
                 "no reason for the examination; the MST and the quality indicators require the indication");
        if (!h.sedation.has_value()) warn("header.sedation", "sedation_missing", "the sedation (or none) is not recorded");
    }

    void extent() {
        const ReportExtent& e = r_.extent;
        if (!e.caecal_intubation.has_value()) {
            warn("extent.caecal_intubation", "caecal_intubation_missing",
                 "whether the caecum was reached is not recorded (caecal intubation is a key quality indicator)");
            return;
        }
        if (!*e.caecal_intubation.value) {
            if (!e.incomplete_reason.has_value())
                warn("extent.incomplete_reason", "incomplete_reason_missing",
                     "the caecum was not reached and no reason is given");
            return;
        }
        bool documented = false;
        if (e.caecal_evidence.has_value())
            for (size_t i = 0; i < e.caecal_evidence.value->size(); ++i) {
                const ImageLink& l = (*e.caecal_evidence.value)[i];
                const VocabOption* lm = l.landmark.empty() ? nullptr : v_.find("landmarks", l.landmark);
                if (lm && !lm->flag("caecal"))
                    warn("extent.caecal_evidence[" + std::to_string(i) + "].landmark", "caecal_evidence_not_caecal",
                         "\"" + lm->name + "\" does not show that the caecum was reached; use the appendiceal "
                         "orifice, the ileocaecal valve or the terminal ileum");
                else
                    documented = true;
            }
        if (!documented)
            warn("extent.caecal_evidence", "caecum_not_documented",
                 "caecal intubation is not documented by an image (appendiceal orifice, ileocaecal valve or terminal "
                 "ileum); the ESGE performance measures ask for photo-documentation");
    }

    void preparation(bool withdrawal) {
        const BowelPreparation& p = r_.bowel_preparation;
        const std::pair<const Field<int>*, const char*> segments[] = {
            {&p.bbps_right, "bbps_right"}, {&p.bbps_transverse, "bbps_transverse"}, {&p.bbps_left, "bbps_left"}};
        const char* names[] = {"right colon", "transverse colon", "left colon"};
        for (int i = 0; i < 3; ++i)
            if (!segments[i].first->has_value())
                warn(std::string("bowel_preparation.") + segments[i].second, "bbps_segment_missing",
                     std::string("the ") + names[i] + " is not scored on the Boston Bowel Preparation Scale");
        if (const std::optional<bool> adequate = bbps_adequate(p))
            if (!*adequate)
                warn("bowel_preparation", "bbps_inadequate",
                     "bowel preparation is inadequate (BBPS total " + std::to_string(*bbps_total(p)) +
                         "; adequate needs a total of 6 or more with every segment 2 or more); the guidelines advise "
                         "repeating the colonoscopy within 1 year");
        if (!withdrawal) return;
        if (!p.withdrawal_time_min.has_value())
            warn("bowel_preparation.withdrawal_time_min", "withdrawal_time_missing", "the withdrawal time is not recorded");
        else if (*p.withdrawal_time_min.value < kMinWithdrawalMinutes)
            warn("bowel_preparation.withdrawal_time_min", "withdrawal_time_short",
                 "the withdrawal time is " + number_words(*p.withdrawal_time_min.value) +
                     " min; the quality indicators ask for at least 6 minutes");
    }

    template <class T>
    void check_field(const Finding& f, const ReportTerm& term, const std::string& fp, const std::string& name,
                     const Field<T>& field, const std::string& words) {
        if (field.has_value() && !term.calls(name))
            warn(fp + "." + name, "field_not_for_term",
                 "a " + words + " is recorded but the term \"" + term.name + "\" does not use one; it is kept, "
                 "check it belongs to this finding");
        if (!field.has_value() && term.is_required(name))
            warn(fp + "." + name, "finding_field_missing",
                 "the " + words + " of " + f.id + " (" + term.name + ") is not recorded; this term requires it");
    }

    void links(const Field<ImageLinks>& field, const std::string& path) {
        if (!images_ || !field.has_value()) return;
        for (size_t i = 0; i < field.value->size(); ++i) {
            const std::string& image = (*field.value)[i].image;
            if (std::find(images_->begin(), images_->end(), image) == images_->end())
                warn(path + "[" + std::to_string(i) + "].image", "evidence_image_missing",
                     "the image \"" + image + "\" is not in this case");
        }
    }

    void findings() {
        links(r_.extent.caecal_evidence, "extent.caecal_evidence");
        for (size_t i = 0; i < r_.findings.size(); ++i) {
            const Finding& f = r_.findings[i];
            const std::string fp = "findings[" + std::to_string(i) + "]";
            links(f.evidence, fp + ".evidence");
            if (!f.term.has_value()) {
                warn(fp + ".term", "finding_term_missing", "finding " + f.id + " has no term");
                continue;
            }
            const ReportTerm* term = v_.find_term(*f.term.value);
            if (!term) continue;  // report_from_json refuses unknown terms; a caller-built report may still have one
            check_field(f, *term, fp, "location_segment", f.location_segment, "location");
            check_field(f, *term, fp, "distance_cm", f.distance_cm, "distance");
            check_field(f, *term, fp, "size_mm", f.size_mm, "size");
            check_field(f, *term, fp, "number", f.number, "number of lesions");
            check_field(f, *term, fp, "paris", f.paris, "Paris class");
            check_field(f, *term, fp, "nice", f.nice, "NICE type");
            check_field(f, *term, fp, "jnet", f.jnet, "JNET type");
            for (const std::string& a : term->required) {
                if (!v_.find_attribute(a)) continue;
                auto it = f.attributes.find(a);
                if (it == f.attributes.end() || !it->second.has_value())
                    warn(fp + ".attributes." + a, "finding_field_missing",
                         "the " + v_.find_attribute(a)->name + " of " + f.id + " (" + term->name +
                             ") is not recorded; this term requires it");
            }
            for (const auto& kv : f.attributes)
                if (!term->calls(kv.first))
                    warn(fp + ".attributes." + kv.first, "field_not_for_term",
                         "\"" + kv.first + "\" is recorded but the term \"" + term->name +
                             "\" does not use it; it is kept, check it belongs to this finding");
            if (!f.evidence.has_value() || f.evidence.value->empty())
                warn(fp + ".evidence", "finding_without_image",
                     "finding " + f.id + " is not linked to an image of the case");
        }
    }

    void interventions() {
        for (size_t i = 0; i < r_.interventions.size(); ++i) {
            const Intervention& in = r_.interventions[i];
            const std::string ip = "interventions[" + std::to_string(i) + "]";
            if (!in.method.has_value()) {
                warn(ip + ".method", "intervention_method_missing", "intervention " + in.id + " has no method");
                continue;
            }
            const VocabOption* m = v_.find("interventions", *in.method.value);
            if (!m) continue;
            if (m->flag("resection")) {
                if (in.finding_id.empty())
                    warn(ip + ".finding_id", "resection_without_finding",
                         "the " + m->name + " is not linked to the finding it removed");
                if (!in.resection.has_value())
                    warn(ip + ".resection", "resection_kind_missing",
                         "en bloc or piecemeal is not recorded for the " + m->name +
                             " (piecemeal resection of 20 mm or more changes the follow-up)");
            }
            if (m->flag("specimen")) {
                if (!in.retrieved.has_value() || !*in.retrieved.value)
                    warn(ip + ".retrieved", "specimen_not_retrieved",
                         std::string("the ") + (m->flag("resection") ? "resected lesion" : "specimen") + " of " +
                             (in.finding_id.empty() ? in.id : in.finding_id) +
                             " is not marked retrieved; the ESGE performance measures ask for retrieval for histology");
                else if (!in.specimen_container.has_value() || in.specimen_container.value->empty())
                    warn(ip + ".specimen_container", "specimen_container_missing",
                         "the specimen pot of " + (in.finding_id.empty() ? in.id : in.finding_id) + " is not recorded");
            }
        }
    }

    void closing(const VocabOption* proc) {
        if (!r_.adverse_events.has_value() || r_.adverse_events.value->empty())
            warn("adverse_events", "adverse_events_missing",
                 "adverse events are not recorded (record \"none\" when there were none)");
        if (proc && proc->flag("caecum_expected")) {
            if (!r_.surveillance.interval_years.has_value() && !r_.surveillance.rule_id.has_value())
                warn("surveillance", "surveillance_missing", "no surveillance interval is recommended");
            else if (!r_.surveillance.confirmed.value_or(false))
                warn("surveillance.confirmed", "surveillance_not_confirmed",
                     "the suggested surveillance interval is not confirmed by the clinician");
        }
        if (!r_.recommendations.has_value() || r_.recommendations.value->empty())
            warn("recommendations", "recommendations_missing", "no recommendations for the patient or referrer");
    }

    void provenance() {
        for (const PendingAiValue& p : report_pending_ai_values(r_))
            warn(p.path, "ai_not_accepted",
                 "suggested by " + (p.set_by.empty() ? std::string("the AI") : p.set_by) +
                     " and not yet accepted; accept or change it before signing",
                 true);
    }

    void status() {
        if (r_.status == ReportStatus::Amended && r_.amendment_reason.empty())
            warn("amendment_reason", "amendment_reason_missing", "the amendment does not say why it was made");
        if (r_.status != ReportStatus::Final)
            warn("status", "unsigned",
                 r_.status == ReportStatus::Amended ? "amendment (version " + std::to_string(r_.version) + ") not signed yet"
                                                    : "the report is a draft, not signed yet");
    }

    const Report& r_;
    const ReportVocabulary& v_;
    const std::vector<std::string>* images_;
};

}  // namespace

std::vector<QualityWarning> report_quality_warnings(const Report& report, const ReportVocabulary& vocab,
                                                    const std::vector<std::string>* case_images) {
    Checker c(report, vocab, case_images);
    c.run();
    return c.out;
}

}  // namespace es
