// webgpu_fixups.h: values the C side must send because emscripten 3.1.6's
// webgpu.h and its library_webgpu.js disagree. (Breakages on the JS side are
// fixed in web/webgpu_compat.js; these cannot be, since the information is
// lost before any JS object is built.)
#pragma once
#include <webgpu/webgpu.h>

namespace esui {

// The header says Clear = 1, Load = 2; the library (gpu.LoadOp) reads
// 0 as "clear" and anything else as "load". So "clear" must be sent as 0.
constexpr WGPULoadOp kLoadOpClear = WGPULoadOp(0);

}  // namespace esui
