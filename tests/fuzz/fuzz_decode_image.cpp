// libFuzzer target for the image decoding entry point, es::decode_image(), and
// what the app does next with a decoded image (fit to the texture limit,
// levels). Any crash, sanitizer report or broken invariant is a bug.
// Build and run: tests/fuzz/run.sh (see tests/fuzz/README.md).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "image/image.h"
#include "image/image_levels.h"
#include "image/image_resize.h"

namespace {
void check(bool ok) {
    if (!ok) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // Tighter limits than the app's, so the fuzzer spends its time on parsing,
    // not on legitimately decoding huge images.
    es::DecodeLimits limits;
    limits.max_width = 1024;
    limits.max_height = 1024;
    limits.max_pixels = 1024u * 1024;

    es::DecodeResult r = es::decode_image(data, size, limits);
    if (!r.ok) {
        check(!r.error.empty());
        check(r.image.rgba.empty());
        return 0;
    }
    check(r.error.empty());
    check(r.format == "jpeg" || r.format == "png" || r.format == "bmp");
    check(r.image.width > 0 && r.image.height > 0);
    check(r.image.width <= limits.max_width && r.image.height <= limits.max_height);
    check(uint64_t(r.image.width) * uint64_t(r.image.height) <= limits.max_pixels);
    check(r.image.rgba.size() == size_t(r.image.width) * size_t(r.image.height) * 4);

    // Touch every pixel (uninitialised memory shows up under MSan/valgrind, and
    // the sum keeps the loop from being optimised away).
    unsigned sum = 0;
    for (uint8_t v : r.image.rgba) sum += v;

    es::FitResult fit = es::fit_to_max_dimension(r.image, 64);
    check(fit.image.width <= 64 && fit.image.height <= 64 && !fit.image.empty());
    check(fit.downscaled == (r.image.width > 64 || r.image.height > 64));

    es::Levels levels;
    levels.brightness = float(sum % 7) / 10.0f - 0.3f;
    levels.contrast = 1.5f;
    levels.gamma = 0.8f;
    es::apply_levels(fit.image, levels);
    return 0;
}
