// case_bundle.cpp: see case_bundle.h. Parsing never throws out of here: JSON
// errors are found without exceptions and every access is type-checked first.
#include "case/case_bundle.h"

#include <set>

#include <nlohmann/json.hpp>

#include "encoding/base64.h"
#include "json/json_syntax.h"
#include "json/versioned_document.h"

namespace es {
namespace {

using json = nlohmann::json;

const char kFormat[] = "endoscribe-case-bundle";
const char kDocumentFormat[] = "endoscribe-annotations";
const char kExportAgain[] = " Export the case again from the app (Case menu > Export bundle) and open that file.";

CaseBundleRead failed(const std::string& message, const std::string& detail) {
    CaseBundleRead r;
    r.message = message;
    r.detail = detail;
    return r;
}

std::string quoted(const std::string& s) {
    return "\"" + (s.size() > 60 ? s.substr(0, 60) + "..." : s) + "\"";
}

}  // namespace

const BundleImage* CaseBundle::find_image(const std::string& name) const {
    for (const BundleImage& img : images)
        if (img.name == name) return &img;
    return nullptr;
}

const ImageAnnotations* CaseBundle::find_annotations(const std::string& image) const {
    for (const ImageAnnotations& a : annotations)
        if (a.image == image) return &a;
    return nullptr;
}

CaseBundleRead read_case_bundle(const std::string& text, const CaseBundleLimits& lim) {
    const std::string not_bundle = "This file is not an EndoScribe case bundle, or it is damaged.";
    if (text.size() > lim.max_bytes)
        return failed("This case bundle is too large to open (over " + std::to_string(lim.max_bytes >> 20) + " MiB).",
                      "file: " + std::to_string(text.size()) + " bytes");
    if (json_nesting_depth(text, lim.max_depth) > lim.max_depth)
        return failed(not_bundle + kExportAgain,
                      "file: arrays/objects nested deeper than " + std::to_string(lim.max_depth) + " levels");
    VersionedDocument read = read_versioned_document(text, {kFormat, "a case bundle", 1, ""});
    switch (read.problem) {
        case DocumentProblem::None: break;
        case DocumentProblem::Syntax:
            return failed(not_bundle + " It is not valid JSON (it may be cut short)." + kExportAgain, "file: " + read.error);
        case DocumentProblem::NotObject: return failed(not_bundle, "file: " + read.error);
        case DocumentProblem::Format:
            return failed(not_bundle + " Open a file exported with Case menu > Export bundle.", read.error);
        case DocumentProblem::Version: return failed(not_bundle, read.error);
        case DocumentProblem::NewerVersion:
            return failed("This case bundle was made by a newer version of EndoScribe; update the app to open it.",
                          read.error);
    }
    json root = std::move(read.doc);

    CaseBundleRead r;
    CaseBundle& b = r.bundle;

    // The annotation document.
    auto doc = root.find("document");
    if (doc == root.end() || !doc->is_object())
        return failed(not_bundle + kExportAgain, "document: missing or not an object");
    auto doc_format = doc->find("format");
    if (doc_format == doc->end() || !doc_format->is_string() || doc_format->get<std::string>() != kDocumentFormat)
        return failed(not_bundle + kExportAgain, std::string("document.format: must be \"") + kDocumentFormat + "\"");
    auto coco = doc->find("coco");
    if (coco == doc->end()) return failed(not_bundle + kExportAgain, "document.coco: missing (the document has no annotations)");
    CocoImport annotations = import_coco(coco->dump());
    if (!annotations.ok)
        return failed("The annotations in this case bundle cannot be read; nothing was opened." + std::string(kExportAgain),
                      "document.coco." + annotations.error);
    b.annotations = std::move(annotations.images);
    b.categories = std::move(annotations.categories);
    auto case_json = doc->find("case");
    if (case_json != doc->end() && !case_json->is_null()) {
        if (!case_json->is_object()) return failed(not_bundle + kExportAgain, "document.case: must be an object or null");
        CaseParseResult c = case_from_json(case_json->dump());
        if (!c.ok)
            return failed("The case description in this bundle " + c.reason + "; nothing was opened." + kExportAgain,
                          "document.case: " + c.error);
        b.has_case = true;
        b.case_info = std::move(c.value);
    }

    // The images.
    auto images = root.find("images");
    if (images == root.end() || !images->is_array() || images->empty())
        return failed("This case bundle has no images; there is nothing to open." + std::string(kExportAgain),
                      "images: missing, not a list, or empty");
    if (images->size() > lim.max_images)
        return failed("This case bundle has more images than the app opens at once (" + std::to_string(lim.max_images) +
                          ").",
                      "images: " + std::to_string(images->size()) + " entries");
    std::set<std::string> names;
    for (size_t i = 0; i < images->size(); ++i) {
        const json& img = (*images)[i];
        const std::string where = "images[" + std::to_string(i) + "]";
        const std::string damaged = "Image " + std::to_string(i + 1) + " in this case bundle is damaged; nothing was opened." +
                                    kExportAgain;
        if (!img.is_object()) return failed(damaged, where + ": must be an object");
        auto name = img.find("name");
        if (name == img.end() || !name->is_string() || name->get_ref<const std::string&>().empty())
            return failed(damaged, where + ".name: missing or empty");
        const std::string& n = name->get_ref<const std::string&>();
        if (n.size() > lim.max_name) return failed(damaged, where + ".name: longer than " + std::to_string(lim.max_name) + " bytes");
        if (n.find_first_of("/\\") != std::string::npos || n == "." || n == "..")
            return failed(damaged, where + ".name: " + quoted(n) + " is not a plain file name");
        for (unsigned char c : n)
            if (c < 0x20 || c == 0x7f) return failed(damaged, where + ".name: contains control characters");
        if (!names.insert(n).second) return failed(damaged, where + ".name: " + quoted(n) + " appears twice");
        auto bytes = img.find("bytes_base64");
        if (bytes == img.end() || !bytes->is_string()) return failed(damaged, where + ".bytes_base64: missing or not a string");
        BundleImage out;
        out.name = n;
        std::string error;
        if (!base64_decode(bytes->get_ref<const std::string&>(), &out.bytes, &error))
            return failed(damaged, where + ".bytes_base64 (" + quoted(n) + "): " + error);
        b.images.push_back(std::move(out));
    }

    // The report travels as JSON; report_from_json reads it (it needs the vocabulary).
    auto report = root.find("report");
    if (report != root.end() && !report->is_null()) {
        if (!report->is_object())
            return failed("The report in this case bundle is damaged; nothing was opened." + std::string(kExportAgain),
                          "report: must be an object");
        b.report_json = report->dump();
    }
    r.ok = true;
    return r;
}

std::string write_case_bundle(const std::string& document_json, const std::vector<BundleImage>& images,
                              const std::string& report_json) {
    nlohmann::ordered_json j;
    j["format"] = kFormat;
    j["version"] = 1;
    nlohmann::ordered_json doc = nlohmann::ordered_json::parse(document_json, nullptr, false);
    if (doc.is_discarded()) return "";
    j["document"] = std::move(doc);
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const BundleImage& img : images) list.push_back({{"name", img.name}, {"bytes_base64", base64_encode(img.bytes)}});
    j["images"] = std::move(list);
    if (!report_json.empty()) {
        nlohmann::ordered_json rep = nlohmann::ordered_json::parse(report_json, nullptr, false);
        if (rep.is_discarded()) return "";
        j["report"] = std::move(rep);
    }
    return j.dump();
}

std::string make_annotation_document(const Case* case_info, const std::vector<ImageAnnotations>& annotations,
                                     const std::vector<CocoCategory>& categories) {
    json j;
    j["format"] = kDocumentFormat;
    j["version"] = 1;
    j["case"] = case_info ? json::parse(case_to_json(*case_info)) : json(nullptr);
    j["coco"] = json::parse(export_coco(annotations, categories));
    j["user_label_sets"] = json::array();
    j["label"] = "";
    return j.dump();
}

}  // namespace es
