// stb_implementation.cpp: the one translation unit that compiles the stb
// single-header libraries (Debian's libstb-dev headers; no stb source is copied
// into this repository). Everything is memory-only: the core does no file I/O.
//
// Configuration, in one place so every user of stb sees the same build:
//   - decoders limited to the formats the app accepts (JPEG, PNG, BMP);
//   - no stdio (platform-free core; the WebAssembly build has no files);
//   - stb's own dimension backstop; the real limits are in DecodeLimits and are
//     checked before any pixel memory is allocated (see image_decode.cpp).
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS (1 << 16)
#define STB_IMAGE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wtype-limits"
#endif
#include "stb_image.h"
#include "stb_image_resize.h"
#include "stb_image_write.h"
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif
