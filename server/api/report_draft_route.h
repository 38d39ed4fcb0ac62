// report_draft_route.h: POST /v1/endoscribe/report/draft - "Draft with AI"
// for a report, run by the server's chat engine: the core decides which empty
// fields to ask about and how (src/report/report_draft.h), the engine answers
// (enumerated fields by label scoring, numbers and text greedily within the
// question's token limit), the core applies the answers (never over a value
// the user set) and the updated report comes back. As the app does, a second
// round asks what the first round's answers made askable (a finding's fields
// once its term is drafted). Each question is one job on the engines' thread,
// so chats of other clients go on between them.
//
// Request: {"model"?, "bundle": <case bundle> | "report": <report JSON> with
// "images": {"<name>": "data:..."}, "scope"?: {"findings": [ids],
// "images": [names], "report_fields": bool, "impression": bool},
// "system_prompt"?, "now"?: ISO-8601 UTC}. Response: {"object":
// "endoscribe.report_draft", "model", "report", "outcome": {"applied",
// "rejected"}, "answers", "usage", "timings"} (server/API.md).
#pragma once
#include <string>

#include "api/chat_request.h"
#include "api/engine_jobs.h"
#include "report/report_vocabulary.h"

namespace es::server {

// vocab == nullptr: 503 (the server could not load models/report/).
ExtensionReply report_draft_route(const RunEngineJob& run, const ReportVocabulary* vocab, const std::string& body,
                                  const ChatRequestLimits& limits = {});

// The report vocabulary from a folder holding models/report's files; nullptr
// and *error when it cannot be read.
std::unique_ptr<ReportVocabulary> load_report_vocabulary_folder(const std::string& dir, std::string* error);

}  // namespace es::server
