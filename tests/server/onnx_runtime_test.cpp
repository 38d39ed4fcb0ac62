// The server opens ONNX Runtime at run time: the CPU build from npm's
// onnxruntime-node is found and works; unusable candidates are explained.
#include <gtest/gtest.h>

#include <fstream>

#include "onnx/onnx_runtime.h"

using namespace es::server;

TEST(OnnxRuntime, LoadsTheNpmCpuBuildAndExplainsWhyNotCuda) {
    OnnxRuntimeOptions opt;
    std::filesystem::path missing = std::filesystem::temp_directory_path() / "es-no-such-libonnxruntime.so";
    std::filesystem::path not_a_library = std::filesystem::temp_directory_path() / "es-not-a-library.so";
    { std::ofstream(not_a_library) << "not an ELF file"; }
    opt.libraries = {missing, not_a_library};
    for (const auto& p : default_onnx_runtime_libraries(ES_REPO_ROOT)) opt.libraries.push_back(p);
    OnnxRuntime rt = load_onnx_runtime(opt);
    ASSERT_TRUE(rt.ok) << rt.error;
    EXPECT_NE(rt.library, missing);
    EXPECT_NE(rt.library, not_a_library);
    EXPECT_FALSE(rt.version.empty());
    bool cpu_listed = false;
    for (const auto& p : rt.available_providers) cpu_listed |= p == "CPUExecutionProvider";
    EXPECT_TRUE(cpu_listed);
    if (rt.provider == ExecutionProvider::Cpu) {
        EXPECT_FALSE(rt.cuda_note.empty());
        EXPECT_NE(rt.summary().find("CUDA not taken"), std::string::npos) << rt.summary();
    }
    // A session can be built with the chosen options.
    Ort::SessionOptions so = make_session_options(rt);
    (void)so;
    std::filesystem::remove(not_a_library);
}

TEST(OnnxRuntime, NoUsableLibraryIsAPlainError) {
    OnnxRuntimeOptions opt;
    opt.libraries = {"/nonexistent/libonnxruntime.so"};
    OnnxRuntime rt = load_onnx_runtime(opt);
    EXPECT_FALSE(rt.ok);
    EXPECT_NE(rt.error.find("scripts/setup.sh"), std::string::npos);
    EXPECT_NE(rt.error.find("/nonexistent/libonnxruntime.so: not found"), std::string::npos);
}
