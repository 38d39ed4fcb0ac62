// content_hash.h: the SHA-256 of bytes as 64 lowercase hex digits - the key
// under which the server keeps what it computed for an image (the SAM
// embedding), and the "image_id" clients send back instead of the image.
// OpenSSL's libcrypto (already linked by Debian's cpp-httplib).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace es::server {

std::string sha256_hex(const uint8_t* data, size_t size);

}  // namespace es::server
