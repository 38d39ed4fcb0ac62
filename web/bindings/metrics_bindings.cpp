// metrics_bindings.cpp: the evaluation metrics (src/metrics) for JS: the
// evaluation tool in Node and the app (comparing a case's annotations with the
// model's outputs, two annotators' agreement). One call, JSON in and out, the
// same text as the native tools/score_predictions gives (formats:
// src/metrics/README.md). Fails soft: null, and es_metrics_last_error() says why.
#include <emscripten/emscripten.h>

#include <string>

#include "metrics/score_predictions.h"

namespace {
std::string g_result;
std::string g_error;
std::string g_error_detail;
}  // namespace

extern "C" {

// Scores one task ({"task": "classification", ...}) or several ({"tasks": [...]}).
// Returns the metrics JSON (valid until the next call), or null.
EMSCRIPTEN_KEEPALIVE const char* es_metrics_score_predictions(const char* input_json) {
    es::ScoredPredictions r = es::score_predictions(input_json ? input_json : "");
    if (!r.ok) {
        g_error = r.message;
        g_error_detail = r.detail;
        g_result.clear();
        return nullptr;
    }
    g_error.clear();
    g_error_detail.clear();
    g_result = std::move(r.json);
    return g_result.c_str();
}

// Plain words: what is wrong with the input and what to do.
EMSCRIPTEN_KEEPALIVE const char* es_metrics_last_error() { return g_error.c_str(); }
// Technical detail (parser position, exception text); may be empty.
EMSCRIPTEN_KEEPALIVE const char* es_metrics_last_error_detail() { return g_error_detail.c_str(); }

}  // extern "C"
