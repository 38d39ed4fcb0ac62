// endoscribe_routes.h: the EndoScribe extensions of the HTTP API (server/API.md
// "EndoScribe extensions"): /v1/endoscribe/segment, /v1/endoscribe/classify,
// /v1/endoscribe/report/draft. register_endoscribe_routes() is called by
// InferenceApi::install() (inference_api.h); what the routes need beyond the
// chat engine comes in ApiOptions::endoscribe.
#pragma once
#include <memory>

#include "inference/sam_engine.h"
#include "report/report_vocabulary.h"

namespace es::server {

struct EndoscribeExtensions {
    std::shared_ptr<SamEngine> sam;                              // none: segment answers 503
    std::shared_ptr<const ReportVocabulary> report_vocabulary;  // none: report/draft answers 503
};

}  // namespace es::server
