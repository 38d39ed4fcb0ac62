# Header-only libraries from Debian packages. The WebAssembly build must not see
# /usr/include as a whole (glibc headers), so it gets a folder of links to just
# these libraries.
set(ES_SYSTEM_INCLUDE "${CMAKE_BINARY_DIR}/system-include")
file(MAKE_DIRECTORY "${ES_SYSTEM_INCLUDE}")
foreach(dir stb nlohmann httplib.h)
  if(EXISTS "/usr/include/${dir}" AND NOT EXISTS "${ES_SYSTEM_INCLUDE}/${dir}")
    file(CREATE_LINK "/usr/include/${dir}" "${ES_SYSTEM_INCLUDE}/${dir}" SYMBOLIC)
  endif()
endforeach()
if(NOT EXISTS "/usr/include/stb/stb_image.h")
  message(FATAL_ERROR "stb headers missing: run scripts/setup.sh (Debian package libstb-dev)")
endif()
if(NOT EXISTS "/usr/include/nlohmann/json.hpp")
  message(FATAL_ERROR "nlohmann/json missing: run scripts/setup.sh (Debian package nlohmann-json3-dev)")
endif()
