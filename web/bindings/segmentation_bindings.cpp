// segmentation_bindings.cpp: the core's image decoding, masks and SAM pre/post
// processing, click protocol and mask geometry for JS (the app and the Node
// module). Images and masks live in WASM memory behind integer handles; float
// tensors are written into buffers the caller allocates with _malloc.
// Every function fails soft: 0 / -1 / null, and es_segmentation_last_error() says why.
#include <emscripten/emscripten.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "segmentation/click_protocol.h"
#include "mask/connected_components.h"
#include "mask/contour.h"
#include "mask/distance_transform.h"
#include "annotation/geometry.h"
#include "image/image.h"
#include "mask/mask.h"
#include "mask/mask_cleanup.h"
#include "image/png_encode.h"
#include "mask/rle.h"
#include "segmentation/sam.h"

namespace {

std::map<int, std::unique_ptr<es::Image>> g_images;
std::map<int, std::unique_ptr<es::Mask>> g_masks;
int g_next_handle = 1;
std::string g_error;
std::string g_text;  // last string result (JSON), valid until the next call that returns one

es::Image* image(int h) {
    auto it = g_images.find(h);
    if (it == g_images.end()) {
        g_error = "no image with handle " + std::to_string(h);
        return nullptr;
    }
    return it->second.get();
}

int keep_mask(es::Mask m) {
    int h = g_next_handle++;
    g_masks[h] = std::make_unique<es::Mask>(std::move(m));
    return h;
}

const char* keep_text(std::string s) {
    g_text = std::move(s);
    return g_text.c_str();
}

}  // namespace

// Shared with ui/annotation_exports.cpp (SAM results become annotations).
es::Mask* es_binding_mask(int h) {
    auto it = g_masks.find(h);
    if (it == g_masks.end()) {
        g_error = "no mask with handle " + std::to_string(h);
        return nullptr;
    }
    return it->second.get();
}
int es_binding_keep_mask(es::Mask m) { return keep_mask(std::move(m)); }

