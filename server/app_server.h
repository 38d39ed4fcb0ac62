// app_server.h: the HTTP server - static app files, GET /api/config, the
// security headers on every response, and the inference API (server/api:
// OpenAI-compatible routes, /health, /metrics, the model scheduler).
#pragma once
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "api/inference_api.h"
#include "config.h"

namespace httplib {
class Server;
}

namespace es::server {

struct ServerOptions {
    std::filesystem::path root;  // the built app folder
    Config config;
    bool log_requests = false;   // one line per request on stderr
    ApiOptions api;              // limits, access policy, queue (server/api/inference_api.h)
    int http_threads = 0;        // connection threads (0: enough for max_queue streams)
};

class AppServer {
public:
    explicit AppServer(ServerOptions options);
    ~AppServer();
    AppServer(const AppServer&) = delete;
    AppServer& operator=(const AppServer&) = delete;

    // Binds host:port (port 0: any free port). "" on success, else why not.
    std::string bind(const std::string& host, int port);
    int port() const { return port_; }

    // Serves until stop(); call after a successful bind(). Returns at once
    // (true) when stop() came first.
    bool run();
    // Stops run() from any thread, at any moment: before run(), while it is
    // starting, or while it serves. Safe to call more than once.
    void stop();

    const std::string& content_security_policy() const { return csp_; }
    // The inference API: main() installs the model with api().set_engine().
    InferenceApi& api() { return *api_; }

private:
    ServerOptions options_;
    std::string csp_;
    std::unique_ptr<InferenceApi> api_;
    std::unique_ptr<httplib::Server> http_;
    std::shared_ptr<int> listen_socket_;  // the listening socket, seen in set_socket_options
    int port_ = -1;
    // httplib's stop() does nothing until its listen loop has marked itself
    // running, so a stop that lands just before that is remembered here and
    // re-sent by run()'s guard thread once the loop is running.
    std::mutex stop_mutex_;
    std::condition_variable stop_changed_;
    bool stop_requested_ = false;
    bool run_finished_ = false;
};

// "http://HOST:PORT/", with IPv6 hosts in brackets.
std::string server_url(const std::string& host, int port);

}  // namespace es::server
