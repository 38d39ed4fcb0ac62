// render_report BUNDLE.json OUTDIR [--pdf] [--fhir] [--html] [--text]
//                [--vocabulary DIR] [--font FILE] [--bold-font FILE] [--time ISO]
// Renders the report inside a case bundle (the app's Case menu > Export bundle)
// with the same core code the app uses: report.pdf, report.fhir.json,
// report.html, report.txt in OUTDIR (all four when no format is named). For the
// server and for batches. The vocabulary comes from models/report/ (found
// next to the current folder or the source tree), the fonts from Debian's
// fonts-dejavu-core. Exit status: 0 written, 1 the bundle or its report could
// not be read (the message says why), 2 usage.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "case/case_bundle.h"
#include "report/report_bundle.h"
#include "report/report_fhir.h"
#include "report/report_html.h"
#include "report/report_pdf.h"
#include "report/report_text.h"
#include "report/report_vocabulary.h"

namespace fs = std::filesystem;

namespace {

const char kUsage[] =
    "usage: render_report BUNDLE.json OUTDIR [--pdf] [--fhir] [--html] [--text]\n"
    "                     [--vocabulary DIR] [--font FILE] [--bold-font FILE] [--time ISO-8601]\n"
    "Renders the report of an EndoScribe case bundle into OUTDIR: report.pdf, report.fhir.json,\n"
    "report.html, report.txt (all of them when no format is named).\n"
    "  --vocabulary DIR  report vocabulary files (default: models/report of this checkout)\n"
    "  --font FILE       TrueType font for the PDF (default: Debian's DejaVuSans.ttf)\n"
    "  --time ISO        export time written into the FHIR Bundle (default: now, UTC)\n";

bool read_file(const fs::path& p, std::string& out) {
    std::ifstream f(p, std::ios::binary);
    if (!f) return false;
    out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    return true;
}

std::vector<uint8_t> read_bytes(const fs::path& p) {
    std::string s;
    if (!read_file(p, s)) return {};
    return std::vector<uint8_t>(s.begin(), s.end());
}

bool write_file(const fs::path& p, const void* data, size_t size) {
    fs::path tmp = p;
    tmp += ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f.write(static_cast<const char*>(data), std::streamsize(size))) return false;
    }
    std::error_code ec;
    fs::rename(tmp, p, ec);
    return !ec;
}

