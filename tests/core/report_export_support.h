// report_export_support.h: the demo case as the exports see it (image bytes,
// annotations made from its lesions: a mask, a box, a polygon) and a report on
// it with accented names, an unaccepted AI value and links to the annotations;
// plus the DejaVu fonts from Debian's fonts-dejavu-core and small file helpers.
// Shared by report_pdf_test, report_fhir_test and case_bundle_test.
#pragma once
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "annotation/annotation.h"
#include "case/case_bundle.h"
#include "case/demo_case.h"
#include "image/image.h"
#include "mask/contour.h"
#include "mask/mask.h"
#include "pdf/pdf_flow.h"
#include "report/report.h"
#include "report/report_html.h"
#include "report_test_support.h"

namespace es_test {

inline const char* kDejaVu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
inline const char* kDejaVuBold = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
inline const char* kEndoscopist = "Dr. José Müller-Łęcka";

inline std::vector<uint8_t> file_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

// Output of a shell command (stdout), or "" when it could not run.
inline std::string run_command(const std::string& command) {
    std::string out;
    if (FILE* p = popen(command.c_str(), "r")) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
        pclose(p);
    }
    return out;
}

inline std::string artifact_dir() {
    const std::string dir = std::string(ES_SOURCE_DIR) + "/test-artifacts/report";
    run_command("mkdir -p '" + dir + "'");
    return dir;
}

// The demo case: images as PNG bytes, and annotations made from its lesion masks:
// image-1.png #1 mask; image-2.png #1 mask, #2 box (the second polyp);
// image-3.png #1 polygon (the mask's outline).
struct DemoExportCase {
    es::Case case_info;
    std::vector<es::BundleImage> files;          // the image files (PNG)
    std::vector<es::ImageAnnotations> annotations;
    std::vector<es::ReportImage> images;         // files + annotations, as the renderers take them
};

inline DemoExportCase demo_export_case() {
    DemoExportCase d;
    // Rendering the demo takes seconds: once per test program.
    static es::Case demo_case;
    static const std::vector<es::NamedFile> files = es::make_demo_case(&demo_case);
    d.case_info = demo_case;
    auto file = [&](const std::string& name) -> const std::vector<uint8_t>& {
        for (const es::NamedFile& f : files)
            if (f.name == name) return f.bytes;
        static const std::vector<uint8_t> none;
        return none;
    };
    for (const es::CaseImage& ci : d.case_info.images) {
        d.files.push_back({ci.file, file(ci.file)});
        es::ImageAnnotations ia;
        ia.image = ci.file;
        ia.width = ci.width;
        ia.height = ci.height;
        for (size_t i = 0; i < ci.lesions.size(); ++i) {
            const es::Lesion& l = ci.lesions[i];
            const std::vector<uint8_t>& png = file(l.mask);
            es::DecodeResult dec = es::decode_image(png.data(), png.size());
            if (!dec.ok) continue;
            es::Annotation a;
            a.id = ia.next_id++;
            a.label = "polyp";
            a.mask = es::mask_from_bytes(dec.image.rgba.data(), dec.image.width, dec.image.height, 4, 0, 127);
            if (ci.file == "image-2.png" && i == 1) {
                a.kind = es::AnnotationKind::Box;
                a.box = es::box_from_corners(l.box[0], l.box[1], l.box[2], l.box[3]);
                a.mask = es::Mask();
            } else if (ci.file == "image-3.png") {
                a.kind = es::AnnotationKind::Polygon;
                a.polygons = es::mask_to_polygons(a.mask, 1.5).polygons;
                a.mask = es::Mask();
            } else {
                a.kind = es::AnnotationKind::Mask;
            }
            ia.items.push_back(a);
        }
        d.annotations.push_back(ia);
    }
    for (size_t i = 0; i < d.files.size(); ++i) {
        es::ReportImage ri;
        ri.name = d.files[i].name;
        ri.bytes = d.files[i].bytes;
        ri.annotations = &d.annotations[i];
        d.images.push_back(ri);
    }
    return d;
}

