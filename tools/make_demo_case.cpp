// make_demo_case OUTDIR: writes the synthetic demo case (case.json, image PNGs,
// lesion mask PNGs) into OUTDIR, creating it. Deterministic: every run writes
// the same bytes. Images and masks are only rewritten when their content
// changed; case.json is always rewritten, last, so a build rule whose output is
// case.json sees it newer than the tool and does not run again.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "case/demo_case.h"

int main(int argc, char** argv) {
    if (argc != 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
        std::fprintf(argc == 2 ? stdout : stderr,
                     "usage: make_demo_case OUTDIR\n"
                     "Writes the synthetic demo case (case.json, images, lesion masks) into OUTDIR.\n");
        return argc == 2 ? 0 : 2;
    }
    namespace fs = std::filesystem;
    fs::path dir = argv[1];
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        std::fprintf(stderr, "make_demo_case: cannot create %s: %s\n", dir.c_str(), ec.message().c_str());
        return 1;
    }
    std::vector<es::NamedFile> files = es::make_demo_case();
    std::stable_partition(files.begin(), files.end(), [](const es::NamedFile& f) { return f.name != "case.json"; });
    for (const es::NamedFile& f : files) {
        fs::path p = dir / f.name;
        std::ifstream old(p, std::ios::binary);
        if (old && f.name != "case.json") {
            std::vector<uint8_t> current((std::istreambuf_iterator<char>(old)), std::istreambuf_iterator<char>());
            if (current == f.bytes) continue;
        }
        fs::path tmp = p;
        tmp += ".tmp";
        {
            std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
            out.write(reinterpret_cast<const char*>(f.bytes.data()), std::streamsize(f.bytes.size()));
            if (!out) {
                std::fprintf(stderr, "make_demo_case: cannot write %s\n", tmp.c_str());
                return 1;
            }
        }
        fs::rename(tmp, p, ec);
        if (ec) {
            std::fprintf(stderr, "make_demo_case: cannot write %s: %s\n", p.c_str(), ec.message().c_str());
            return 1;
        }
    }
    return 0;
}