std::string now_utc() {
    std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

fs::path default_vocabulary_dir() {
    if (fs::exists("models/report/report_lists.json")) return "models/report";
    return fs::path(ES_SOURCE_DIR) / "models/report";
}

// The vocabulary files of a folder (report_vocabulary_files_to_load).
bool load_vocabulary(const fs::path& dir, es::ReportVocabulary& vocab, std::string& error) {
    std::vector<std::string> present;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) present.push_back(e.path().filename().string());
    if (ec) {
        error = dir.string() + ": " + ec.message();
        return false;
    }
    const std::vector<std::string> names = es::report_vocabulary_files_to_load(present);
    std::vector<std::string> texts;
    for (const std::string& n : names) {
        std::string t;
        if (!read_file(dir / n, t)) {
            error = (dir / n).string() + ": cannot be read";
            return false;
        }
        texts.push_back(std::move(t));
    }
    return es::report_vocabulary_load(vocab, texts, names, &error);
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
        std::fputs(kUsage, stdout);
        return 0;
    }
    bool pdf = false, fhir = false, html = false, text = false;
    fs::path vocab_dir = default_vocabulary_dir();
    fs::path font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    fs::path bold_font = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
    std::string time = now_utc();
    std::vector<std::string> positional;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](fs::path& out) {
            if (i + 1 >= args.size()) return false;
            out = args[++i];
            return true;
        };
        if (a == "--pdf") pdf = true;
        else if (a == "--fhir") fhir = true;
        else if (a == "--html") html = true;
        else if (a == "--text") text = true;
        else if (a == "--vocabulary" && value(vocab_dir)) continue;
        else if (a == "--font" && value(font)) continue;
        else if (a == "--bold-font" && value(bold_font)) continue;
        else if (a == "--time" && i + 1 < args.size()) time = args[++i];
        else if (a.rfind("--", 0) == 0) {
            std::fprintf(stderr, "render_report: unknown option %s\n%s", a.c_str(), kUsage);
            return 2;
        } else positional.push_back(a);
    }
    if (positional.size() != 2) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    if (!pdf && !fhir && !html && !text) pdf = fhir = html = text = true;
    const fs::path bundle_path = positional[0], out_dir = positional[1];

    std::string bundle_text;
    if (!read_file(bundle_path, bundle_text)) {
        std::fprintf(stderr, "render_report: %s cannot be read (no such file, or no permission).\n", bundle_path.c_str());
        return 1;
    }
    es::CaseBundleRead read = es::read_case_bundle(bundle_text);
    if (!read.ok) {
        std::fprintf(stderr, "render_report: %s: %s\n  details: %s\n", bundle_path.c_str(), read.message.c_str(),
                     read.detail.c_str());
        return 1;
    }
    es::ReportVocabulary vocab;
    std::string error;
    if (!load_vocabulary(vocab_dir, vocab, error)) {
        std::fprintf(stderr, "render_report: the report vocabulary could not be loaded (pass --vocabulary DIR).\n  details: %s\n",
                     error.c_str());
        return 1;
    }
    es::BundleReport report = es::read_bundle_report(read.bundle, vocab);
    if (!report.ok) {
        std::fprintf(stderr, "render_report: %s: %s\n  details: %s\n", bundle_path.c_str(), report.message.c_str(),
                     report.detail.c_str());
        return 1;
    }
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec) {
        std::fprintf(stderr, "render_report: cannot create %s: %s\n", out_dir.c_str(), ec.message().c_str());
        return 1;
    }
    const std::vector<es::ReportImage> images = es::report_images(read.bundle);
    int failures = 0;
    auto save = [&](const char* name, const void* data, size_t size) {
        if (write_file(out_dir / name, data, size)) {
            std::printf("%s\n", (out_dir / name).c_str());
        } else {
            std::fprintf(stderr, "render_report: could not write %s\n", (out_dir / name).c_str());
            ++failures;
        }
    };

    std::vector<uint8_t> pdf_bytes;
    if (pdf || fhir) {  // the FHIR Bundle carries the PDF as presentedForm
        es::ReportPdfOptions options;
        options.fonts.regular = read_bytes(font);
        options.fonts.bold = read_bytes(bold_font);
        if (options.fonts.regular.empty())
            std::fprintf(stderr, "render_report: warning: font %s not found (Debian package fonts-dejavu-core)\n", font.c_str());
        es::ReportPdf made = es::report_to_pdf(report.report, vocab, images, options);
        for (const std::string& w : made.warnings) std::fprintf(stderr, "render_report: warning: %s\n", w.c_str());
        if (!made.ok) {
            std::fprintf(stderr, "render_report: %s\n", made.error.c_str());
            return 1;
        }
        pdf_bytes = std::move(made.bytes);
        if (pdf) save("report.pdf", pdf_bytes.data(), pdf_bytes.size());
    }
    if (fhir) {
        es::ReportFhirOptions options;
        options.generated_at = time;
        options.pdf = pdf_bytes;
        options.report_key = read.bundle.has_case ? read.bundle.case_info.id : "";
        es::ReportFhir made = es::report_to_fhir(report.report, vocab, images, options);
        for (const std::string& w : made.warnings) std::fprintf(stderr, "render_report: warning: %s\n", w.c_str());
        if (!made.ok) {
            std::fprintf(stderr, "render_report: FHIR export failed: %s\n", made.error.c_str());
            return 1;
        }
        save("report.fhir.json", made.json.data(), made.json.size());
    }
    if (html) {
        const std::string page = es::report_html(report.report, vocab, images);
        save("report.html", page.data(), page.size());
    }
    if (text) {
        const std::string t = es::report_text(report.report, vocab);
        save("report.txt", t.data(), t.size());
    }
    return failures ? 1 : 0;
}
