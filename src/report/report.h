// report.h: the structured endoscopy report (WEO Minimal Standard Terminology
// 3.0 order: reasons → extent → preparation → findings → interventions →
// adverse events → diagnoses → recommendations), with where every value came
// from (user, AI with its probability, AI edited by the user), who set it and
// when, and sign-off versioning (a signed version is a frozen snapshot; a
// later change is an amendment, version N+1, signed again).
//
// Pure data plus the few rules that belong to the data itself (BBPS total and
// adequacy, versioning). Vocabulary checks live in report_json/report_vocabulary,
// warnings in report_quality. The JSON shape is documented in README.md.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace es {

// Where a value came from. JSON: "user" | "ai" | "ai_edited".
enum class ValueSource { User, Ai, AiEdited };
const char* value_source_name(ValueSource s);
bool value_source_from_name(const std::string& s, ValueSource& out);

// One report value with its provenance. Empty (no value) unless `value` holds one.
//   AI values: source Ai, probability = the chosen option's score (0..1, when
//   the value was chosen among options), accepted = false until the user
//   accepts it. A user edit of an AI value makes it AiEdited and accepted.
template <class T>
struct Field {
    std::optional<T> value;
    ValueSource source = ValueSource::User;
    std::optional<double> probability;  // AI only
    bool accepted = true;               // false: an AI value the user has not accepted yet
    std::string set_by;                 // user name or model id
    std::string set_at;                 // ISO-8601 UTC, e.g. "2026-11-30T04:12:00Z"

    bool has_value() const { return value.has_value(); }
    // The value, or `fallback` when empty.
    T value_or(const T& fallback) const { return value ? *value : fallback; }
    bool operator==(const Field& o) const {
        return value == o.value && source == o.source && probability == o.probability &&
               accepted == o.accepted && set_by == o.set_by && set_at == o.set_at;
    }
    bool operator!=(const Field& o) const { return !(*this == o); }
};

// A user sets (or edits) a value: an AI value becomes AiEdited; accepted.
template <class T>
void field_set_user(Field<T>& f, T value, const std::string& who, const std::string& when) {
    const bool was_ai = f.has_value() && f.source != ValueSource::User;
    f.value = std::move(value);
    f.source = was_ai ? ValueSource::AiEdited : ValueSource::User;
    if (!was_ai) f.probability.reset();
    f.accepted = true;
    f.set_by = who;
    f.set_at = when;
}

// The AI proposes a value: only into an empty field or over another
// unaccepted AI value; never over a user's value (returns false then).
template <class T>
bool field_set_ai(Field<T>& f, T value, const std::string& model, std::optional<double> probability,
                  const std::string& when) {
    if (f.has_value() && (f.source != ValueSource::Ai || f.accepted)) return false;
    f.value = std::move(value);
    f.source = ValueSource::Ai;
    f.probability = probability;
    f.accepted = false;
    f.set_by = model;
    f.set_at = when;
    return true;
}

// The user accepts an AI value as it is (source stays Ai, set_by stays the model).
template <class T>
void field_accept(Field<T>& f) {
    f.accepted = true;
}

// Empties the field (provenance reset).
template <class T>
void field_clear(Field<T>& f) {
    f = Field<T>();
}

using TextList = std::vector<std::string>;

// A link to evidence in the case: an image (its key in the case, the file
// name) and optionally one annotation on it (0 = the whole image; annotation
// ids start at 1). `landmark` (optional) says which landmark a caecal-evidence
// image shows: a landmark id from the vocabulary (e.g. "appendiceal-orifice").
struct ImageLink {
    std::string image;
    uint64_t annotation_id = 0;
    std::string landmark;
    bool operator==(const ImageLink& o) const {
        return image == o.image && annotation_id == o.annotation_id && landmark == o.landmark;
    }
    bool operator!=(const ImageLink& o) const { return !(*this == o); }
};
using ImageLinks = std::vector<ImageLink>;

// A term-specific attribute value (finding.attributes): text for enum/text
// attributes (e.g. la_grade "B"), a number for number/integer attributes
// (prague_c 3), or a flag for boolean ones.
using AttributeValue = std::variant<std::string, double, bool>;

struct ReportHeader {
    Field<std::string> procedure;    // vocabulary "procedures": colonoscopy | sigmoidoscopy | gastroscopy
    Field<std::string> date;         // YYYY-MM-DD or ISO-8601 date-time
    Field<std::string> endoscopist;  // free text
    Field<std::string> instrument;   // free text (scope model / serial)
    Field<std::string> sedation;     // vocabulary "sedation"
    Field<TextList> indications;     // vocabulary "indications" (MST reasons for examination)
    bool operator==(const ReportHeader& o) const;
};

struct ReportExtent {
    Field<TextList> landmarks_reached;    // vocabulary "landmarks"
    Field<bool> caecal_intubation;        // colonoscopy only
    Field<ImageLinks> caecal_evidence;    // images of appendiceal orifice / ileocaecal valve / terminal ileum
    Field<std::string> incomplete_reason; // vocabulary "incomplete_reasons"
    bool operator==(const ReportExtent& o) const;
};

