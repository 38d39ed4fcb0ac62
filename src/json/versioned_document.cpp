// versioned_document.cpp: see versioned_document.h. Parsing comes first (no
// exceptions: the WebAssembly build cannot always catch them); only a text
// that does not parse gets the slower syntax pass that says where it breaks.
#include "json/versioned_document.h"

#include "json/json_syntax.h"

namespace es {

VersionedDocument read_versioned_document(const std::string& text, const DocumentKind& kind) {
    using json = nlohmann::json;
    VersionedDocument r;
    const std::string prefix = kind.path.empty() ? std::string() : kind.path + ".";
    auto fail = [&](DocumentProblem p, const std::string& message) {
        r.problem = p;
        r.error = message;
        r.doc = json();
        return r;
    };
    r.doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (r.doc.is_discarded()) {
        const JsonSyntax syntax = check_json_syntax(text);
        return fail(DocumentProblem::Syntax, syntax.ok ? std::string("not valid JSON") : syntax.describe());
    }
    if (!r.doc.is_object())
        return fail(DocumentProblem::NotObject, "the top level of " + kind.name + " must be a JSON object");
    const auto format = r.doc.find("format");
    if (format == r.doc.end())
        return fail(DocumentProblem::Format, (kind.path.empty() ? std::string() : kind.path + ": ") +
                                                 "missing \"format\" (" + kind.name + " has \"format\": \"" +
                                                 kind.format + "\")");
    if (!format->is_string() || format->get<std::string>() != kind.format)
        return fail(DocumentProblem::Format, prefix + "format: " + format->dump() + " is not " + kind.name +
                                                 " (its format is \"" + kind.format + "\")");
    const auto version = r.doc.find("version");
    const std::string readable = kind.newest_version == 1 ? std::string("1")
                                                          : "1 to " + std::to_string(kind.newest_version);
    if (version == r.doc.end() || !version->is_number_integer())
        return fail(DocumentProblem::Version, prefix + "version: " +
                                                  (version == r.doc.end() ? std::string("missing") : version->dump()) +
                                                  "; this app reads " + kind.name + " of version " + readable);
    if (version->is_number_unsigned() && version->get<uint64_t>() > uint64_t(kind.newest_version))
        return fail(DocumentProblem::NewerVersion, prefix + "version: " + version->dump() +
                                                       " is newer than this app reads (" + readable +
                                                       "); a newer EndoScribe wrote it");
    if (version->get<int64_t>() < 1)
        return fail(DocumentProblem::Version, prefix + "version: " + version->dump() + " is not a version of " +
                                                  kind.name + " (this app reads " + readable + ")");
    r.version = version->get<int64_t>();
    return r;
}

}  // namespace es
