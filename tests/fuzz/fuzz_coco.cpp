// fuzz_coco.cpp: the COCO importer against arbitrary bytes. Besides "no crash,
// no UB, no leak", whatever imports must survive our own export and import
// unchanged (the lossless round trip), and a failed import must carry a
// message and no data.
//   tests/fuzz/run.sh 60 fuzz_coco   (or build-fuzz/tests/fuzz/fuzz_coco tests/fuzz/corpus_coco)
#include <cstdint>
#include <cstdlib>
#include <string>

#include "annotation/coco.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    es::CocoLimits limits;
    limits.max_mask_pixels_total = uint64_t(1) << 24;  // keep each run small
    limits.max_image_side = 4096;
    es::CocoImport r = es::import_coco(text, limits);
    if (!r.ok) {
        if (r.error.empty() || !r.images.empty() || !r.categories.empty()) abort();
        return 0;
    }
    for (int compressed = 0; compressed < 2; ++compressed) {
        es::CocoExportOptions o;
        o.compressed_rle = compressed != 0;
        std::string out = es::export_coco(r.images, r.categories, o);
        es::CocoImport back = es::import_coco(out, limits);
        if (!back.ok) abort();
        if (back.images.size() != r.images.size()) abort();
        for (size_t i = 0; i < r.images.size(); ++i)
            if (!(back.images[i] == r.images[i])) abort();
    }
    return 0;
}
