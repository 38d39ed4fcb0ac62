# Target es_imgui: Dear ImGui core from Debian's source package (WebAssembly build).
set(IMGUI_DIR "${ES_THIRD_PARTY_SRC}/imgui")
if(NOT EXISTS "${IMGUI_DIR}/imgui.cpp")
  message(FATAL_ERROR "Dear ImGui source missing at ${IMGUI_DIR}: run scripts/setup.sh")
endif()
add_library(es_imgui STATIC
  ${IMGUI_DIR}/imgui.cpp ${IMGUI_DIR}/imgui_draw.cpp
  ${IMGUI_DIR}/imgui_tables.cpp ${IMGUI_DIR}/imgui_widgets.cpp)
target_include_directories(es_imgui SYSTEM PUBLIC ${IMGUI_DIR})
