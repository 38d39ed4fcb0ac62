// report.cpp: see report.h.
#include "report/report.h"

#include <cctype>

#include "report/report_json.h"

namespace es {

const char* value_source_name(ValueSource s) {
    switch (s) {
        case ValueSource::User: return "user";
        case ValueSource::Ai: return "ai";
        case ValueSource::AiEdited: return "ai_edited";
    }
    return "user";
}

bool value_source_from_name(const std::string& s, ValueSource& out) {
    if (s == "user") out = ValueSource::User;
    else if (s == "ai") out = ValueSource::Ai;
    else if (s == "ai_edited") out = ValueSource::AiEdited;
    else return false;
    return true;
}

const char* report_status_name(ReportStatus s) {
    switch (s) {
        case ReportStatus::Draft: return "draft";
        case ReportStatus::Final: return "final";
        case ReportStatus::Amended: return "amended";
    }
    return "draft";
}

bool report_status_from_name(const std::string& s, ReportStatus& out) {
    if (s == "draft") out = ReportStatus::Draft;
    else if (s == "final") out = ReportStatus::Final;
    else if (s == "amended") out = ReportStatus::Amended;
    else return false;
    return true;
}

bool ReportHeader::operator==(const ReportHeader& o) const {
    return procedure == o.procedure && date == o.date && endoscopist == o.endoscopist &&
           instrument == o.instrument && sedation == o.sedation && indications == o.indications;
}

bool ReportExtent::operator==(const ReportExtent& o) const {
    return landmarks_reached == o.landmarks_reached && caecal_intubation == o.caecal_intubation &&
           caecal_evidence == o.caecal_evidence && incomplete_reason == o.incomplete_reason;
}

bool BowelPreparation::operator==(const BowelPreparation& o) const {
    return bbps_right == o.bbps_right && bbps_transverse == o.bbps_transverse && bbps_left == o.bbps_left &&
           withdrawal_time_min == o.withdrawal_time_min;
}

bool Finding::operator==(const Finding& o) const {
    return id == o.id && term == o.term && location_segment == o.location_segment &&
           distance_cm == o.distance_cm && size_mm == o.size_mm && number == o.number && paris == o.paris &&
           nice == o.nice && jnet == o.jnet && attributes == o.attributes && evidence == o.evidence &&
           notes == o.notes;
}

bool Intervention::operator==(const Intervention& o) const {
    return id == o.id && finding_id == o.finding_id && method == o.method && resection == o.resection &&
           retrieved == o.retrieved && specimen_container == o.specimen_container;
}

bool Surveillance::operator==(const Surveillance& o) const {
    return interval_years == o.interval_years && rule_id == o.rule_id && confirmed == o.confirmed;
}

bool ReportVersion::operator==(const ReportVersion& o) const {
    return number == o.number && signed_by == o.signed_by && signed_at == o.signed_at && reason == o.reason &&
           snapshot == o.snapshot;
}

bool Report::operator==(const Report& o) const {
    return header == o.header && extent == o.extent && bowel_preparation == o.bowel_preparation &&
           findings == o.findings && interventions == o.interventions && adverse_events == o.adverse_events &&
           diagnoses == o.diagnoses && impression == o.impression && recommendations == o.recommendations &&
           surveillance == o.surveillance && status == o.status && version == o.version &&
           amendment_reason == o.amendment_reason && versions == o.versions;
}

std::optional<int> bbps_total(const BowelPreparation& p) {
    if (!p.bbps_right.has_value() || !p.bbps_transverse.has_value() || !p.bbps_left.has_value()) return std::nullopt;
    return *p.bbps_right.value + *p.bbps_transverse.value + *p.bbps_left.value;
}

std::optional<bool> bbps_adequate(const BowelPreparation& p) {
    const std::optional<int> total = bbps_total(p);
    if (!total) return std::nullopt;
    return *total >= 6 && *p.bbps_right.value >= 2 && *p.bbps_transverse.value >= 2 && *p.bbps_left.value >= 2;
}

Finding* Report::find_finding(const std::string& id) {
    for (Finding& f : findings)
        if (f.id == id) return &f;
    return nullptr;
}

const Finding* Report::find_finding(const std::string& id) const {
    for (const Finding& f : findings)
        if (f.id == id) return &f;
    return nullptr;
}

Intervention* Report::find_intervention(const std::string& id) {
    for (Intervention& i : interventions)
        if (i.id == id) return &i;
    return nullptr;
}

namespace {

// Highest N among ids "<prefix>N", plus one (ids never reused while present).
template <class Items>
std::string next_id(const Items& items, const std::string& prefix) {
    long long highest = 0;
    for (const auto& item : items) {
        const std::string& id = item.id;
        if (id.size() <= prefix.size() || id.compare(0, prefix.size(), prefix) != 0 || id.size() > prefix.size() + 9)
            continue;
        long long n = 0;
        bool digits = true;
        for (size_t i = prefix.size(); i < id.size(); ++i) {
            if (!std::isdigit(static_cast<unsigned char>(id[i]))) {
                digits = false;
                break;
            }
            n = n * 10 + (id[i] - '0');
        }
        if (digits && n > highest) highest = n;
    }
    return prefix + std::to_string(highest + 1);
}

bool all_digits(const std::string& s, size_t from, size_t count) {
    if (from + count > s.size()) return false;
    for (size_t i = from; i < from + count; ++i)
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    return true;
}

int two_digits(const std::string& s, size_t at) { return (s[at] - '0') * 10 + (s[at + 1] - '0'); }

}  // namespace

std::string Report::next_finding_id() const { return next_id(findings, "F"); }
std::string Report::next_intervention_id() const { return next_id(interventions, "I"); }

bool is_iso8601_time(const std::string& s) {
    // YYYY-MM-DD
    if (s.size() < 10 || !all_digits(s, 0, 4) || s[4] != '-' || !all_digits(s, 5, 2) || s[7] != '-' ||
        !all_digits(s, 8, 2))
        return false;
    const int month = two_digits(s, 5), day = two_digits(s, 8);
    if (month < 1 || month > 12 || day < 1 || day > 31) return false;
    if (s.size() == 10) return true;
    // THH:MM[:SS[.fff]]Z
    if (s.size() < 17 || s[10] != 'T' || !all_digits(s, 11, 2) || s[13] != ':' || !all_digits(s, 14, 2)) return false;
    if (two_digits(s, 11) > 23 || two_digits(s, 14) > 59) return false;
    size_t i = 16;
    if (s[i] == ':') {
        if (!all_digits(s, i + 1, 2) || two_digits(s, i + 1) > 60) return false;
        i += 3;
        if (i < s.size() && s[i] == '.') {
            size_t digits = 0;
            ++i;
            while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
            if (digits == 0 || digits > 9) return false;
        }
    }
    return i + 1 == s.size() && s[i] == 'Z';
}

namespace {

struct PendingCollector {
    std::vector<PendingAiValue> out;
    template <class T>
    void operator()(const Field<T>& f, const std::string& path) {
        if (f.has_value() && f.source == ValueSource::Ai && !f.accepted) out.push_back({path, f.set_by});
    }
};

}  // namespace

std::vector<PendingAiValue> report_pending_ai_values(const Report& r) {
    PendingCollector c;
    const ReportHeader& h = r.header;
    c(h.procedure, "header.procedure");
    c(h.date, "header.date");
    c(h.endoscopist, "header.endoscopist");
    c(h.instrument, "header.instrument");
    c(h.sedation, "header.sedation");
    c(h.indications, "header.indications");
    c(r.extent.landmarks_reached, "extent.landmarks_reached");
    c(r.extent.caecal_intubation, "extent.caecal_intubation");
    c(r.extent.caecal_evidence, "extent.caecal_evidence");
    c(r.extent.incomplete_reason, "extent.incomplete_reason");
    c(r.bowel_preparation.bbps_right, "bowel_preparation.bbps_right");
    c(r.bowel_preparation.bbps_transverse, "bowel_preparation.bbps_transverse");
    c(r.bowel_preparation.bbps_left, "bowel_preparation.bbps_left");
    c(r.bowel_preparation.withdrawal_time_min, "bowel_preparation.withdrawal_time_min");
    for (size_t i = 0; i < r.findings.size(); ++i) {
        const Finding& f = r.findings[i];
        const std::string fp = "findings[" + std::to_string(i) + "].";
        c(f.term, fp + "term");
        c(f.location_segment, fp + "location_segment");
        c(f.distance_cm, fp + "distance_cm");
        c(f.size_mm, fp + "size_mm");
        c(f.number, fp + "number");
        c(f.paris, fp + "paris");
        c(f.nice, fp + "nice");
        c(f.jnet, fp + "jnet");
        for (const auto& kv : f.attributes) c(kv.second, fp + "attributes." + kv.first);
        c(f.evidence, fp + "evidence");
        c(f.notes, fp + "notes");
    }
    for (size_t i = 0; i < r.interventions.size(); ++i) {
        const Intervention& in = r.interventions[i];
        const std::string ip = "interventions[" + std::to_string(i) + "].";
        c(in.method, ip + "method");
        c(in.resection, ip + "resection");
        c(in.retrieved, ip + "retrieved");
        c(in.specimen_container, ip + "specimen_container");
    }
    c(r.adverse_events, "adverse_events");
    c(r.diagnoses, "diagnoses");
    c(r.impression, "impression");
    c(r.recommendations, "recommendations");
    c(r.surveillance.interval_years, "surveillance.interval_years");
    c(r.surveillance.rule_id, "surveillance.rule_id");
    c(r.surveillance.confirmed, "surveillance.confirmed");
    return c.out;
}

bool report_begin_amendment(Report& r, const std::string& reason) {
    if (r.status != ReportStatus::Final) return false;
    r.status = ReportStatus::Amended;
    r.version += 1;
    r.amendment_reason = reason;
    return true;
}

bool report_sign(Report& r, const std::string& signer, const std::string& when, std::string* error) {
    auto fail = [&](const std::string& m) {
        if (error) *error = m;
        return false;
    };
    if (r.status == ReportStatus::Final)
        return fail("version " + std::to_string(r.version) +
                    " is already signed and nothing has changed since; change the report to start an amendment");
    if (signer.empty()) return fail("the report cannot be signed without the signer's name");
    if (!is_iso8601_time(when)) return fail("the signing time \"" + when + "\" is not an ISO-8601 UTC time");
    const std::vector<PendingAiValue> pending = report_pending_ai_values(r);
    if (!pending.empty())
        return fail(std::to_string(pending.size()) + " AI value" + (pending.size() == 1 ? " is" : "s are") +
                    " not accepted yet (first: " + pending.front().path + "); accept or change each before signing");
    ReportVersion v;
    v.number = r.version;
    v.signed_by = signer;
    v.signed_at = when;
    v.reason = r.status == ReportStatus::Amended ? r.amendment_reason : "";
    r.status = ReportStatus::Final;
    r.amendment_reason.clear();
    v.snapshot = report_content_to_json(r);
    r.versions.push_back(std::move(v));
    return true;
}

}  // namespace es
