// main.cpp: endoscribe-server - serves the built app; see command_line.cpp's usage text.
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/endoscribe_routes.h"
#include "api/report_draft_route.h"
#include "app_server.h"
#include "command_line.h"
#include "config.h"

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

    // Block SIGINT/SIGTERM in every thread; one thread waits for them and stops
    // the server, so shutdown is clean and never runs inside a signal handler.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    // The EndoScribe extensions (server/API.md): segmentation with --sam, report
    // drafting with the report vocabulary of this checkout.
    auto extensions = std::make_shared<EndoscribeExtensions>();
    {
        std::string why;
        std::shared_ptr<const es::ReportVocabulary> vocab =
            load_report_vocabulary_folder(std::string(ES_REPO_ROOT) + "/models/report", &why);
        if (!vocab) std::fprintf(stderr, "endoscribe-server: report drafting is off: %s\n", why.c_str());
        extensions->report_vocabulary = vocab;
    }
    if (!cl.args.sam.empty()) {
        OnnxRuntimeOptions ort_options;
        ort_options.libraries = default_onnx_runtime_libraries(ES_REPO_ROOT);
        OnnxRuntime runtime = load_onnx_runtime(ort_options);
        std::fprintf(stderr, "endoscribe-server: %s\n", runtime.summary().c_str());
        if (!runtime.ok) return 2;
        std::string why;
        std::unique_ptr<SamEngine> sam = SamEngine::load(runtime, cl.args.sam, 16, &why);
        if (!sam) {
            std::fprintf(stderr, "endoscribe-server: --sam: %s\n", why.c_str());
            return 2;
        }
        std::fprintf(stderr, "endoscribe-server: segmentation model \"%s\" from %s\n", sam->id().c_str(),
                     cl.args.sam.c_str());
        extensions->sam = std::move(sam);
    }

    ServerOptions options;
    options.add_routes = [extensions](httplib::Server& http) { add_endoscribe_routes(http, extensions); };
    options.root = std::filesystem::canonical(cl.args.root, ec);
    options.config = config.config;
    options.log_requests = cl.args.verbose;
    AppServer server(options);
    std::string error = server.bind(cl.args.host, cl.args.port);
    if (!error.empty()) {
        std::fprintf(stderr, "endoscribe-server: %s\n", error.c_str());
        return 1;
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
    return ok ? 0 : 1;
}
