// versioned_document.h: the opening every reader of an EndoScribe JSON file
// shares: the text is JSON (where it breaks, in words, when not), its top
// level is an object, "format" names the kind of document, and "version" is
// one this app reads (1 up to the newest it knows). The reader then goes on
// with the object's own fields. Never throws.
//
// Messages are "<field>: <what is wrong>" (the field prefixed with
// `DocumentKind::path` when a reader names its fields that way, e.g.
// "case.format"), one wording for every kind of document.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace es {

struct DocumentKind {
    std::string format;          // the "format" tag, e.g. "endoscribe-report-vocabulary"
    std::string name;            // in words, with its article: "a report vocabulary"
    int64_t newest_version = 1;  // versions 1 .. newest_version are read
    std::string path;            // prefix of field names in messages ("case" -> "case.format"); "" for none
};

enum class DocumentProblem { None, Syntax, NotObject, Format, Version, NewerVersion };

struct VersionedDocument {
    DocumentProblem problem = DocumentProblem::None;
    nlohmann::json doc;   // the parsed object when ok()
    int64_t version = 0;  // its version when ok()
    std::string error;    // what is wrong, "" when ok()
    bool ok() const { return problem == DocumentProblem::None; }
};

VersionedDocument read_versioned_document(const std::string& text, const DocumentKind& kind);

}  // namespace es
