// sam_interactive.h: how the app's Segment tool turns a user's clicks (and
// box) into decoder runs, so that the server gives the same mask as the app
// for the same prompt. A port of web/segmentation/interactive.js
// (InteractiveSegmentation with STRATEGIES.multi_scale_first, the strategy
// web/annotation/segment_job.js uses); tests/node/server_segment.test.mjs
// checks the two give the same masks. Arithmetic follows the JS: coordinates
// pass through float32 as they do through the WASM bindings.
//
// The clicks are replayed in order, each one a run of the session (as the app
// does when it starts a session from a list of clicks): the previous run's
// low-res logits are fed back as mask_input; the first positive click alone
// is also decoded with boxes of several sizes around it and the candidate the
// decoder rates best (predicted IoU x stability) is kept.
#pragma once
#include <optional>
#include <vector>

#include "inference/sam_engine.h"

namespace es::server {

struct SamStrategy {
    bool feedback = true;                 // previous low-res logits as mask_input
    std::vector<double> multi_scale = {0.15, 0.25, 0.35, 0.5, 0.65, 0.8};  // box sizes (fraction of the longer side)
    bool select_stable = true;            // score = IoU x stability (else IoU)
    bool keep_box = false;                // the chosen multi-scale box stays for later clicks
    int iterations = 0;                   // extra passes feeding the mask back
    bool box_refine = false;              // decode again with the result's box
    double box_margin = 0.1;
};

// SAM's stability score: IoU of the logits thresholded at +offset and -offset.
double sam_stability_score(const std::vector<float>& logits, double offset = 1.0);

struct InteractiveResult {
    SamDecoded decoded;   // the final run's mask, logits and predicted IoU
    int passes = 0;       // decoder runs in total
};

// Replays `points` one click at a time (with the user box, if any, on every
// run) and returns the last run's result. Neither points nor a box: nothing.
std::optional<InteractiveResult> sam_segment_interactive(SamEngine& engine, const SamEmbedding& embedding,
                                                         const std::vector<SamPoint>& points,
                                                         const std::optional<Box>& box,
                                                         const SamStrategy& strategy = {});

}  // namespace es::server
