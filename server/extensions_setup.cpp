// extensions_setup.cpp: see extensions_setup.h.
#include "extensions_setup.h"

#include <cstdio>

#include "api/report_draft_route.h"

namespace es::server {

std::string setup_extensions(const CommandLine& args, const OnnxRuntime* runtime,
                             std::shared_ptr<const EndoscribeExtensions>* out) {
    auto ext = std::make_shared<EndoscribeExtensions>();
    std::string why;
    ext->report_vocabulary = load_report_vocabulary_folder(std::string(ES_REPO_ROOT) + "/models/report", &why);
    if (!ext->report_vocabulary)
        std::fprintf(stderr, "endoscribe-server: report drafting is off (the report vocabulary did not load: %s)\n",
                     why.c_str());
    if (!args.sam.empty()) {
        OnnxRuntime loaded;
        if (!runtime || !runtime->ok) {
            OnnxRuntimeOptions options;
            options.libraries = default_onnx_runtime_libraries(ES_REPO_ROOT);
            loaded = load_onnx_runtime(options);
            std::fprintf(stderr, "endoscribe-server: %s\n", loaded.summary().c_str());
            if (!loaded.ok) return "--sam needs ONNX Runtime: " + loaded.error;
            runtime = &loaded;
        }
        std::unique_ptr<SamEngine> sam = SamEngine::load(*runtime, args.sam, 16, &why);
        if (!sam) return "--sam: " + why;
        std::fprintf(stderr, "endoscribe-server: segmentation model \"%s\" (%s) from %s\n", sam->id().c_str(),
                     sam->execution_provider().c_str(), args.sam.c_str());
        ext->sam = std::move(sam);
    }
    *out = std::move(ext);
    return "";
}

}  // namespace es::server
