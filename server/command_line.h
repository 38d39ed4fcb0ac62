// command_line.h: endoscribe-server's arguments.
#pragma once
#include <string>
#include <vector>

namespace es::server {

struct CommandLine {
    std::string root;
    std::string config;
    std::string host = "127.0.0.1";
    int port = 8080;
    std::string sam;             // SAM package folder (segmentation); "" = none
    bool verbose = false;
    bool help = false;
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
