// base64.h: RFC 4648 base64 (standard alphabet, '=' padding), the text form of
// image bytes in case bundles (case_bundle.js writes it with btoa), HTML data:
// URIs and FHIR attachments.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace es {

std::string base64_encode(const uint8_t* data, size_t size);
inline std::string base64_encode(const std::vector<uint8_t>& bytes) { return base64_encode(bytes.data(), bytes.size()); }

// Strict decoding: only the standard alphabet, length a multiple of 4, padding
// only at the end (as btoa writes). ASCII whitespace is skipped, since
// hand-edited or line-wrapped text has it. False (and *error says where) on
// anything else; *out is then left empty.
bool base64_decode(const std::string& text, std::vector<uint8_t>* out, std::string* error = nullptr);

}  // namespace es
