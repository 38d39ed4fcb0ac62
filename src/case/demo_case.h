// demo_case.h: a deterministic synthetic endoscopy case - colonoscopy-like
// images (mucosa texture, branching vessels, folds, a dark lumen, vignetting,
// raised polyp-like lesions with shading and specular highlights) with exact
// ground-truth lesion masks and boxes. Not patient data. The app opens it by
// default, and later features (segmentation, VQA, reports) are shown on it.
// Same input, same bytes: all randomness comes from fixed seeds.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "case/case.h"
#include "image/image.h"

namespace es {

struct DemoPolyp {
    float cx, cy;      // centre, pixels
    float rx, ry;      // radii, pixels
    float angle;       // rotation, radians
    float height;      // dome height relative to the mean radius (0.3 flat .. 1 tall)
    float lobes;       // boundary irregularity, 0 = ellipse
};

struct DemoImageSpec {
    std::string file;     // e.g. "image-1.png"
    std::string title;
    std::string location;  // anatomical site shown in the case
    uint64_t seed = 1;
    int width = 640;
    int height = 512;
    float lumen_x = 0.5f, lumen_y = 0.4f;  // dark lumen centre, as a fraction of width/height
    float lumen_radius = 0.16f;            // fraction of the height
    std::vector<DemoPolyp> polyps;
};

struct DemoRendering {
    Image image;                              // RGBA8, opaque
    std::vector<std::vector<uint8_t>> masks;  // one per polyp: width*height bytes, 0 or 255
};

// Renders one synthetic image and its lesion masks.
DemoRendering render_demo_image(const DemoImageSpec& spec);

// The specs of the demo case's images.
std::vector<DemoImageSpec> demo_image_specs();

struct NamedFile {
    std::string name;  // relative path in the case folder
    std::vector<uint8_t> bytes;
};

// The whole demo case: case.json, the image PNGs and one mask PNG per lesion.
// `manifest`, when given, receives the Case that case.json describes.
std::vector<NamedFile> make_demo_case(Case* manifest = nullptr);

}  // namespace es
