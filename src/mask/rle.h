// rle.h: COCO run-length encoding of binary masks.
// COCO runs go down the columns (Fortran order), start with a run of zeros
// (possibly empty), and alternate. They are written either as a plain list of
// counts ("uncompressed", used for iscrowd=1 ground truth) or as COCO's
// compressed ASCII string (pycocotools rleToString: 5-bit groups with a
// continuation bit, offset by 48, counts after the second stored as the
// difference to the count two places earlier).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "mask/mask.h"

namespace es {

struct Rle {
    int height = 0;
    int width = 0;
    std::vector<uint32_t> counts;
    bool operator==(const Rle& o) const { return height == o.height && width == o.width && counts == o.counts; }
};

Rle rle_encode(const Mask& m);
// Checks that the counts cover exactly height*width pixels.
bool rle_decode(const Rle& rle, Mask& out, std::string* error = nullptr);
bool rle_validate(const Rle& rle, std::string* error = nullptr);
uint64_t rle_area(const Rle& rle);
// Tight box [x, y, w, h] in pixels, as pycocotools toBbox; zeros when empty.
void rle_bbox(const Rle& rle, double box[4]);

std::string rle_to_string(const Rle& rle);
// Parses a compressed string for a mask of the given size; rejects characters
// outside COCO's alphabet, counts that overflow, and totals that are not h*w.
bool rle_from_string(const std::string& s, int height, int width, Rle& out, std::string* error = nullptr);

}  // namespace es