extern "C" {

EMSCRIPTEN_KEEPALIVE const char* es_segmentation_last_error() { return g_error.c_str(); }

// ---- images -----------------------------------------------------------------

// Decodes JPEG/PNG/BMP bytes; returns an image handle or 0 (see es_segmentation_last_error).
EMSCRIPTEN_KEEPALIVE int es_image_decode(const uint8_t* data, int size) {
    if (!data || size <= 0) {
        g_error = "no image bytes";
        return 0;
    }
    es::DecodeResult r = es::decode_image(data, size_t(size));
    if (!r.ok) {
        g_error = r.error;
        return 0;
    }
    int h = g_next_handle++;
    g_images[h] = std::make_unique<es::Image>(std::move(r.image));
    return h;
}
EMSCRIPTEN_KEEPALIVE int es_image_width(int h) { auto* i = image(h); return i ? i->width : 0; }
EMSCRIPTEN_KEEPALIVE int es_image_height(int h) { auto* i = image(h); return i ? i->height : 0; }
EMSCRIPTEN_KEEPALIVE const uint8_t* es_image_rgba(int h) { auto* i = image(h); return i ? i->rgba.data() : nullptr; }
EMSCRIPTEN_KEEPALIVE void es_image_free(int h) { g_images.erase(h); }

// ---- masks --------------------------------------------------------------------

EMSCRIPTEN_KEEPALIVE int es_mask_create(int w, int h) {
    if (w <= 0 || h <= 0 || int64_t(w) * h > (int64_t(1) << 28)) {
        g_error = "mask size out of range";
        return 0;
    }
    return keep_mask(es::Mask(w, h));
}
// One channel of interleaved 8-bit pixels, value > threshold → set.
EMSCRIPTEN_KEEPALIVE int es_mask_from_bytes(const uint8_t* px, int w, int h, int channels, int channel, int threshold) {
    if (!px || w <= 0 || h <= 0 || channels <= 0 || channel < 0 || channel >= channels) {
        g_error = "bad mask source";
        return 0;
    }
    return keep_mask(es::mask_from_bytes(px, w, h, channels, channel, uint8_t(threshold)));
}
// A decoded image's channel as a mask (e.g. a ground-truth PNG: channel 0, threshold 127).
EMSCRIPTEN_KEEPALIVE int es_mask_from_image(int img, int channel, int threshold) {
    es::Image* i = image(img);
    if (!i) return 0;
    return keep_mask(es::mask_from_bytes(i->rgba.data(), i->width, i->height, 4, channel, uint8_t(threshold)));
}
EMSCRIPTEN_KEEPALIVE int es_mask_clone(int m) {
    es::Mask* p = es_binding_mask(m);
    return p ? keep_mask(*p) : 0;
}
EMSCRIPTEN_KEEPALIVE void es_mask_free(int m) { g_masks.erase(m); }
EMSCRIPTEN_KEEPALIVE int es_mask_width(int m) { auto* p = es_binding_mask(m); return p ? p->width : 0; }
EMSCRIPTEN_KEEPALIVE int es_mask_height(int m) { auto* p = es_binding_mask(m); return p ? p->height : 0; }
EMSCRIPTEN_KEEPALIVE uint8_t* es_mask_data(int m) { auto* p = es_binding_mask(m); return p ? p->data.data() : nullptr; }
EMSCRIPTEN_KEEPALIVE double es_mask_count(int m) { auto* p = es_binding_mask(m); return p ? double(p->count()) : -1; }
EMSCRIPTEN_KEEPALIVE double es_mask_iou(int a, int b) {
    auto *p = es_binding_mask(a), *q = es_binding_mask(b);
    return p && q ? es::mask_iou(*p, *q) : -1;
}
EMSCRIPTEN_KEEPALIVE double es_mask_dice(int a, int b) {
    auto *p = es_binding_mask(a), *q = es_binding_mask(b);
    return p && q ? es::mask_dice(*p, *q) : -1;
}
// Tight box [x, y, w, h] into out[4]; returns 0 for an empty mask.
EMSCRIPTEN_KEEPALIVE int es_mask_box(int m, float* out) {
    es::Mask* p = es_binding_mask(m);
    if (!p || !out) return 0;
    es::Box b = es::mask_to_box(*p);
    out[0] = float(b.x); out[1] = float(b.y); out[2] = float(b.w); out[3] = float(b.h);
    return b.empty() ? 0 : 1;
}
// Brush / eraser stroke (value 1 paints, 0 erases).
EMSCRIPTEN_KEEPALIVE void es_mask_paint(int m, double x0, double y0, double x1, double y1, double r, int value) {
    if (es::Mask* p = es_binding_mask(m)) es::mask_paint_stroke(*p, x0, y0, x1, y1, r, uint8_t(value != 0));
}
// 8-connected regions with at least min_area pixels: the lesion count.
EMSCRIPTEN_KEEPALIVE int es_mask_count_regions(int m, int min_area) {
    es::Mask* p = es_binding_mask(m);
    return p ? es::count_regions(*p, size_t(std::max(1, min_area))) : -1;
}
// Regions with at least min_area pixels as new mask handles, largest first,
// written to out (capacity max_out); returns how many regions there are.
EMSCRIPTEN_KEEPALIVE int es_mask_split_regions(int m, int min_area, int* out, int max_out) {
    es::Mask* p = es_binding_mask(m);
    if (!p) return -1;
    es::Components c = es::label_components(*p);
    std::vector<es::ComponentStats> s = c.stats;
    std::stable_sort(s.begin(), s.end(), [](auto& a, auto& b) { return a.area > b.area; });
    int n = 0;
    for (const auto& st : s) {
        if (st.area < size_t(std::max(1, min_area))) continue;
        if (n < max_out && out) out[n] = keep_mask(es::component_mask(c, st.label));
        ++n;
    }
    return n;
}
EMSCRIPTEN_KEEPALIVE int es_mask_fill_holes(int m) {
    es::Mask* p = es_binding_mask(m);
    return p ? keep_mask(es::fill_holes(*p)) : 0;
}
// SAM's post-processing (mask/mask_cleanup.h): small holes filled, then small
// islands removed; a new mask handle.
EMSCRIPTEN_KEEPALIVE int es_mask_cleanup(int m, int min_area) {
    es::Mask* p = es_binding_mask(m);
    return p ? keep_mask(es::clean_mask(*p, size_t(std::max(0, min_area))).mask) : 0;
}
EMSCRIPTEN_KEEPALIVE int es_mask_largest_region(int m) {
    es::Mask* p = es_binding_mask(m);
    return p ? keep_mask(es::largest_component(*p)) : 0;
}
// Outer polygons (Douglas–Peucker epsilon in pixels) as JSON:
// {"polygons": [[x0, y0, x1, y1, ...], ...], "dropped_holes": bool}
EMSCRIPTEN_KEEPALIVE const char* es_mask_polygons_json(int m, double epsilon, int min_area) {
    es::Mask* p = es_binding_mask(m);
    if (!p) return nullptr;
    es::PolygonsFromMask r = es::mask_to_polygons(*p, epsilon, size_t(std::max(1, min_area)));
    std::string s = "{\"polygons\":[";
    for (size_t i = 0; i < r.polygons.size(); ++i) {
        if (i) s += ',';
        s += '[';
        for (size_t k = 0; k < r.polygons[i].size(); ++k) {
            if (k) s += ',';
            s += std::to_string(int(r.polygons[i][k].x)) + ',' + std::to_string(int(r.polygons[i][k].y));
        }
        s += ']';
    }
    s += std::string("],\"dropped_holes\":") + (r.dropped_holes ? "true" : "false") + "}";
    return keep_text(std::move(s));
}
// COCO compressed RLE string of a mask.
EMSCRIPTEN_KEEPALIVE const char* es_mask_rle_string(int m) {
    es::Mask* p = es_binding_mask(m);
    return p ? keep_text(es::rle_to_string(es::rle_encode(*p))) : nullptr;
}
EMSCRIPTEN_KEEPALIVE int es_mask_from_rle_string(const char* s, int h, int w) {
    es::Rle r;
    es::Mask m;
    if (!s || !es::rle_from_string(s, h, w, r, &g_error) || !es::rle_decode(r, m, &g_error)) return 0;
    return keep_mask(std::move(m));
}
// Mask as a grayscale PNG (0/255); returns a pointer to the bytes, length in *size.
EMSCRIPTEN_KEEPALIVE const uint8_t* es_mask_png(int m, int* size) {
    static std::vector<uint8_t> png;
    es::Mask* p = es_binding_mask(m);
    if (!p || !size) return nullptr;
    std::vector<uint8_t> gray = es::mask_to_gray(*p);
    png = es::encode_png_gray(gray.data(), p->width, p->height);
    *size = int(png.size());
    return png.data();
}

// ---- SAM ----------------------------------------------------------------------

// Frame of a w x h image for a model with input side `target`: out[0..1] the
// resized width/height.
EMSCRIPTEN_KEEPALIVE void es_segmentation_frame(int w, int h, int target, int* out) {
    es::SamFrame f = es::sam_frame(w, h, target);
    out[0] = f.resized_width;
    out[1] = f.resized_height;
}
// Encoder input [1, 3, target, target] written to out (3*target*target floats).
EMSCRIPTEN_KEEPALIVE int es_segmentation_preprocess(int img, int target, float* out) {
    es::Image* i = image(img);
    if (!i || !out || target <= 0) return 0;
    es::SamFrame f = es::sam_frame(i->width, i->height, target);
    std::vector<float> t = es::sam_preprocess(i->rgba.data(), i->width, i->height, 4, f);
    std::memcpy(out, t.data(), t.size() * sizeof(float));
    return 1;
}
// Decoder prompt for an image of w x h: points (xy pairs in image coordinates,
// labels 1/0), optional box [x, y, w, h] (null for none). Writes coords (2 per
// point) and labels into out arrays of capacity n_points + 2; returns the count.
EMSCRIPTEN_KEEPALIVE int es_segmentation_prompt(int w, int h, int target, const float* xy, const int* labels, int n,
                                       const float* box, float* out_coords, float* out_labels) {
    es::SamFrame f = es::sam_frame(w, h, target);
    es::SamPrompt p;
    for (int i = 0; i < n; ++i) p.points.push_back({{xy[2 * i], xy[2 * i + 1]}, labels[i] != 0});
    if (box) {
        p.has_box = true;
        p.box = es::Box{box[0], box[1], box[2], box[3]};
    }
    es::SamDecoderPrompt d = es::sam_encode_prompt(f, p);
    std::memcpy(out_coords, d.coords.data(), d.coords.size() * sizeof(float));
    std::memcpy(out_labels, d.labels.data(), d.labels.size() * sizeof(float));
    return d.count();
}
// Low-res logits (lw x lh) → mask handle at w x h.
EMSCRIPTEN_KEEPALIVE int es_segmentation_postprocess(const float* logits, int lw, int lh, int w, int h, int target,
                                            float threshold) {
    if (!logits || lw <= 0 || lh <= 0 || w <= 0 || h <= 0) {
        g_error = "bad SAM output";
        return 0;
    }
    return keep_mask(es::sam_postprocess(logits, lw, lh, es::sam_frame(w, h, target), threshold));
}
EMSCRIPTEN_KEEPALIVE int es_segmentation_select(const float* iou, int count, int skip_first) {
    return es::sam_select_mask(iou, count, skip_first != 0);
}

// ---- click protocol ----------------------------------------------------------

// Next evaluation click for ground truth gt and prediction pred (0 = none yet).
// out[0..3] = x, y, positive (1/0), depth; returns 0 when pred equals gt.
EMSCRIPTEN_KEEPALIVE int es_segmentation_next_click(int gt, int pred, float* out) {
    es::Mask* g = es_binding_mask(gt);
    if (!g) return 0;
    es::Mask empty;
    es::Mask* p = pred ? es_binding_mask(pred) : &empty;
    if (!p) return 0;
    es::Click c = es::next_click(*g, *p);
    if (!c.valid()) return 0;
    out[0] = float(c.x); out[1] = float(c.y); out[2] = c.positive ? 1.f : 0.f; out[3] = c.depth;
    return 1;
}
// Most interior point of a mask: out[0..2] = x, y, depth.
EMSCRIPTEN_KEEPALIVE int es_mask_interior_point(int m, float* out) {
    es::Mask* p = es_binding_mask(m);
    if (!p) return 0;
    es::InteriorPoint ip = es::most_interior_point(*p);
    if (!ip.valid()) return 0;
    out[0] = float(ip.x); out[1] = float(ip.y); out[2] = ip.distance;
    return 1;
}

}  // extern "C"
