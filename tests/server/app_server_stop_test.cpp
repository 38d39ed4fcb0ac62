// AppServer::stop() ends run() whenever it comes: before run(), while run()
// is starting (httplib ignores a stop until its loop is running), or while
// serving. A lost stop would leave run() serving forever.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "app_server.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

es::server::ServerOptions options() {
    static const fs::path root = [] {
        fs::path p = fs::temp_directory_path() / ("es-server-stop-" + std::to_string(::getpid()));
        fs::create_directories(p);
        std::ofstream(p / "index.html") << "hi";
        return p;
    }();
    es::server::ServerOptions o;
    o.root = root;
    return o;
}

// Waits for run() to return; a run() that outlives the bound cannot be joined,
// so the process ends here with the reason instead of hanging.
void expect_returns(std::future<bool>& done, const std::string& when) {
    if (done.wait_for(2s) != std::future_status::ready) {
        std::fprintf(stderr, "run() still serving 2 s after stop() %s\n", when.c_str());
        std::_Exit(1);
    }
    EXPECT_TRUE(done.get()) << when;
}

TEST(AppServerStop, StopBeforeRunMakesRunReturnAtOnce) {
    es::server::AppServer server(options());
    ASSERT_EQ(server.bind("127.0.0.1", 0), "");
    server.stop();
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(server.run());
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
}

TEST(AppServerStop, StopAtAnyMomentAroundStartEndsRun) {
    for (int i = 0; i < 60; ++i) {
        es::server::AppServer server(options());
        ASSERT_EQ(server.bind("127.0.0.1", 0), "");
        std::future<bool> done = std::async(std::launch::async, [&server] { return server.run(); });
        auto delay = std::chrono::microseconds((i % 20) * 25 * (i / 20 + 1));  // 0 .. 1.4 ms
        std::this_thread::sleep_for(delay);
        server.stop();
        expect_returns(done, std::to_string(delay.count()) + " us after run() was started");
    }
}

TEST(AppServerStop, StopWhileServingAndTwiceIsFine) {
    es::server::AppServer server(options());
    ASSERT_EQ(server.bind("127.0.0.1", 0), "");
    std::future<bool> done = std::async(std::launch::async, [&server] { return server.run(); });
    std::this_thread::sleep_for(100ms);
    server.stop();
    server.stop();
    expect_returns(done, "while serving");
}

}  // namespace
