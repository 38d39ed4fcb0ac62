# Target es_sentencepiece: the SentencePiece library (encoder/decoder only, no trainer).
#   native: Debian's libsentencepiece
#   WebAssembly: built from Debian's source package 0.1.97 (see scripts/setup.sh),
#   with its bundled protobuf-lite, absl shims, darts_clone and esaxx.
# Either way the core includes <sentencepiece_processor.h>.
if(NOT EMSCRIPTEN)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
  add_library(es_sentencepiece INTERFACE)
  target_link_libraries(es_sentencepiece INTERFACE PkgConfig::SENTENCEPIECE)
else()
  set(ES_SPM_DIR "${ES_THIRD_PARTY_SRC}/sentencepiece")
  if(NOT EXISTS "${ES_SPM_DIR}/src/sentencepiece_processor.cc")
    message(FATAL_ERROR "sentencepiece source missing in ${ES_SPM_DIR}: run scripts/setup.sh")
  endif()
  file(STRINGS "${ES_SPM_DIR}/VERSION.txt" ES_SPM_VERSION)
  set(ES_SPM_GEN "${CMAKE_BINARY_DIR}/sentencepiece")
  # config.h as upstream's CMake would write it.
  file(WRITE "${ES_SPM_GEN}/private/config.h.tmp"
    "#ifndef CONFIG_H_\n#define CONFIG_H_\n#define VERSION \"${ES_SPM_VERSION}\"\n"
    "#define PACKAGE \"sentencepiece\"\n#define PACKAGE_STRING \"sentencepiece\"\n#endif\n")
  configure_file("${ES_SPM_GEN}/private/config.h.tmp" "${ES_SPM_GEN}/private/config.h" COPYONLY)
  # Only the public header is exposed to the core, so sentencepiece's util.h,
  # common.h... can never shadow ours.
  configure_file("${ES_SPM_DIR}/src/sentencepiece_processor.h"
                 "${ES_SPM_GEN}/include/sentencepiece_processor.h" COPYONLY)
  set(ES_SPM_PB "${ES_SPM_DIR}/third_party/protobuf-lite")
  set(ES_SPM_SOURCES
    arena.cc arenastring.cc bytestream.cc coded_stream.cc common.cc extension_set.cc
    generated_enum_util.cc generated_message_table_driven_lite.cc generated_message_util.cc
    implicit_weak_message.cc int128.cc io_win32.cc message_lite.cc parse_context.cc
    repeated_field.cc status.cc statusor.cc stringpiece.cc stringprintf.cc
    structurally_valid.cc strutil.cc time.cc wire_format_lite.cc zero_copy_stream.cc
    zero_copy_stream_impl.cc zero_copy_stream_impl_lite.cc)
  list(TRANSFORM ES_SPM_SOURCES PREPEND "${ES_SPM_PB}/")
  foreach(f builtin_pb/sentencepiece.pb.cc builtin_pb/sentencepiece_model.pb.cc
            bpe_model.cc char_model.cc error.cc filesystem.cc model_factory.cc
            model_interface.cc normalizer.cc sentencepiece_processor.cc
            unigram_model.cc util.cc word_model.cc)
    list(APPEND ES_SPM_SOURCES "${ES_SPM_DIR}/src/${f}")
  endforeach()
  list(APPEND ES_SPM_SOURCES "${ES_SPM_DIR}/third_party/absl/flags/flag.cc")
  add_library(es_sentencepiece STATIC ${ES_SPM_SOURCES})
  target_include_directories(es_sentencepiece PRIVATE
    "${ES_SPM_GEN}/private" "${ES_SPM_PB}" "${ES_SPM_DIR}/src/builtin_pb"
    "${ES_SPM_DIR}/src" "${ES_SPM_DIR}/third_party" "${ES_SPM_DIR}")
  target_include_directories(es_sentencepiece SYSTEM PUBLIC "${ES_SPM_GEN}/include")
  # Single-threaded wasm: emscripten's pthread stubs cover the thread-local RNG.
  target_compile_definitions(es_sentencepiece PRIVATE _USE_INTERNAL_STRING_VIEW HAVE_PTHREAD=1)
  target_compile_options(es_sentencepiece PRIVATE -w)
endif()
