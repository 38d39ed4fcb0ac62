// score_predictions.h: the one JSON entry point to src/metrics, shared by the
// native command (tools/score_predictions), the WebAssembly export
// (es_metrics_score_predictions) and so the evaluation tool and the app: the
// same text in gives the same text out everywhere, intervals included.
// The input and output formats are in src/metrics/README.md.
#pragma once
#include <string>

namespace es {

struct ScoredPredictions {
    bool ok = false;
    std::string json;     // the metrics (ok)
    std::string message;  // what is wrong with the input, in plain words (not ok)
    std::string detail;   // technical detail (parser position, exception text), may be empty
};

ScoredPredictions score_predictions(const std::string& input_json);

}  // namespace es
