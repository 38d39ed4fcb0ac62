// box_parse.h: finds bounding boxes in a model's answer and converts them to
// image pixels. Formats (which one a model uses is part of its package config):
//   - "[x1, y1, x2, y2]" (or JSON "box_2d": [...]) normalised to 0-1
//   - the same normalised to 0-1000 (Gemini/Gemma grounding convention; often
//     in y-first order [y1, x1, y2, x2])
//   - the same in image pixels
//   - PaliGemma location tokens "<loc0256><loc0128><loc0768><loc0900> polyp"
//     (y1 x1 y2 x2, 1024 bins)
// And back: writing a region as text in the model's format, for "what is in
// this region?" prompts.
#pragma once
#include <string>
#include <vector>

namespace es {

enum class BoxFormat { Auto, Normalized1, Normalized1000, Pixels, PaliGemmaLoc };
enum class BoxOrder { XYXY, YXYX };

// Parses "auto", "normalized_1", "normalized_1000", "pixels", "paligemma_loc".
bool parse_box_format(const std::string& s, BoxFormat* out);

struct ParsedBox {
    float x1, y1, x2, y2;  // pixels, x1 < x2, y1 < y2, clamped to the image
    std::string label;     // text attached to the box, if any ("polyp")
    size_t begin = 0, end = 0;  // byte span of the box in the answer text
    BoxFormat format = BoxFormat::Auto;  // the format it was read as
};

struct BoxParseOptions {
    BoxFormat format = BoxFormat::Auto;
    BoxOrder order = BoxOrder::XYXY;  // for bracketed boxes
    int image_width = 0, image_height = 0;
};

// All boxes in `text`, in order. Degenerate boxes (zero area after clamping)
// and out-of-range values for the declared format are skipped.
std::vector<ParsedBox> parse_boxes(const std::string& text, const BoxParseOptions& opt);

// Formats a pixel box the way the model expects to read one.
std::string format_box(float x1, float y1, float x2, float y2, const BoxParseOptions& opt);

}  // namespace es
