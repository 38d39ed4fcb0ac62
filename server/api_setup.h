// api_setup.h: the inference API's options from the command line and config
// (limits, queue, CORS origins, image hosts, and the token when the server
// listens on a non-loopback address).
#pragma once
#include <string>

#include "api/inference_api.h"
#include "command_line.h"
#include "config.h"

namespace es::server {

// "" on success, else why the server cannot start (token file unusable).
// Prints the token file's path (never the token) to stderr when one is needed.
std::string configure_api(const CommandLine& args, const Config& config, ApiOptions* out);

}  // namespace es::server
