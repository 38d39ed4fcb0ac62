// segment_route.h: POST /v1/endoscribe/segment (server/API.md) - an image (or
// the image_id of one sent before) and prompts in, one cleaned mask per
// prompt out as COCO RLE, with the decoder's score and the timings.
//
// "strategy": "interactive" (default) replays each prompt's points as the
// app's Segment tool does with clicks (server/inference/sam_interactive.h), so
// a mask from the server equals the app's own; "single" is one decoder run per
// prompt with all its points and its box (segment-anything's predictor), and
// only it can return every candidate ("multimask": true). Masks are cleaned
// as the app cleans them (src/mask/mask_cleanup.h, the app's default 0.25% of
// the image) unless "cleanup": false or {"min_area_fraction"|"min_area_px"}.
#pragma once
#include <functional>
#include <string>

#include "api/chat_request.h"
#include "api/extension_reply.h"
#include "inference/sam_engine.h"

namespace es::server {

// sam == nullptr: 503 (no segmentation model loaded).
// Images as for chat (limits.image, limits.image_url_hosts).
// client_gone (may be empty) is asked while the request waits its turn at
// the model: once it says true the request leaves the line without running
// (status 499, nginx's "client closed request": nobody reads the answer).
ExtensionReply segment_route(SamEngine* sam, const std::string& body, const ChatRequestLimits& limits = {},
                             const std::function<bool()>& client_gone = {});

}  // namespace es::server
