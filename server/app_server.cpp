// app_server.cpp: routes and per-response headers over cpp-httplib (see app_server.h).
#include "app_server.h"

#include <httplib.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "security_headers.h"
#include "static_files.h"

namespace es::server {

AppServer::AppServer(ServerOptions options)
    : options_(std::move(options)),
      csp_(es::server::content_security_policy(connect_sources(options_.config))),
      api_(std::make_unique<InferenceApi>(options_.api)),
      http_(std::make_unique<httplib::Server>()),
      listen_socket_(std::make_shared<int>(-1)) {
    auto& http = *http_;
    // One thread per connection: a streamed answer holds its thread until it
    // ends, so there are enough for every request the queue admits, plus some
    // for the app's files and idle keep-alive connections.
    int threads = options_.http_threads > 0 ? options_.http_threads : options_.api.scheduler.max_queue + 64;
    http.new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
    // httplib's default is SO_REUSEPORT, which lets a second server share a busy
    // port and silently take half the requests. SO_REUSEADDR alone still allows
    // a quick restart but refuses a port another server is listening on.
    auto listen_socket = listen_socket_;
    http.set_socket_options([listen_socket](int sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        *listen_socket = sock;
    });
    const auto headers = security_headers(csp_);
    const std::string config_json = config_to_json(options_.config, csp_);
    const std::filesystem::path root = options_.root;

    http.Get("/api/config", [config_json](const httplib::Request&, httplib::Response& res) {
        res.set_header("Cache-Control", "no-store");
        res.set_content(config_json, "application/json");
    });
    http.Get("/api/.*", [](const httplib::Request&, httplib::Response& res) { res.status = 404; });
    api_->install(http);
    http.Get(".*", [root](const httplib::Request& req, httplib::Response& res) { serve_static_file(root, req, res); });

    // Errors get a short plain-text body that says what happened.
    InferenceApi* api = api_.get();
    http.set_error_handler([api](const httplib::Request& req, httplib::Response& res) {
        if (api->fill_error(req, res)) return;  // /v1/*: OpenAI's JSON error shape
        if (!res.body.empty() || res.status == 416) return;
        std::string what = res.status == 404 ? "not found: " + req.path : "request failed";
        res.set_content(std::to_string(res.status) + " " + what + "\n", "text/plain; charset=utf-8");
    });
    // Never leak exception text into headers (httplib's default); log it instead.
    http.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown error";
        try {
            if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
        std::fprintf(stderr, "endoscribe-server: error serving %s: %s\n", req.path.c_str(), what.c_str());
        res.status = 500;
        res.set_content("500 internal server error\n", "text/plain; charset=utf-8");
    });
    // Every response - files, API, errors, 304, 416 - carries the security headers.
    http.set_post_routing_handler([headers](const httplib::Request&, httplib::Response& res) {
        for (const auto& [name, value] : headers) {
            res.headers.erase(name);
            res.headers.emplace(name, value);
        }
    });
    http.set_logger([api, log = options_.log_requests](const httplib::Request& req, const httplib::Response& res) {
        api->count_request(req, res);
        if (log) std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
    });
}

AppServer::~AppServer() {
    stop();
    api_.reset();  // the scheduler ends before the HTTP server goes
}

std::string AppServer::bind(const std::string& host, int port) {
    if (port < 0 || port > 65535) return "invalid port " + std::to_string(port);
    errno = 0;
    if (port == 0) {
        port_ = http_->bind_to_any_port(host);
        if (port_ < 0) port_ = -1;
    } else {
        port_ = http_->bind_to_port(host, port) ? port : -1;
    }
    if (port_ <= 0) {
        port_ = -1;
        std::string why = errno ? std::strerror(errno) : "cannot bind";
        return "cannot listen on " + host + ":" + std::to_string(port) + " (" + why + ")";
    }
    // httplib listens with a backlog of 5, which makes a burst of clients (64
    // streams at once) wait for SYN retries; listen() again raises it.
    if (*listen_socket_ >= 0) ::listen(*listen_socket_, SOMAXCONN);
    return "";
}

bool AppServer::run() {
    {
        std::lock_guard<std::mutex> lock(stop_mutex_);
        if (stop_requested_) return true;
        run_finished_ = false;
    }
    // The one place that calls httplib's stop(): once a stop is requested it
    // waits until the listen loop is running (httplib ignores a stop before
    // that), then stops it once.
    std::thread guard([this] {
        std::unique_lock<std::mutex> lock(stop_mutex_);
        stop_changed_.wait(lock, [this] { return stop_requested_ || run_finished_; });
        while (!run_finished_) {
            if (http_->is_running()) {
                http_->stop();
                return;
            }
            stop_changed_.wait_for(lock, std::chrono::milliseconds(2));
        }
    });
    bool ok = http_->listen_after_bind();
    {
        std::lock_guard<std::mutex> lock(stop_mutex_);
        run_finished_ = true;
    }
    stop_changed_.notify_all();
    guard.join();
    return ok;
}

void AppServer::stop() {
    {
        std::lock_guard<std::mutex> lock(stop_mutex_);
        stop_requested_ = true;
    }
    stop_changed_.notify_all();
}

std::string server_url(const std::string& host, int port) {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return "http://" + h + ":" + std::to_string(port) + "/";
}

}  // namespace es::server
