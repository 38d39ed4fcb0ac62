// main.cpp: endoscribe-server - serves the built app; see command_line.cpp's usage text.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app_server.h"
#include "command_line.h"
#include "config.h"
#include "api_setup.h"
#include "extensions_setup.h"
#include "inference/gemma3_engine.h"
#include "model_loading.h"
#include "onnx/onnx_runtime.h"

int main(int argc, char** argv) {
    using namespace es::server;
    CommandLineResult cl = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
    if (!cl.ok) {
        std::fprintf(stderr, "endoscribe-server: %s\n\n%s", cl.error.c_str(), usage_text().c_str());
        return 2;
    }
    if (cl.args.help) {
        std::fputs(usage_text().c_str(), stdout);
        return 0;
    }
    std::error_code ec;
    if (!std::filesystem::is_directory(cl.args.root, ec)) {
        std::fprintf(stderr, "endoscribe-server: --root %s is not a directory (build the app first)\n",
                     cl.args.root.c_str());
        return 2;
    }
    if (!std::filesystem::is_regular_file(std::filesystem::path(cl.args.root) / "index.html", ec))
        std::fprintf(stderr, "endoscribe-server: warning: %s has no index.html; / will be 404\n", cl.args.root.c_str());
    ConfigResult config = load_config_file(cl.args.config);
    if (!config.ok) {
        std::fprintf(stderr, "endoscribe-server: %s\n", config.error.c_str());
        return 2;
    }

    // Block SIGINT/SIGTERM in every thread - set before ONNX Runtime starts
    // any (its thread pools, the model-loading thread) so they all inherit it;
    // one thread waits for them and stops the server, so shutdown is clean and
    // never runs inside a signal handler.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    // Models (--model, --sam): ONNX Runtime is opened only when there is one to run.
    OnnxRuntime runtime;
    if (!cl.args.models.empty() || !cl.args.sam.empty()) {
        OnnxRuntimeOptions ort_options;
        ort_options.libraries = default_onnx_runtime_libraries(ES_REPO_ROOT);
        ort_options.prefer_cuda = !cl.args.cpu_only;
        runtime = load_onnx_runtime(ort_options);
        std::fprintf(stderr, "endoscribe-server: %s\n", runtime.summary().c_str());
        if (!runtime.ok) return 2;
    }

    ServerOptions options;
    options.root = std::filesystem::canonical(cl.args.root, ec);
    options.config = config.config;
    options.log_requests = cl.args.verbose;
    std::string api_error = configure_api(cl.args, config.config, &options.api);
    if (!api_error.empty()) {
        std::fprintf(stderr, "endoscribe-server: %s\n", api_error.c_str());
        return 2;
    }
    // The EndoScribe extensions (server/API.md): segmentation with --sam, report drafting.
    if (std::string why = setup_extensions(cl.args, &runtime, &options.api.endoscribe); !why.empty()) {
        std::fprintf(stderr, "endoscribe-server: %s\n", why.c_str());
        return 2;
    }
    AppServer server(options);
    std::string error = server.bind(cl.args.host, cl.args.port);
    if (!error.empty()) {
        std::fprintf(stderr, "endoscribe-server: %s\n", error.c_str());
        return 1;
    }
    // The chat model loads while the server already serves (/health: "loading",
    // then "ready" or "failed" with the reason; model_loading.h).
    std::unique_ptr<ModelLoading> loading;
    if (!cl.args.models.empty()) {
        std::vector<ModelSpec> specs;
        for (const auto& m : cl.args.models) specs.push_back({m.dir, m.name, m.variant});
        loading = std::make_unique<ModelLoading>(server.api(), [&runtime, specs](std::string* error) {
            std::unique_ptr<ChatEngine> engine;
            auto gemma = Gemma3Engine::load(runtime, specs, EngineOptions{}, error);
            if (gemma) {
                for (const auto& line : gemma->describe()) std::fprintf(stderr, "endoscribe-server: %s\n", line.c_str());
                engine = std::move(gemma);
            }
            return engine;
        });
    }
    std::thread waiter([&server, signals] {
        int sig = 0;
        sigwait(&signals, &sig);
        server.stop();
    });
    waiter.detach();

    std::printf("listening on %s\n", server_url(cl.args.host, server.port()).c_str());
    std::fflush(stdout);
    bool ok = server.run();
    if (loading && !loading->finished()) {
        // Stopped while the model still loads: a load cannot be interrupted, and
        // waiting for it would hold the stop for minutes. Nothing is left to save.
        std::fflush(nullptr);
        std::_Exit(ok ? 0 : 1);
    }
    return ok ? 0 : 1;
}
