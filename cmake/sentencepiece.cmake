# Target es_sentencepiece: the SentencePiece library.
#   native: Debian's libsentencepiece
#   WebAssembly: built from Debian's source package (see scripts/setup.sh)
if(NOT EMSCRIPTEN)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
  add_library(es_sentencepiece INTERFACE)
  target_link_libraries(es_sentencepiece INTERFACE PkgConfig::SENTENCEPIECE)
else()
  # TODO(assistant): build from ${ES_THIRD_PARTY_SRC}/sentencepiece for wasm.
  add_library(es_sentencepiece INTERFACE)
endif()