// A colonoscopy report on the demo case.
inline es::Report demo_report() {
    using namespace es;
    Report r;
    r.header.procedure = user_value<std::string>("colonoscopy");
    r.header.date = user_value<std::string>("2026-11-30");
    r.header.endoscopist = user_value<std::string>(kEndoscopist);
    r.header.instrument = user_value<std::string>("CF-HQ190L");
    r.header.sedation = user_value<std::string>("moderate-sedation");
    r.header.indications = user_value<TextList>({"screening-positive-fit"});
    r.extent.landmarks_reached = user_value<TextList>({"cecum", "appendiceal-orifice"});
    r.extent.caecal_intubation = user_value(true);
    r.extent.caecal_evidence = user_value<ImageLinks>({{"image-4.png", 0, "appendiceal-orifice"}});
    r.bowel_preparation.bbps_right = user_value(2);
    r.bowel_preparation.bbps_transverse = user_value(3);
    r.bowel_preparation.bbps_left = user_value(3);
    r.bowel_preparation.withdrawal_time_min = user_value(8.5);
    Finding f1;
    f1.id = "F1";
    f1.term = user_value<std::string>("polyp");
    f1.location_segment = user_value<std::string>("sigmoid-colon");
    f1.distance_cm = user_value(30.0);
    f1.size_mm = user_value(12.0);
    f1.number = user_value(1);
    f1.paris = user_value<std::string>("0-Is");
    f1.nice = user_value<std::string>("2");
    field_set_ai(f1.jnet, std::string("2A"), "medgemma-4b", 0.62, kWhen);
    f1.evidence = user_value<ImageLinks>({{"image-1.png", 1, ""}});
    r.findings.push_back(f1);
    Finding f2;
    f2.id = "F2";
    f2.term = user_value<std::string>("polyp");
    f2.location_segment = user_value<std::string>("descending-colon");
    f2.size_mm = user_value(5.0);
    f2.number = user_value(2);
    f2.paris = user_value<std::string>("0-IIa");
    f2.evidence = user_value<ImageLinks>({{"image-2.png", 1, ""}, {"image-2.png", 2, ""}});
    r.findings.push_back(f2);
    Finding f3;
    f3.id = "F3";
    f3.term = user_value<std::string>("polyp");
    f3.location_segment = user_value<std::string>("rectum");
    f3.distance_cm = user_value(8.0);
    f3.size_mm = user_value(25.0);
    f3.number = user_value(1);
    f3.paris = user_value<std::string>("0-IIa+IIc");
    f3.notes = user_value<std::string>("Lobulated; lifted well after submucosal injection. Biopsies taken from the edge.");
    f3.evidence = user_value<ImageLinks>({{"image-3.png", 1, ""}});
    r.findings.push_back(f3);
    Intervention i1;
    i1.id = "I1";
    i1.finding_id = "F1";
    i1.method = user_value<std::string>("cold-snare-polypectomy");
    i1.resection = user_value<std::string>("en_bloc");
    i1.retrieved = user_value(true);
    i1.specimen_container = user_value<std::string>("1");
    r.interventions.push_back(i1);
    r.adverse_events = user_value<TextList>({"none"});
    r.impression = user_value<std::string>(
        "Three polyps; the sigmoid polyp was removed en bloc. Rectal lesion ≥ 20 mm referred for EMR.");
    r.recommendations = user_value<std::string>("Await histology. Referral for endoscopic mucosal resection of the rectal lesion.");
    r.surveillance.interval_years = user_value(3.0);
    r.surveillance.rule_id = user_value<std::string>("esge2020.high-risk");
    r.surveillance.confirmed = user_value(true);
    return r;
}

inline es::PdfFonts dejavu_fonts() {
    es::PdfFonts f;
    f.regular = file_bytes(kDejaVu);
    f.bold = file_bytes(kDejaVuBold);
    return f;
}

}  // namespace es_test