// Boston Bowel Preparation Scale (Lai et al. 2009), each segment 0-3.
struct BowelPreparation {
    Field<int> bbps_right, bbps_transverse, bbps_left;
    Field<double> withdrawal_time_min;
    bool operator==(const BowelPreparation& o) const;
};

// BBPS total (0-9), or nothing while any segment is unscored.
std::optional<int> bbps_total(const BowelPreparation& p);
// Adequate: total >= 6 and every segment >= 2; nothing while any segment is unscored.
std::optional<bool> bbps_adequate(const BowelPreparation& p);

struct Finding {
    std::string id;                      // stable within the report: "F1", "F2", ...
    Field<std::string> term;             // vocabulary term id (MST 3.0 finding)
    Field<std::string> location_segment; // vocabulary "segments"
    Field<double> distance_cm;           // from the anus (lower GI) or the incisors (upper GI)
    Field<double> size_mm;               // largest diameter
    Field<int> number;                   // how many lesions this finding describes
    Field<std::string> paris, nice, jnet;
    std::map<std::string, Field<AttributeValue>> attributes;  // what the term calls for: prague_c, la_grade, mayo, histology, ...
    Field<ImageLinks> evidence;
    Field<std::string> notes;
    bool operator==(const Finding& o) const;
};

struct Intervention {
    std::string id;                        // "I1", "I2", ...
    std::string finding_id;                // the finding treated ("" = none, e.g. a tattoo)
    Field<std::string> method;             // vocabulary "interventions"
    Field<std::string> resection;          // "en_bloc" | "piecemeal" (vocabulary "resection")
    Field<bool> retrieved;                 // specimen retrieved
    Field<std::string> specimen_container; // the pot's label, e.g. "1" or "A"
    bool operator==(const Intervention& o) const;
};

struct Surveillance {
    Field<double> interval_years;  // 0.5 = 6 months; the clinician's choice
    Field<std::string> rule_id;    // the rule that suggested it ("usmstf2020.ta-1-2-lt10"), "" if none
    Field<bool> confirmed;         // the clinician confirmed the suggestion
    bool operator==(const Surveillance& o) const;
};

enum class ReportStatus { Draft, Final, Amended };  // JSON: "draft" | "final" | "amended"
const char* report_status_name(ReportStatus s);
bool report_status_from_name(const std::string& s, ReportStatus& out);

// A signed version: the report's content as it was signed (canonical JSON of
// the report without its version list), frozen.
struct ReportVersion {
    int number = 0;
    std::string signed_by, signed_at, reason;  // reason: why an amendment was made ("" for version 1)
    std::string snapshot;                      // report_content_to_json() at signing
    bool operator==(const ReportVersion& o) const;
};

struct Report {
    ReportHeader header;
    ReportExtent extent;
    BowelPreparation bowel_preparation;
    std::vector<Finding> findings;
    std::vector<Intervention> interventions;
    Field<TextList> adverse_events;  // vocabulary "adverse_events"
    Field<TextList> diagnoses;       // text or vocabulary terms
    Field<std::string> impression;
    Field<std::string> recommendations;
    Surveillance surveillance;

    // Versioning: `version` is the number of the version being written (or last
    // signed, when status is Final). Draft v1 → sign → Final v1 → change →
    // Amended v2 (a draft) → sign → Final v2 ...
    ReportStatus status = ReportStatus::Draft;
    int version = 1;
    std::string amendment_reason;        // why the amendment in progress is made
    std::vector<ReportVersion> versions; // signed versions, oldest first

    Finding* find_finding(const std::string& id);
    const Finding* find_finding(const std::string& id) const;
    Intervention* find_intervention(const std::string& id);
    // Next free id with the prefix: "F3" after F1, F2 ("F", "I").
    std::string next_finding_id() const;
    std::string next_intervention_id() const;
    bool operator==(const Report& o) const;
    bool operator!=(const Report& o) const { return !(*this == o); }
};

// True while the report can be edited without starting an amendment.
inline bool report_is_draft(const Report& r) { return r.status != ReportStatus::Final; }

// Call before changing a signed report: a Final report becomes an amendment
// in progress (status Amended, version N+1, the reason kept); returns true when
// it did so. A draft is left as it is (false).
bool report_begin_amendment(Report& r, const std::string& reason = "");

// AI values the user has not accepted yet, by field path ("findings[0].paris").
struct PendingAiValue {
    std::string path, set_by;
};
std::vector<PendingAiValue> report_pending_ai_values(const Report& r);

// Signs the draft or amendment: records version N with signer, time, reason and
// the frozen snapshot; status becomes Final. Refuses (false, message) when the
// report is already final (nothing changed since), while an AI value is not
// accepted yet, or when the signer or time is missing.
bool report_sign(Report& r, const std::string& signer, const std::string& when, std::string* error);

// True when the text is an ISO-8601 UTC time "YYYY-MM-DDTHH:MM[:SS[.fff]]Z" or a date "YYYY-MM-DD".
bool is_iso8601_time(const std::string& s);

}  // namespace es
