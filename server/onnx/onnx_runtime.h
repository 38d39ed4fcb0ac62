// onnx_runtime.h: ONNX Runtime, loaded at run time. The server compiles
// against the C/C++ API headers only and opens libonnxruntime when it starts,
// so one binary uses the CPU build inside npm's onnxruntime-node or a CUDA
// build when one is installed, and says which it took and why.
#pragma once
#define ORT_API_MANUAL_INIT
#include <onnxruntime_cxx_api.h>
#undef ORT_API_MANUAL_INIT

#include <filesystem>
#include <string>
#include <vector>

namespace es::server {

enum class ExecutionProvider { Cpu, Cuda };
const char* execution_provider_name(ExecutionProvider p);  // "cpu" / "cuda"

struct OnnxRuntimeOptions {
    // Libraries to try, in order; the first that opens and offers the C API wins.
    std::vector<std::filesystem::path> libraries;
    bool prefer_cuda = true;   // take CUDA when the library has it and a device works
    int cuda_device = 0;
};

struct OnnxRuntime {
    bool ok = false;
    std::string error;                // plain words when !ok
    std::filesystem::path library;    // the library that was opened
    std::string version;              // e.g. "1.30.0"
    ExecutionProvider provider = ExecutionProvider::Cpu;
    int cuda_device = 0;
    std::string cuda_note;            // why CUDA was not taken (empty when it was)
    std::vector<std::string> available_providers;

    // One line for the start-up log, e.g.
    // "ONNX Runtime 1.30.0 (…/libonnxruntime.so.1): CPU execution provider (CUDA not taken: …)".
    std::string summary() const;
};

// Opens the first usable library, initialises the C++ API (Ort::InitApi) and
// decides the execution provider. Call once, before any other Ort:: use.
OnnxRuntime load_onnx_runtime(const OnnxRuntimeOptions& options);

// The libraries tried by default: $ES_ONNXRUNTIME_LIBRARY, then a CUDA build
// installed by `scripts/setup.sh --with-cuda` under <repo>/.cache, then the CPU
// build inside <repo>/node_modules/onnxruntime-node.
std::vector<std::filesystem::path> default_onnx_runtime_libraries(const std::filesystem::path& repo_root);

// Session options with the chosen execution provider appended (CUDA) and
// graph optimisations on; threads left to ONNX Runtime's defaults.
Ort::SessionOptions make_session_options(const OnnxRuntime& runtime);

}  // namespace es::server
