# report_assets.cmake (included from ui/CMakeLists.txt): the report's
# vocabularies and guideline rule tables (models/report/*.json) -> app/report/,
# with app/report/index.json listing them in load order (the core's lists,
# classifications, terms and label map first, then any other file: a unit's
# local terms, the surveillance rule tables), so a unit adds a file without code.
file(GLOB ES_REPORT_FILES CONFIGURE_DEPENDS RELATIVE "${CMAKE_SOURCE_DIR}/models/report"
  "${CMAKE_SOURCE_DIR}/models/report/*.json")
set(ES_REPORT_ORDER report_lists.json classifications.json mst3_terms.json label_map.json)
set(ES_REPORT_SORTED "")
foreach(f ${ES_REPORT_ORDER})
  if(f IN_LIST ES_REPORT_FILES)
    list(APPEND ES_REPORT_SORTED "${f}")
  endif()
endforeach()
foreach(f ${ES_REPORT_FILES})
  if(NOT f IN_LIST ES_REPORT_ORDER)
    list(APPEND ES_REPORT_SORTED "${f}")
  endif()
endforeach()
set(ES_REPORT_INDEX "")
foreach(f ${ES_REPORT_SORTED})
  list(APPEND ES_REPORT_INDEX "\"${f}\"")
  es_copy_to_app("${CMAKE_SOURCE_DIR}/models/report/${f}" "report/${f}")
endforeach()
list(JOIN ES_REPORT_INDEX ", " ES_REPORT_INDEX)
file(GENERATE OUTPUT "${ES_APP_DIR}/report/index.json" CONTENT "{\"files\": [${ES_REPORT_INDEX}]}\n")

