// command_line.h: endoscribe-server's arguments.
#pragma once
#include <string>
#include <vector>

namespace es::server {

// One --model and the --model-name / --variant that follow it.
struct ModelArgument {
    std::string dir;
    std::string name;     // empty: the folder's name
    std::string variant;  // empty: the package's default for the provider
};

struct CommandLine {
    std::string root;
    std::string config;
    std::string host = "127.0.0.1";
    int port = 8080;
    std::string sam;             // SAM package folder (segmentation); "" = none
    bool verbose = false;
    std::vector<ModelArgument> models;  // --model DIR (repeatable)
    bool cpu_only = false;              // --cpu: never take CUDA
    bool help = false;
    // Inference API (server/api): queue, batch, limits, token file.
    int max_queue = 256;
    int max_batch = 0;           // 0: the engine's
    int max_body_mib = 32;
    int max_image_mib = 20;
    std::string token_file;      // "" = default_token_path()
};

struct CommandLineResult {
    bool ok = false;
    CommandLine args;
    std::string error;  // says which argument is wrong
};

// Parses argv[1..] ("--name value" or "--name=value").
CommandLineResult parse_command_line(const std::vector<std::string>& args);

std::string usage_text();

}  // namespace es::server
