// endoscribe_routes.h: the EndoScribe extensions of the HTTP API (server/API.md
// "EndoScribe extensions") put on the server: /v1/endoscribe/segment,
// /v1/endoscribe/classify, /v1/endoscribe/report/draft.
#pragma once
#include <memory>

#include "api/engine_jobs.h"
#include "api/image_input.h"
#include "inference/sam_engine.h"
#include "report/report_vocabulary.h"

namespace httplib {
class Server;
}

namespace es::server {

struct EndoscribeExtensions {
    std::shared_ptr<SamEngine> sam;              // none: segment answers 503
    RunEngineJob run_engine_job;                 // none: classify and report/draft answer 503
    std::shared_ptr<const ReportVocabulary> report_vocabulary;  // none: report/draft answers 503
    ImageLimits image_limits;
};

void add_endoscribe_routes(httplib::Server& http, std::shared_ptr<const EndoscribeExtensions> extensions);

}  // namespace es::server
