// extensions_setup.h: what the EndoScribe extension routes need, from the
// command line: the SAM package (--sam DIR) and the report vocabulary of this
// checkout (models/report).
#pragma once
#include <memory>
#include <string>

#include "api/endoscribe_routes.h"
#include "command_line.h"
#include "onnx/onnx_runtime.h"

namespace es::server {

// "" on success, else why the server cannot start (a --sam package that does
// not load). runtime: ONNX Runtime when already loaded (else it is loaded here
// when --sam needs it). Logs what was loaded to stderr.
std::string setup_extensions(const CommandLine& args, const OnnxRuntime* runtime,
                             std::shared_ptr<const EndoscribeExtensions>* out);

}  // namespace es::server
