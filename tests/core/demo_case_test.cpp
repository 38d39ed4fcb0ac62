// Tests for the synthetic demo case: byte-identical on every run, consistent
// ground truth (mask, box, area, case.json), and images that look like
// endoscopy (reddish mucosa, black border, dark lumen, highlights on lesions).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <unistd.h>

#include "case/case.h"
#include "case/demo_case.h"
#include "image/image.h"

namespace {

const std::vector<es::NamedFile>& files() {
    static const std::vector<es::NamedFile> f = es::make_demo_case();
    return f;
}

const es::NamedFile* find(const std::string& name) {
    for (const auto& f : files())
        if (f.name == name) return &f;
    return nullptr;
}

TEST(DemoCase, IsByteIdenticalEveryRun) {
    std::vector<es::NamedFile> again = es::make_demo_case();
    ASSERT_EQ(again.size(), files().size());
    for (size_t i = 0; i < again.size(); ++i) {
        EXPECT_EQ(again[i].name, files()[i].name);
        EXPECT_TRUE(again[i].bytes == files()[i].bytes) << again[i].name;
    }
}

TEST(DemoCase, CaseJsonListsEveryFileAndParses) {
    const es::NamedFile* json = find("case.json");
    ASSERT_NE(json, nullptr);
    es::CaseParseResult r = es::case_from_json(std::string(json->bytes.begin(), json->bytes.end()));
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.value.id, "demo");
    EXPECT_EQ(r.value.procedure, "colonoscopy");
    ASSERT_GE(r.value.images.size(), 3u);
    ASSERT_LE(r.value.images.size(), 4u);
    size_t lesions = 0, listed = 1;
    for (const es::CaseImage& img : r.value.images) {
        EXPECT_NE(find(img.file), nullptr) << img.file;
        EXPECT_FALSE(img.title.empty());
        EXPECT_FALSE(img.location.empty());
        ++listed;
        for (const es::Lesion& l : img.lesions) {
            EXPECT_NE(find(l.mask), nullptr) << l.mask;
            EXPECT_EQ(l.label, "polyp");
            ++lesions;
            ++listed;
        }
    }
    EXPECT_GE(lesions, 3u);
    EXPECT_EQ(listed, files().size());  // nothing written that case.json does not name
}

TEST(DemoCase, MasksBoxesAndAreasAgree) {
    es::Case manifest;
    es::make_demo_case(&manifest);
    for (const es::CaseImage& img : manifest.images) {
        for (const es::Lesion& l : img.lesions) {
            es::DecodeResult m = es::decode_image(find(l.mask)->bytes.data(), find(l.mask)->bytes.size());
            ASSERT_TRUE(m.ok) << l.mask << ": " << m.error;
            ASSERT_EQ(m.image.width, img.width);
            ASSERT_EQ(m.image.height, img.height);
            int64_t area = 0;
            int x1 = img.width, y1 = img.height, x2 = 0, y2 = 0;
            for (int y = 0; y < img.height; ++y)
                for (int x = 0; x < img.width; ++x) {
                    uint8_t v = m.image.pixel(x, y)[0];
                    ASSERT_TRUE(v == 0 || v == 255) << "mask must be binary";
                    if (v) {
                        ++area;
                        x1 = std::min(x1, x), y1 = std::min(y1, y), x2 = std::max(x2, x + 1), y2 = std::max(y2, y + 1);
                    }
                }
            EXPECT_EQ(area, l.area) << l.mask;
            EXPECT_EQ(l.box, (std::array<int, 4>{x1, y1, x2, y2})) << l.mask;
            // Plausible polyp sizes: between 0.5% and 15% of the frame.
            EXPECT_GT(area, int64_t(img.width) * img.height / 200) << l.mask;
            EXPECT_LT(area, int64_t(img.width) * img.height * 15 / 100) << l.mask;
        }
    }
}

