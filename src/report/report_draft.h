// report_draft.h: "Draft with AI". Which EMPTY fields of a report a
// vision-language model may fill, what to ask it for each (the prompt, the
// image it is about, the allowed options or the limits), and how its answers
// go back into the report:
//   - enumerated fields (MST term, segment, Paris, NICE, JNET, BBPS per
//     segment, enum attributes such as LA grade or Mayo) are answered by
//     scoring every allowed option (log-likelihood, as the Classify tab does);
//     the best option is set with its probability (softmax over the options),
//     so the value is always one of the vocabulary's;
//   - numbers (size, distance, number of lesions, numeric attributes such as
//     Prague C/M) are generated within a token limit, parsed, and rejected
//     when outside the field's limits (never clamped: a clamped number would be
//     one the model did not say);
//   - free text (a finding's notes, the impression) is generated within a
//     token limit and bounded in length.
// Every value set is source "ai", accepted = false, set_by = the model id, so
// it stays marked until the user accepts it. A field the user filled (source
// user or ai_edited, or an accepted value) is never asked and never written,
// even if the user filled it while the model was running.
// The model itself runs in JS (web/report/report_draft.js); this file only
// decides. JSON forms (questions out, answers in, outcome out) are below.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/report.h"
#include "report/report_vocabulary.h"

namespace es {

enum class DraftKind { Choice, Number, Text };  // JSON: "choice" | "number" | "text"
const char* draft_kind_name(DraftKind k);

struct DraftOption {
    std::string code;    // the stored value (a vocabulary option id)
    std::string answer;  // the words the model is scored on (the option's name)
};

// Where a question's answer goes.
struct DraftTarget {
    std::string finding_id;  // "" for report-level fields
    std::string field;       // "term", "paris", "size_mm", ..., "bbps_right", "impression"
    std::string attribute;   // field == "attributes": the attribute id (la_grade, prague_c, ...)
};

struct DraftQuestion {
    std::string path;    // for people and messages: "findings[0].paris", "bowel_preparation.bbps_right"
    DraftTarget target;
    std::string image;   // the image the question is about ("" = none: text only)
    std::string prompt;
    DraftKind kind = DraftKind::Choice;
    std::vector<DraftOption> options;  // Choice: the allowed options (2 or more)
    std::string list;                  // Choice: the vocabulary list they come from ("terms": MST terms; "" = yes/no)
    double min = 0, max = 0;           // Number: accepted range (inclusive)
    bool integer = false;              // Number: whole numbers only
    std::string unit;                  // Number: "mm", "cm", ...
    int max_tokens = 0;                // Number/Text: generation limit
    size_t max_chars = 0;              // Text: longest text kept
};

struct DraftScope {
    std::vector<std::string> findings;  // finding ids to draft; empty = every finding
    // Report-level fields asked about an image (bowel preparation) use the
    // first of these; none = those fields are not drafted.
    std::vector<std::string> images;
    bool report_fields = true;          // bowel preparation and the impression
    bool impression = true;             // an AI-written impression when it is empty
};

// The questions for every empty field in scope, findings first (in report
// order), then bowel preparation, then the impression. A finding is asked
// about its first evidence image; a finding without one gets no image
// questions. Options come from the vocabulary; a field whose list is missing
// or has fewer than two options is not asked.
std::vector<DraftQuestion> draft_questions(const Report& report, const ReportVocabulary& vocab, const DraftScope& scope);

// What the model answered to one question (matched by path).
struct DraftAnswer {
    std::string path;
    std::vector<std::string> codes;        // Choice: the option codes scored, in order
    std::vector<double> log_likelihoods;   // Choice: one per code
    std::string text;                      // Number/Text: the generated text
    std::string error;                     // the runtime could not answer (e.g. the image is gone)
};

struct DraftApplied {
    std::string path;
    std::string value;                     // as text, for display
    std::optional<double> probability;     // Choice: the chosen option's probability
    std::vector<std::pair<std::string, double>> ranking;  // Choice: every option, most probable first
};
struct DraftRejected {
    std::string path;
    std::string reason;                    // plain words
};
struct DraftOutcome {
    std::vector<DraftApplied> applied;
    std::vector<DraftRejected> rejected;
};

// Softmax of log-likelihoods (sums to 1; -inf scores get 0). Empty in, empty out.
std::vector<double> draft_option_probabilities(const std::vector<double>& log_likelihoods);

// The first number in a model's answer ("about 8 mm" -> 8, "7,5" -> 7.5);
// nothing when the text has none.
std::optional<double> draft_parse_number(const std::string& text);

// Generated text made safe to keep: control characters dropped, whitespace
// collapsed, trimmed, cut at a word boundary to at most max_chars bytes
// (never inside a UTF-8 character).
std::string draft_bound_text(const std::string& text, size_t max_chars);

// Applies the answers to `report` (the questions say where each goes and what
// is allowed). model_id becomes set_by, now (ISO-8601 UTC) set_at. Answers for
// unknown paths, to fields that are no longer empty, with options other than
// the question's, or with values outside the limits are rejected with a reason.
DraftOutcome apply_draft_answers(Report& report, const ReportVocabulary& vocab, const std::vector<DraftQuestion>& questions,
                                 const std::vector<DraftAnswer>& answers, const std::string& model_id, const std::string& now);

// JSON forms for the JS side.
//   question: {path, finding, field, attribute?, image, prompt, kind, list?, options: [{code, answer}],
//              min, max, integer, unit, max_tokens, max_chars}
//   answer:   {path, codes?, log_likelihoods?, text?, error?}
//   outcome:  {applied: [{path, value, probability?, ranking?: [[code, p], ...]}], rejected: [{path, reason}]}
nlohmann::json draft_questions_to_json(const std::vector<DraftQuestion>& questions);
bool draft_questions_from_json(const nlohmann::json& j, std::vector<DraftQuestion>* out, std::string* error);
bool draft_answers_from_json(const nlohmann::json& j, std::vector<DraftAnswer>* out, std::string* error);
nlohmann::json draft_outcome_to_json(const DraftOutcome& outcome);

}  // namespace es
