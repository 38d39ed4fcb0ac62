# Target es_libharu: libharu (Haru Free PDF Library), the PDF writer the report
# exports use (src/report/report_pdf.cpp).
#   native: Debian's libhpdf-dev 2.3.0 (with zlib, so streams are compressed)
#   WebAssembly: built from Debian's source package libharu 2.3.0 (unpacked by
#   scripts/setup.sh) without zlib and libpng: emscripten's zlib/libpng ports
#   would be downloaded at build time, which this project never does. Streams
#   are then stored uncompressed (a larger PDF, same content) and images go in
#   as JPEG bytes (HPDF_LoadJpegImageFromMem needs no library).
# Either way the core includes <hpdf.h>.
if(NOT EMSCRIPTEN)
  find_path(ES_HPDF_INCLUDE hpdf.h)
  find_library(ES_HPDF_LIBRARY hpdf)
  if(NOT ES_HPDF_INCLUDE OR NOT ES_HPDF_LIBRARY)
    message(FATAL_ERROR "libharu missing: run scripts/setup.sh (Debian package libhpdf-dev)")
  endif()
  add_library(es_libharu INTERFACE)
  target_include_directories(es_libharu SYSTEM INTERFACE "${ES_HPDF_INCLUDE}")
  target_link_libraries(es_libharu INTERFACE "${ES_HPDF_LIBRARY}")
else()
  set(ES_HARU_DIR "${ES_THIRD_PARTY_SRC}/libharu")
  if(NOT EXISTS "${ES_HARU_DIR}/src/hpdf_doc.c")
    message(FATAL_ERROR "libharu source missing in ${ES_HARU_DIR}: run scripts/setup.sh")
  endif()
  # hpdf_config.h as libharu's own CMake writes it, with zlib and libpng absent.
  set(ES_HARU_GEN "${CMAKE_BINARY_DIR}/libharu/include")
  file(WRITE "${ES_HARU_GEN}/hpdf_config.h.tmp"
    "#ifndef _INCLUDE_HPDF_CONFIG_H\n#define _INCLUDE_HPDF_CONFIG_H 1\n"
    "#define LIBHPDF_HAVE_INTTYPES_H 1\n#define LIBHPDF_HAVE_MEMORY_H 1\n"
    "#define LIBHPDF_HAVE_STDINT_H 1\n#define LIBHPDF_HAVE_STDLIB_H 1\n"
    "#define LIBHPDF_HAVE_STRINGS_H 1\n#define LIBHPDF_HAVE_STRING_H 1\n"
    "#define LIBHPDF_HAVE_SYS_STAT_H 1\n#define LIBHPDF_HAVE_SYS_TYPES_H 1\n"
    "#define LIBHPDF_HAVE_UNISTD_H 1\n#define LIBHPDF_STDC_HEADERS 1\n"
    "#define LIBHPDF_HAVE_NOPNGLIB 1\n#define HPDF_NOPNGLIB 1\n#define LIBHPDF_HAVE_NOZLIB 1\n"
    "#endif\n")
  configure_file("${ES_HARU_GEN}/hpdf_config.h.tmp" "${ES_HARU_GEN}/hpdf_config.h" COPYONLY)
  file(GLOB ES_HARU_SOURCES "${ES_HARU_DIR}/src/*.c")
  add_library(es_libharu STATIC ${ES_HARU_SOURCES})
  target_include_directories(es_libharu SYSTEM PUBLIC "${ES_HARU_GEN}" "${ES_HARU_DIR}/include")
  target_compile_options(es_libharu PRIVATE -w)
endif()
