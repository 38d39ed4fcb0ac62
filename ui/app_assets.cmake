# app_assets.cmake (included from ui/CMakeLists.txt): what the assistant needs in
# the app folder besides the page (and web/assistant/hub_hosts.json and
# hash-wasm's SHA-256, below).
#  - onnxruntime-web: only the WebGPU build's module and its wasm (it also runs
#    the WASM EP, the fallback), so the app starts offline (precached).
#  - the tiny model package (tests/fixtures/tiny-gemma3), built by the model
#    builder into app/models/tiny-gemma3/: the default "local server" model.
#    Models are not precached by the service worker (make_service_worker.cmake
#    skips models/); the model manager caches them in OPFS.
# The label sets the Classify tab reads come with annotation_assets.cmake.
set(ES_ORT_DIST "${CMAKE_SOURCE_DIR}/node_modules/onnxruntime-web/dist")
set(ES_ORT_FILES ort.webgpu.min.mjs ort-wasm-simd-threaded.asyncify.mjs ort-wasm-simd-threaded.asyncify.wasm)
foreach(f ${ES_ORT_FILES})
  if(EXISTS "${ES_ORT_DIST}/${f}")
    es_copy_to_app("${ES_ORT_DIST}/${f}" "ort/${f}")
  else()
    message(WARNING "${ES_ORT_DIST}/${f} missing (npm ci not run?): the assistant cannot run models")
  endif()
endforeach()

# hash-wasm's SHA-256 (web/assistant/sha256.js imports it from app/hash-wasm/;
# Node takes the same file from node_modules): model files are hashed as they
# stream into the browser cache. Precached by the service worker like every app file.
set(ES_HASH_WASM_SHA256 "${CMAKE_SOURCE_DIR}/node_modules/hash-wasm/dist/sha256.umd.min.js")
if(EXISTS "${ES_HASH_WASM_SHA256}")
  es_copy_to_app("${ES_HASH_WASM_SHA256}" "hash-wasm/sha256.umd.min.js")
else()
  message(WARNING "${ES_HASH_WASM_SHA256} missing (npm ci not run?): model downloads cannot be checked")
endif()

# The Hugging Face hosts (web/assistant/hub.js imports it as a JSON module;
# the server compiles the same file in).
es_copy_to_app("${CMAKE_SOURCE_DIR}/web/assistant/hub_hosts.json" "assistant/hub_hosts.json")
# The default-variant rule (webgpu_check.js imports it; the server compiles it in).
es_copy_to_app("${CMAKE_SOURCE_DIR}/web/assistant/variant_rule.json" "assistant/variant_rule.json")

find_program(ES_SYSTEM_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
set(ES_TINY_DIR "${CMAKE_SOURCE_DIR}/tests/fixtures/tiny-gemma3/checkpoint")
set(ES_TINY_OUT "${ES_APP_DIR}/models/tiny-gemma3")
if(ES_SYSTEM_PYTHON AND EXISTS "${ES_TINY_DIR}/config.json")
  file(GLOB ES_MODEL_BUILDER_SOURCES CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/tools/model_builder/*.py")
  file(GLOB ES_TINY_CHECKPOINT CONFIGURE_DEPENDS "${ES_TINY_DIR}/*")
  add_custom_command(
    OUTPUT "${ES_TINY_OUT}/manifest.json"
    COMMAND "${ES_SYSTEM_PYTHON}" "${CMAKE_SOURCE_DIR}/tools/build_model.py" "${ES_TINY_DIR}" "${ES_TINY_OUT}"
            --force --quiet
            --test-model "Random weights (tests/fixtures/tiny-gemma3): it proves the pipeline runs; its answers, labels and boxes are meaningless."
    DEPENDS "${CMAKE_SOURCE_DIR}/tools/build_model.py" ${ES_MODEL_BUILDER_SOURCES} ${ES_TINY_CHECKPOINT}
    COMMENT "Building the tiny model package (app/models/tiny-gemma3)" VERBATIM)
  list(APPEND ES_APP_FILES "${ES_TINY_OUT}/manifest.json")
else()
  message(WARNING "/usr/bin/python3 or the tiny fixture missing: the app is built without its tiny model package")
endif()
