# embed_shaders.cmake: cmake -P script that writes a C++ header holding WGSL
# sources as string constants, so the shaders are compiled into the wasm.
#   cmake -DOUT=header.h -DSHADERS="name1=path1;name2=path2" -P embed_shaders.cmake
set(content "// Generated from shaders/*.wgsl by ui/embed_shaders.cmake. Do not edit.\n#pragma once\n")
foreach(pair ${SHADERS})
  string(REPLACE "=" ";" parts "${pair}")
  list(GET parts 0 name)
  list(GET parts 1 path)
  file(READ "${path}" source)
  string(FIND "${source}" ")wgsl\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${path} contains the raw-string delimiter )wgsl\"")
  endif()
  string(APPEND content "static const char ${name}[] = R\"wgsl(${source})wgsl\";\n")
endforeach()
# Rewrite only on change so dependants are not rebuilt needlessly.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL content)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${content}")
