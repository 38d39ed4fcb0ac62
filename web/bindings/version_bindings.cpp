// version_bindings.cpp: lets JS ask which core it is talking to.
#include <emscripten/emscripten.h>
#include "version.h"

extern "C" EMSCRIPTEN_KEEPALIVE const char* es_core_version() { return es::version(); }
