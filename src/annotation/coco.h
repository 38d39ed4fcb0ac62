// coco.h: COCO object-detection JSON (https://cocodataset.org/#format-data)
// for our annotations.
//
// Export: images (id, file_name, width, height), categories (id, name,
// supercategory), annotations with bbox [x,y,w,h], area, iscrowd and
// segmentation: polygons as [[x1,y1,...]] with iscrowd 0; masks as RLE with
// iscrowd 1 (uncompressed counts list as in COCO ground truth, or COCO's
// compressed string with compressed_rle); boxes with an empty segmentation;
// points as a one-keypoint annotation. Our own fields (kind, visibility,
// opacity, source, the per-image id counter) ride in an "endoscribe" object
// that other tools ignore, so our importer gets back exactly what was exported.
//
// Import is all or nothing: any malformed or hostile input (wrong types, huge
// or non-finite numbers, dangling references, duplicate ids, RLE counts that
// do not match the image size, nesting deeper than the format needs, more data
// than the limits) gives ok = false, a message naming the place, and no data.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "annotation/annotation.h"

namespace es {

struct CocoCategory {
    int64_t id = 0;
    std::string name;
    std::string supercategory;
    bool operator==(const CocoCategory& o) const { return id == o.id && name == o.name && supercategory == o.supercategory; }
};

struct CocoExportOptions {
    bool compressed_rle = false;  // counts as COCO's compressed string instead of a list
    bool pretty = false;
};

// Categories: every label used must have one (missing ones are added with the
// next free id, in order of first use).
std::string export_coco(const std::vector<ImageAnnotations>& images, std::vector<CocoCategory> categories,
                        const CocoExportOptions& options = {});

struct CocoLimits {
    size_t max_bytes = size_t(512) << 20;
    int max_depth = 32;
    size_t max_images = 1000000;
    size_t max_annotations = 5000000;
    int max_image_side = 65536;
    uint64_t max_mask_pixels_total = uint64_t(1) << 31;  // decoded RLE masks, all together
    size_t max_polygon_points = 1000000;
};

struct CocoImport {
    bool ok = false;
    std::string error;
    std::vector<ImageAnnotations> images;
    std::vector<CocoCategory> categories;
};

CocoImport import_coco(const std::string& json, const CocoLimits& limits = {});

}  // namespace es
