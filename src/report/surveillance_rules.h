// surveillance_rules.h: post-polypectomy surveillance intervals from guideline
// rule tables kept as data (models/report/surveillance_*.json). The core
// derives facts from the report (how many adenomas, the largest, villous or
// high-grade, piecemeal ≥ 20 mm, preparation adequate, ...); a table is an
// ordered list of rules, each a set of conditions on those facts with the
// interval it suggests and the guideline passage it comes from. The first
// rule whose conditions all hold wins, so tables list the shortest intervals
// first. The result is a suggestion the clinician confirms.
//
// File format "endoscribe-surveillance-rules", version 1 (README.md):
//   id, name, source, procedures: [procedure ids the table applies to],
//   rules: [{id, when: [{fact, op: "=="|"!="|">"|">="|"<"|"<=", value: number}],
//            interval_years: {min, max} | null, text, citation}]
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "report/report.h"
#include "report/report_vocabulary.h"

namespace es {

struct SurveillanceCondition {
    std::string fact, op;
    double value = 0;
};

struct SurveillanceRule {
    std::string id;  // unique in its table; the full id is "<table id>.<rule id>"
    std::vector<SurveillanceCondition> when;
    std::optional<double> min_years, max_years;  // none: no interval (e.g. awaiting histology)
    std::string text;                            // the recommendation in words
    std::string citation;                        // guideline + recommendation/table
};

struct SurveillanceTable {
    std::string id, name, source;
    std::vector<std::string> procedures;
    std::vector<SurveillanceRule> rules;
    const SurveillanceRule* find(const std::string& rule_id) const;  // rule id with or without the table prefix
};

// The facts a rule can name, with what each means (README.md lists them too).
const std::map<std::string, std::string>& surveillance_fact_descriptions();

// Parses a rule table; every fact must be one of surveillance_fact_descriptions().
bool surveillance_table_parse(const std::string& json_text, SurveillanceTable* out, std::string* error);

// The facts of a report (unknown ones are absent: a rule naming an absent fact
// does not match). Counts add up each finding's `number` (1 when empty).
std::map<std::string, double> surveillance_facts(const Report& report, const ReportVocabulary& vocab);

struct SurveillanceSuggestion {
    bool matched = false;
    std::string rule_id;  // "<table>.<rule>"
    std::optional<double> min_years, max_years;
    std::string text, citation, guideline;  // guideline: the table's name
    std::string why;                        // when nothing matched: why (not a colonoscopy, ...)
    std::vector<std::string> because;       // the conditions that held, in words ("adenomas = 2")
    // "3 years", "3-5 years", "6 months", "3-6 months", or "" without an interval.
    std::string interval_words() const;
};

SurveillanceSuggestion suggest_surveillance(const Report& report, const ReportVocabulary& vocab,
                                            const SurveillanceTable& table);

// Writes the suggestion into report.surveillance as an unconfirmed proposal
// (interval = the shorter end, rule_id; set_by "rule <table id>"); leaves a
// confirmed surveillance alone (returns false).
bool surveillance_propose(Report& report, const SurveillanceSuggestion& s, const std::string& when);

}  // namespace es
