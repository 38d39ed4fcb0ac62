// test_files.h: small helpers shared by the assistant's core tests.
#pragma once
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace es_test {

inline std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}
inline std::string read_text(const std::string& path) {
    auto b = read_bytes(path);
    return std::string(b.begin(), b.end());
}
inline std::string tiny_dir() { return std::string(ES_FIXTURES_DIR) + "/tiny-gemma3"; }
inline nlohmann::json golden() { return nlohmann::json::parse(read_text(tiny_dir() + "/golden/golden.json")); }

}  // namespace es_test