TEST(DemoCase, ImagesDecodeToTheirRendering) {
    for (const es::DemoImageSpec& spec : es::demo_image_specs()) {
        es::DemoRendering r = es::render_demo_image(spec);
        const es::NamedFile* f = find(spec.file);
        ASSERT_NE(f, nullptr);
        es::DecodeResult d = es::decode_image(f->bytes.data(), f->bytes.size());
        ASSERT_TRUE(d.ok) << d.error;
        EXPECT_EQ(d.image.width, spec.width);
        EXPECT_EQ(d.image.height, spec.height);
        EXPECT_TRUE(d.image.rgba == r.image.rgba) << spec.file;
    }
}

TEST(DemoCase, ImagesLookLikeEndoscopy) {
    for (const es::DemoImageSpec& spec : es::demo_image_specs()) {
        es::DemoRendering r = es::render_demo_image(spec);
        const es::Image& img = r.image;
        // Black scope border in the corners, opaque everywhere.
        for (auto [x, y] : std::vector<std::pair<int, int>>{{0, 0}, {img.width - 1, 0}, {0, img.height - 1}, {img.width - 1, img.height - 1}})
            EXPECT_EQ(img.pixel(x, y)[0] + img.pixel(x, y)[1] + img.pixel(x, y)[2], 0) << spec.file;
        // Reddish mucosa: red dominates on average inside the field of view.
        double sr = 0, sg = 0, sb = 0;
        size_t count = 0, highlights = 0;
        for (int y = img.height / 8; y < img.height * 7 / 8; ++y)
            for (int x = img.width / 8; x < img.width * 7 / 8; ++x) {
                const uint8_t* p = img.pixel(x, y);
                sr += p[0], sg += p[1], sb += p[2], ++count;
                if (p[0] > 240 && p[1] > 220 && p[2] > 210) ++highlights;
                EXPECT_EQ(p[3], 255);
            }
        EXPECT_GT(sr / count, 1.5 * sg / count) << spec.file;
        EXPECT_GT(sr / count, 1.4 * sb / count) << spec.file;
        EXPECT_GT(sr / count, 90) << spec.file;
        EXPECT_GT(highlights, 20u) << spec.file << ": specular highlights";
        // The lumen is dark.
        const uint8_t* lumen = img.pixel(int(spec.lumen_x * img.width), int(spec.lumen_y * img.height));
        EXPECT_LT(lumen[0], 40) << spec.file;
        // Every polyp has a specular highlight on it and is brighter than the lumen.
        for (size_t p = 0; p < r.masks.size(); ++p) {
            size_t shiny = 0;
            for (size_t i = 0; i < r.masks[p].size(); ++i)
                if (r.masks[p][i] && img.rgba[i * 4] > 240 && img.rgba[i * 4 + 1] > 200) ++shiny;
            EXPECT_GT(shiny, 3u) << spec.file << " polyp " << p;
        }
    }
}

// The tool itself (<build>/tools/make_demo_case): two runs into fresh folders
// write exactly the files make_demo_case() returns, byte for byte.
TEST(DemoCase, ToolWritesTheSameBytesEveryRun) {
    namespace fs = std::filesystem;
    fs::path tool = fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "tools" / "make_demo_case";
    if (!fs::exists(tool)) GTEST_SKIP() << "no " << tool;
    fs::path base = fs::temp_directory_path() / ("es-demo-test-" + std::to_string(getpid()));
    fs::remove_all(base);
    for (const char* run : {"a", "b"}) {
        std::string cmd = "'" + tool.string() + "' '" + (base / run).string() + "'";
        ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    }
    size_t count = 0;
    for (const char* run : {"a", "b"}) {
        for (const es::NamedFile& f : files()) {
            std::ifstream in(base / run / f.name, std::ios::binary);
            ASSERT_TRUE(in) << f.name;
            std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            EXPECT_TRUE(bytes == f.bytes) << run << "/" << f.name;
        }
        count = size_t(std::distance(fs::directory_iterator(base / run), fs::directory_iterator()));
        EXPECT_EQ(count, files().size()) << "unexpected extra files in " << run;
    }
    fs::remove_all(base);
}

TEST(DemoCase, DifferentSeedsGiveDifferentImages) {
    es::DemoImageSpec a = es::demo_image_specs()[3], b = a;
    b.seed += 1;
    EXPECT_FALSE(es::render_demo_image(a).image.rgba == es::render_demo_image(b).image.rgba);
}

}  // namespace
