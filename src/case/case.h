// case.h: a case - the named set of images a clinician works on, with the
// ground-truth or annotated lesions of each image - and its JSON form
// (case.json). File names in a case are relative to the case.json's folder.
//
//   {
//     "format": "endoscribe-case", "version": 1,
//     "id": "demo", "title": "...", "description": "...", "procedure": "colonoscopy",
//     "images": [
//       { "file": "image-1.png", "width": 640, "height": 512, "title": "...",
//         "location": "sigmoid colon",
//         "lesions": [ { "id": "lesion-1", "label": "polyp",
//                        "mask": "image-1-lesion-1.png",
//                        "box": [x1, y1, x2, y2], "area": 1234 } ] } ] }
//
// box is in image pixels, x1/y1 inclusive and x2/y2 exclusive (the box covers
// x1 <= x < x2), so x2 - x1 is its width. area is the number of mask pixels.
// mask files are 8-bit greyscale PNGs of the image's size: 0 outside, 255 inside.
// Only format, version, images[].file/width/height and lesions[].box are
// required; unknown keys are ignored, so newer writers can add fields.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace es {

struct Lesion {
    std::string id;                 // unique within its image, e.g. "lesion-1"
    std::string label = "lesion";   // e.g. "polyp"
    std::string mask;               // relative path of the mask PNG; may be empty
    std::array<int, 4> box{};       // x1, y1, x2, y2 (x2, y2 exclusive)
    int64_t area = 0;               // mask pixel count
};

struct CaseImage {
    std::string file;   // relative path of the image
    int width = 0;
    int height = 0;
    std::string title;
    std::string location;  // anatomical site, e.g. "sigmoid colon"; may be empty
    std::vector<Lesion> lesions;
};

struct Case {
    static constexpr int kFormatVersion = 1;
    std::string id;
    std::string title;
    std::string description;
    std::string procedure;  // e.g. "colonoscopy"; may be empty
    std::vector<CaseImage> images;
};

struct CaseParseResult {
    bool ok = false;
    Case value;
    // For the user, after the file's name: "is not a valid case file" or "was made by a newer version of EndoScribe".
    std::string reason;
    // The technical detail: names the field, e.g. "images[1].lesions[0].box: x2 (700) is beyond the image width
    // (640)", or the JSON syntax error's line and column.
    std::string error;
};

// Pretty-printed JSON with a fixed key order: the same case gives the same bytes.
std::string case_to_json(const Case& c);

// Parses and validates case.json text. Never throws.
CaseParseResult case_from_json(const std::string& text);

// True for a plain relative path inside the case folder: not empty, no
// "..", "." or empty segments, no leading '/', no backslash, no scheme, no
// control characters. Case files never point outside their folder.
bool is_safe_relative_path(const std::string& path);

}  // namespace es
