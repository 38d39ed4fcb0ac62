// onnx_runtime.cpp: see onnx_runtime.h.
#include "onnx/onnx_runtime.h"

#include <dlfcn.h>

#include <cstdlib>

namespace es::server {

const char* execution_provider_name(ExecutionProvider p) { return p == ExecutionProvider::Cuda ? "cuda" : "cpu"; }

std::string OnnxRuntime::summary() const {
    if (!ok) return "ONNX Runtime not loaded: " + error;
    std::string s = "ONNX Runtime " + version + " (" + library.string() + "): ";
    if (provider == ExecutionProvider::Cuda)
        s += "CUDA execution provider on device " + std::to_string(cuda_device);
    else
        s += "CPU execution provider" + (cuda_note.empty() ? std::string() : " (CUDA not taken: " + cuda_note + ")");
    return s;
}

std::vector<std::filesystem::path> default_onnx_runtime_libraries(const std::filesystem::path& repo_root) {
    std::vector<std::filesystem::path> out;
    if (const char* env = std::getenv("ES_ONNXRUNTIME_LIBRARY"); env && *env) out.emplace_back(env);
    out.push_back(repo_root / ".cache/onnxruntime-cuda/lib/libonnxruntime.so");
    out.push_back(repo_root / "node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1");
    return out;
}

namespace {

std::string status_message(OrtStatus* status) {
    std::string msg = Ort::GetApi().GetErrorMessage(status);
    Ort::GetApi().ReleaseStatus(status);
    return msg;
}

// Plain words for why appending the CUDA provider failed; ONNX Runtime's own
// message follows as the details. ONNX Runtime often says only "Failed to
// load shared library": opening the provider library here names the missing
// dependency (libcuda.so.1 = no driver, libcudart/libcublas/libcudnn = no
// CUDA runtime).
std::string explain_cuda_failure(const std::filesystem::path& library, const std::string& message) {
    std::string details = message;
    const std::filesystem::path dir = library.parent_path();
    std::error_code ec;
    if (!std::filesystem::exists(dir / "libonnxruntime_providers_cuda.so", ec)) {
        details = (dir / "libonnxruntime_providers_cuda.so").string() + " not found; " + message;
    } else {
        if (void* shared = dlopen((dir / "libonnxruntime_providers_shared.so").c_str(), RTLD_NOW | RTLD_GLOBAL)) (void)shared;
        if (void* cuda = dlopen((dir / "libonnxruntime_providers_cuda.so").c_str(), RTLD_NOW | RTLD_LOCAL)) {
            dlclose(cuda);
        } else if (const char* e = dlerror()) {
            details = e;
        }
    }
    auto has = [&](const char* s) { return details.find(s) != std::string::npos; };
    std::string why;
    if (has("libonnxruntime_providers_shared") || has("libonnxruntime_providers_cuda.so not found"))
        why = "ONNX Runtime's CUDA provider library is not installed beside this ONNX Runtime (scripts/setup.sh --with-cuda installs a CUDA build)";
    else if (has("libcuda.so") || has("driver") || has("no CUDA-capable device") || has("cudaErrorNoDevice"))
        why = "no usable NVIDIA GPU: the NVIDIA driver (libcuda.so.1) is missing or no CUDA device is visible";
    else if (has("libcudart") || has("libcublas") || has("libcudnn") || has("libcufft") || has("libcurand") || has("libnvrtc"))
        why = "the CUDA runtime libraries (CUDA 13 runtime, cuBLAS, cuDNN 9) are not installed or not on LD_LIBRARY_PATH";
    else
        why = "the CUDA provider could not start";
    return why + " (details: " + details.substr(0, details.find('\n')) + ")";
}

// Whether a CUDA provider can be appended: the library must list it, and
// appending must succeed (it loads libonnxruntime_providers_cuda.so, which
// needs the CUDA runtime, cuDNN and a driver).
std::string cuda_unavailable_reason(const OnnxRuntime& rt, int device) {
    bool listed = false;
    for (const std::string& p : rt.available_providers) listed |= p == "CUDAExecutionProvider";
    if (!listed) return "this ONNX Runtime library is a CPU-only build (install the CUDA build: scripts/setup.sh --with-cuda)";
    const OrtApi& api = Ort::GetApi();
    OrtCUDAProviderOptionsV2* cuda = nullptr;
    if (OrtStatus* st = api.CreateCUDAProviderOptions(&cuda)) return explain_cuda_failure(rt.library, status_message(st));
    std::string dev = std::to_string(device);
    const char* keys[] = {"device_id"};
    const char* values[] = {dev.c_str()};
    std::string why;
    if (OrtStatus* st = api.UpdateCUDAProviderOptions(cuda, keys, values, 1)) why = status_message(st);
    if (why.empty()) {
        Ort::SessionOptions probe;
        if (OrtStatus* st = api.SessionOptionsAppendExecutionProvider_CUDA_V2(probe, cuda)) why = status_message(st);
    }
    api.ReleaseCUDAProviderOptions(cuda);
    return why.empty() ? why : explain_cuda_failure(rt.library, why);
}

// A library installed only for CUDA (scripts/setup.sh --with-cuda puts it in
// .cache/onnxruntime-cuda/lib): when CUDA cannot run with it, a later
// candidate (the newer CPU build of onnxruntime-node) is used instead.
bool cuda_only_library(const std::filesystem::path& p) {
    return p.string().find("/onnxruntime-cuda/") != std::string::npos;
}

// Decides the provider with the library whose API is initialised.
void choose_provider(OnnxRuntime& rt, const OnnxRuntimeOptions& options) {
    // A probing environment, so provider errors have a logger; FATAL only:
    // the reason is reported in the summary, not as ONNX Runtime log lines.
    OrtEnv* env = nullptr;
    if (OrtStatus* st = Ort::GetApi().CreateEnv(ORT_LOGGING_LEVEL_FATAL, "endoscribe-probe", &env))
        Ort::GetApi().ReleaseStatus(st);
    try {
        rt.available_providers = Ort::GetAvailableProviders();
    } catch (const Ort::Exception& e) {
        rt.cuda_note = e.what();
    }
    rt.cuda_device = options.cuda_device;
    if (!options.prefer_cuda) {
        rt.cuda_note = "not requested (--cpu)";
    } else {
        std::string why = cuda_unavailable_reason(rt, options.cuda_device);
        if (why.empty()) rt.provider = ExecutionProvider::Cuda;
        else rt.cuda_note = why;
    }
    if (env) Ort::GetApi().ReleaseEnv(env);
}

}  // namespace

OnnxRuntime load_onnx_runtime(const OnnxRuntimeOptions& options) {
    OnnxRuntime rt;
    std::string tried;
    // A CUDA-only library whose CUDA did not start, kept in case no later library opens.
    OnnxRuntime set_aside;
    const OrtApi* set_aside_api = nullptr;
    for (size_t i = 0; i < options.libraries.size(); ++i) {
        const auto& path = options.libraries[i];
        std::error_code ec;
        if (!std::filesystem::exists(path, ec)) {
            tried += "\n  " + path.string() + ": not found";
            continue;
        }
        if (cuda_only_library(path) && !options.prefer_cuda) {
            tried += "\n  " + path.string() + ": skipped (--cpu)";
            continue;
        }
        // RTLD_LOCAL: the CUDA provider library finds its host through
        // libonnxruntime_providers_shared, not through global symbols.
        void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            tried += "\n  " + path.string() + ": " + dlerror();
            continue;
        }
        using GetApiBase = const OrtApiBase* (*)();
        auto get_base = reinterpret_cast<GetApiBase>(dlsym(handle, "OrtGetApiBase"));
        const OrtApiBase* base = get_base ? get_base() : nullptr;
        const OrtApi* api = base ? base->GetApi(ORT_API_VERSION) : nullptr;
        if (!api) {
            tried += "\n  " + path.string() + ": does not offer ONNX Runtime's C API version " +
                     std::to_string(ORT_API_VERSION) + " or later";
            dlclose(handle);
            continue;
        }
        Ort::InitApi(api);
        OnnxRuntime candidate;
        candidate.ok = true;
        candidate.library = path;
        candidate.version = base->GetVersionString();
        choose_provider(candidate, options);
        // The handle stays open for the life of the process.
        if (candidate.provider != ExecutionProvider::Cuda && cuda_only_library(path) && i + 1 < options.libraries.size()) {
            if (!set_aside_api) {
                set_aside = candidate;
                set_aside_api = api;
            }
            continue;
        }
        rt = candidate;
        if (set_aside_api && rt.provider != ExecutionProvider::Cuda)
            rt.cuda_note = "the CUDA build " + set_aside.library.string() + " (ONNX Runtime " + set_aside.version +
                           "): " + set_aside.cuda_note;
        break;
    }
    if (!rt.ok && set_aside_api) {
        Ort::InitApi(set_aside_api);
        rt = set_aside;
    }
    if (!rt.ok) rt.error = "no ONNX Runtime library could be opened (run scripts/setup.sh); tried:" + tried;
    return rt;
}

Ort::SessionOptions make_session_options(const OnnxRuntime& runtime) {
    Ort::SessionOptions so;
    so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    if (runtime.provider == ExecutionProvider::Cuda) {
        OrtCUDAProviderOptionsV2* cuda = nullptr;
        Ort::ThrowOnError(Ort::GetApi().CreateCUDAProviderOptions(&cuda));
        std::string dev = std::to_string(runtime.cuda_device);
        const char* keys[] = {"device_id"};
        const char* values[] = {dev.c_str()};
        OrtStatus* st = Ort::GetApi().UpdateCUDAProviderOptions(cuda, keys, values, 1);
        if (!st) st = Ort::GetApi().SessionOptionsAppendExecutionProvider_CUDA_V2(so, cuda);
        Ort::GetApi().ReleaseCUDAProviderOptions(cuda);
        Ort::ThrowOnError(st);
    }
    return so;
}

}  // namespace es::server
