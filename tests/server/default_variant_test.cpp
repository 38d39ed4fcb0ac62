// The server picks a package's default variant by the app's rule
// (web/assistant/variant_rule.json, compiled in; webgpu_check.js reads the same
// file): fp32 for a small package, q4 for a large one, then the float16 twin on
// CUDA and the float32 one on the CPU. The same packages as the app's test
// (tests/node/assistant_webgpu_check.test.mjs) give the same answers.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "inference/gemma3_package.h"

using namespace es::server;
using nlohmann::json;

namespace {

// A package with a manifest listing these variants, the fp32 files weighing fp32_bytes.
Gemma3Package package(const std::vector<std::string>& variants, uint64_t fp32_bytes) {
    Gemma3Package p;
    p.has_manifest = true;
    json graphs = json::object(), files = json::array();
    for (const char* g : {"vision_encoder", "embed_tokens", "decoder"})
        for (const std::string& v : variants) {
            const std::string path = std::string("onnx/") + g + "_" + v + ".onnx";
            graphs[g][v] = path;
            files.push_back({{"path", path}, {"variant", v}, {"size", v == "fp32" ? fp32_bytes / 3 : 1000}});
        }
    p.manifest = {{"format", "endoscribe-model-package"}, {"graphs", graphs}, {"files", files}};
    return p;
}

}  // namespace

TEST(DefaultVariant, TheRuleIsTheAppsFile) {
    std::ifstream in(ES_SOURCE_DIR "/web/assistant/variant_rule.json");
    ASSERT_TRUE(in);
    const json file = json::parse(std::string(std::istreambuf_iterator<char>(in), {}));
    const VariantRule rule = variant_rule();
    EXPECT_EQ(rule.fp32_max_bytes, file["fp32_max_bytes"].get<uint64_t>());
    EXPECT_EQ(rule.f16_twin, file["f16_twin"].get<decltype(rule.f16_twin)>());
}

TEST(DefaultVariant, SmallPackagesRunFp32AndLargeOnesQ4) {
    const uint64_t limit = variant_rule().fp32_max_bytes;
    const std::vector<std::string> all = {"fp32", "q4", "fp16", "q4f16"};
    // Small: full precision (the app's default for the tiny model too), float16 activations on CUDA.
    EXPECT_EQ(default_variant(package(all, 3 * 1000), false), "fp32");
    EXPECT_EQ(default_variant(package(all, 3 * 1000), true), "fp16");
    EXPECT_EQ(default_variant(package({"fp32", "q4"}, 3 * 1000), true), "fp32");  // no twin: as it is
    // Large: 4-bit.
    EXPECT_EQ(default_variant(package(all, limit + 3), false), "q4");
    EXPECT_EQ(default_variant(package(all, limit + 3), true), "q4f16");
    EXPECT_EQ(default_variant(package({"fp32", "q4"}, limit - 3), false), "fp32");  // at the limit: still fp32
    EXPECT_EQ(default_variant(package({"fp32"}, limit + 3), false), "fp32");        // nothing smaller
    // Packages without fp32.
    EXPECT_EQ(default_variant(package({"q4", "q4f16"}, 0), false), "q4");
    EXPECT_EQ(default_variant(package({"q4", "q4f16"}, 0), true), "q4f16");
    EXPECT_EQ(default_variant(package({"q4f16", "fp16"}, 0), false), "q4f16");  // no float32 twin to fall back to
    EXPECT_EQ(default_variant(package({}, 0), false), "");
}

TEST(DefaultVariant, WeightBytesAreTheVariantsManifestFiles) {
    EXPECT_EQ(variant_weight_bytes(package({"fp32", "q4"}, 3 * 700), "fp32"), 3u * 700);
    EXPECT_EQ(variant_weight_bytes(package({"fp32", "q4"}, 3 * 700), "q4"), 3u * 1000);
}
