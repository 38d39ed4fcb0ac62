// libFuzzer target for the case bundle reader, es::read_case_bundle(): a bundle
// may come from anywhere (a download, a colleague, a batch folder), so broken
// or hostile ones must fail with a message, never crash. Invariants: a failure
// carries a message and a detail; what reads has safe, unique image names, and
// written back (write_case_bundle) reads again to the same images, annotations
// and report text.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "case/case_bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    es::CaseBundleRead r = es::read_case_bundle(text);
    if (!r.ok) {
        if (r.message.empty() || r.detail.empty()) __builtin_trap();
        return 0;
    }
    std::set<std::string> names;
    for (const es::BundleImage& img : r.bundle.images)
        if (img.name.empty() || img.name.find('/') != std::string::npos || !names.insert(img.name).second) __builtin_trap();
    const std::string doc = es::make_annotation_document(r.bundle.has_case ? &r.bundle.case_info : nullptr,
                                                         r.bundle.annotations, r.bundle.categories);
    const std::string again_text = es::write_case_bundle(doc, r.bundle.images, r.bundle.report_json);
    es::CaseBundleRead again = es::read_case_bundle(again_text);
    if (!again.ok) __builtin_trap();
    if (again.bundle.images.size() != r.bundle.images.size() || again.bundle.report_json != r.bundle.report_json ||
        again.bundle.annotations.size() != r.bundle.annotations.size())
        __builtin_trap();
    for (size_t i = 0; i < r.bundle.images.size(); ++i)
        if (again.bundle.images[i].bytes != r.bundle.images[i].bytes) __builtin_trap();
    for (size_t i = 0; i < r.bundle.annotations.size(); ++i)
        if (!(again.bundle.annotations[i] == r.bundle.annotations[i])) __builtin_trap();
    return 0;
}
