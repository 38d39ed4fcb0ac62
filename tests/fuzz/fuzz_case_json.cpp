// libFuzzer target for case.json parsing, es::case_from_json(): a case file
// may come from anywhere, so malformed ones must fail with a message, never
// crash. Invariant: whatever parses writes back to JSON that parses to the
// same JSON again (round trip is stable).
#include <cstddef>
#include <cstdint>
#include <string>

#include "case/case.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    es::CaseParseResult r = es::case_from_json(text);
    if (!r.ok) {
        if (r.error.empty()) __builtin_trap();
        return 0;
    }
    std::string json = es::case_to_json(r.value);
    es::CaseParseResult again = es::case_from_json(json);
    if (!again.ok || es::case_to_json(again.value) != json) __builtin_trap();
    for (const es::CaseImage& img : again.value.images) {
        if (!es::is_safe_relative_path(img.file) || img.width <= 0 || img.height <= 0) __builtin_trap();
        for (const es::Lesion& l : img.lesions)
            if (l.box[0] < 0 || l.box[2] > img.width || l.box[1] < 0 || l.box[3] > img.height || l.box[0] >= l.box[2] ||
                l.box[1] >= l.box[3] || l.area < 0)
                __builtin_trap();
    }
    return 0;
}
