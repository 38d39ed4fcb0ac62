# make_service_worker.cmake: cmake -P script that writes <app>/sw.js from
# web/sw.js, filling in the list of every file in the app folder (so the first
# visit precaches all of it, demo case included) and a cache name derived from
# their contents (a new build gets a new cache; the old one is dropped).
#   cmake -DAPP_DIR=<app> -DTEMPLATE=web/sw.js -P make_service_worker.cmake
file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE "${APP_DIR}" "${APP_DIR}/*")
list(REMOVE_ITEM files sw.js)
# Model packages are not part of the app shell: the model manager downloads and
# caches them (OPFS) on demand; precaching would fetch megabytes to gigabytes.
list(FILTER files EXCLUDE REGEX "^models/")
list(SORT files)
set(list_js "'./'")
set(hashes "")
foreach(f ${files})
  string(APPEND list_js ", '${f}'")
  file(SHA256 "${APP_DIR}/${f}" h)
  string(APPEND hashes "${f}:${h}\n")
endforeach()
file(READ "${TEMPLATE}" template)
string(SHA256 version "${hashes}${template}")
string(SUBSTRING "${version}" 0 16 version)
string(REGEX REPLACE "const SHELL = \\[[^]]*\\];" "const SHELL = [${list_js}];" out "${template}")
string(REGEX REPLACE "const CACHE = '[^']*';" "const CACHE = 'endoscribe-${version}';" out "${out}")
if(out STREQUAL template)
  message(FATAL_ERROR "${TEMPLATE}: no 'const SHELL = [...];' / 'const CACHE = ...;' lines to fill in")
endif()
if(EXISTS "${APP_DIR}/sw.js")
  file(READ "${APP_DIR}/sw.js" old)
  if(old STREQUAL out)
    return()
  endif()
endif()
file(WRITE "${APP_DIR}/sw.js" "${out}")
