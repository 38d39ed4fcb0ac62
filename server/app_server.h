// app_server.h: the HTTP server - static app files, GET /api/config, and the
// security headers on every response. Later the OpenAI-compatible inference
// API is added here as more routes (one file per concept, like static_files).
#pragma once
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "config.h"

namespace httplib {
class Server;
}

namespace es::server {

struct ServerOptions {
    std::filesystem::path root;  // the built app folder
    Config config;
    bool log_requests = false;   // one line per request on stderr
    // More routes (the inference API), put on the server before the static files'.
    std::function<void(httplib::Server&)> add_routes;
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

private:
    ServerOptions options_;
    std::string csp_;
    std::unique_ptr<httplib::Server> http_;
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
