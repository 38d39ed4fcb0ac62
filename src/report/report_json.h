// report_json.h: the report as JSON (the "report" key of a case bundle; the
// shape is in README.md) and back, checked against the vocabulary. A bad
// report is refused with a message naming the field path in plain words
// ("findings[2].size_mm: -3 is not a size; sizes are 0 mm or more"); hostile
// text (huge, deeply nested, wrong types, NaN) never crashes the reader.
#pragma once
#include <string>

#include "report/report.h"
#include "report/report_vocabulary.h"

namespace es {

// Limits of what the reader accepts (the messages quote them).
struct ReportLimits {
    static constexpr size_t kMaxJsonBytes = 16u << 20;  // whole report text, signed versions included
    static constexpr int kMaxNesting = 24;              // arrays/objects inside each other
    static constexpr size_t kMaxShortText = 300;        // names, ids, instrument, set_by
    static constexpr size_t kMaxLongText = 20000;       // notes, impression, recommendations
    static constexpr size_t kMaxListItems = 200;        // indications, evidence links, diagnoses...
    static constexpr size_t kMaxFindings = 500;
    static constexpr size_t kMaxVersions = 1000;
};

// The whole report (content + status, version, signed versions). Canonical:
// keys in a fixed order, empty fields left out, so equal reports give equal text.
std::string report_to_json(const Report& report);

// The content only (no status/version/versions): what a signed version freezes.
std::string report_content_to_json(const Report& report);

// Reads a report written by report_to_json (or by hand: a field may be a bare
// value, which counts as entered by the user). Every term and option must be
// in `vocab`. On failure returns false, sets *error to "<field path>: <what is
// wrong>; <what is allowed>" and leaves *out unchanged. Never throws.
bool report_from_json(const std::string& text, const ReportVocabulary& vocab, Report* out, std::string* error);

// The report as signed version `number` (1-based) was: its frozen content,
// status Final, version `number`, the signed versions up to it. For showing or
// exporting an earlier version. False with a message when there is no such version.
bool report_signed_version(const Report& report, int number, const ReportVocabulary& vocab, Report* out,
                           std::string* error);

}  // namespace es
