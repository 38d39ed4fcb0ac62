// Tests for the endoscribe-server program itself: exit codes and messages for
// bad configuration, --help, and the "listening on" line the e2e harness waits
// for, followed by a clean exit on SIGTERM at any moment of start-up; a model
// that cannot be loaded leaves the server serving and /health saying why.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace {

// <build>/tests/server_process_test -> <build>/server/endoscribe-server
fs::path server_binary() {
    return fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "server" / "endoscribe-server";
}

struct ProcessResult {
    int exit_code = -1;
    std::string out, err;
};

// Runs the server with args; if stop_after_first_line, sends SIGTERM once a line is on stdout.
ProcessResult run_server(const std::vector<std::string>& args, bool stop_after_first_line = false) {
    int out_pipe[2], err_pipe[2];
    EXPECT_EQ(pipe(out_pipe), 0);
    EXPECT_EQ(pipe(err_pipe), 0);
    std::string bin = server_binary().string();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out_pipe[1], 1);
        dup2(err_pipe[1], 2);
        close(out_pipe[0]);
        close(err_pipe[0]);
        std::vector<char*> argv{const_cast<char*>(bin.c_str())};
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(bin.c_str(), argv.data());
        _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    ProcessResult r;
    char buf[4096];
    ssize_t n;
    while ((n = read(out_pipe[0], buf, sizeof buf)) > 0) {
        r.out.append(buf, size_t(n));
        if (stop_after_first_line && r.out.find('\n') != std::string::npos) kill(pid, SIGTERM);
    }
    while ((n = read(err_pipe[0], buf, sizeof buf)) > 0) r.err.append(buf, size_t(n));
    close(out_pipe[0]);
    close(err_pipe[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

struct Spawned {
    pid_t pid = -1;
    int out = -1;  // the server's stdout; stderr goes to /dev/null
};

Spawned spawn_server(const std::vector<std::string>& args) {
    int out_pipe[2];
    EXPECT_EQ(pipe(out_pipe), 0);
    std::string bin = server_binary().string();
    std::vector<char*> argv{const_cast<char*>(bin.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out_pipe[1], 1);
        close(out_pipe[0]);
        execv(bin.c_str(), argv.data());
        _exit(127);
    }
    close(out_pipe[1]);
    return {pid, out_pipe[0]};
}

// Reads fd until a newline or timeout_ms; returns what was read.
std::string read_line(int fd, int timeout_ms) {
    std::string s;
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (s.find('\n') == std::string::npos) {
        int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count());
        if (left <= 0) break;
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, left) <= 0) break;
        char buf[256];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) break;
        s.append(buf, size_t(n));
    }
    return s;
}

// Waits up to timeout_ms for pid to exit. Returns its wait status, or -1 if it
// was still running (it is then killed, so no test leaves a server behind).
int wait_exit(pid_t pid, int timeout_ms) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    int status = 0;
    while (std::chrono::steady_clock::now() < end) {
        if (waitpid(pid, &status, WNOHANG) == pid) return status;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

class ServerProcess : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fs::exists(server_binary())) GTEST_SKIP() << "no server binary at " << server_binary();
        dir_ = fs::temp_directory_path() / ("es-server-proc-" + std::to_string(getpid()));
        fs::create_directories(dir_ / "app");
        std::ofstream(dir_ / "app" / "index.html") << "hi";
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string config(const std::string& text) {
        fs::path p = dir_ / "config.json";
        std::ofstream(p) << text;
        return p.string();
    }
    fs::path dir_;
};

TEST_F(ServerProcess, HelpExitsZero) {
    ProcessResult r = run_server({"--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("--root"), std::string::npos);
    EXPECT_NE(r.out.find("--config"), std::string::npos);
}

TEST_F(ServerProcess, MalformedConfigExitsTwoWithMessage) {
    ProcessResult r = run_server({"--root", (dir_ / "app").string(), "--config", config("{\"model_hosts\": [")});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("config.json"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
}

TEST_F(ServerProcess, NonHttpsHostExitsTwoNamingIt) {
    ProcessResult r = run_server({"--root", (dir_ / "app").string(), "--config",
                        config(R"({"model_hosts": ["http://insecure.example"]})"), "--port", "0"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("http://insecure.example"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("https"), std::string::npos) << r.err;
}

TEST_F(ServerProcess, BadArgumentsExitTwo) {
    EXPECT_EQ(run_server({"--root", (dir_ / "app").string()}).exit_code, 2);
    EXPECT_EQ(run_server({"--bogus"}).exit_code, 2);
    ProcessResult r = run_server({"--root", (dir_ / "missing").string(), "--config", config(R"({"model_hosts": []})")});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("not a directory"), std::string::npos) << r.err;
}

TEST_F(ServerProcess, PrintsListeningLineAndStopsOnSigterm) {
    ProcessResult r = run_server({"--root", (dir_ / "app").string(), "--config", config(R"({"model_hosts": []})"), "--port", "0"},
                       /*stop_after_first_line=*/true);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(r.out.rfind("listening on http://127.0.0.1:", 0), 0u) << r.out;
    EXPECT_EQ(r.out.back(), '\n');
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
    int port = std::stoi(r.out.substr(std::string("listening on http://127.0.0.1:").size()));
    EXPECT_GT(port, 0);
    EXPECT_EQ(r.out, "listening on http://127.0.0.1:" + std::to_string(port) + "/\n");
}

// A SIGTERM at any moment - before the signal mask is set, between bind and
// listen, right after the listening line, while serving - ends the process
// within a second. Delays are spread over start-up (counted from the spawn)
// and just after the listening line, where a stop used to be lost.
TEST_F(ServerProcess, StopsPromptlyOnSigtermAtAnyMoment) {
    std::vector<std::string> args{"--root", (dir_ / "app").string(), "--config", config(R"({"model_hosts": []})"),
                                  "--port", "0"};
    const int spawns = 40;
    for (int i = 0; i < spawns; ++i) {
        Spawned s = spawn_server(args);
        ASSERT_GT(s.pid, 0);
        std::string when;
        if (i % 2 == 0) {
            int us = (i / 2) * 400;  // 0 .. 7.6 ms after the spawn
            std::this_thread::sleep_for(std::chrono::microseconds(us));
            when = std::to_string(us) + " us after spawn";
        } else {
            std::string line = read_line(s.out, 5000);
            int us = (i / 2) * 20;  // 0 .. 380 us after the listening line
            std::this_thread::sleep_for(std::chrono::microseconds(us));
            when = std::to_string(us) + " us after \"" + line.substr(0, line.find('\n')) + "\"";
            EXPECT_EQ(line.rfind("listening on http://127.0.0.1:", 0), 0u) << when;
        }
        kill(s.pid, SIGTERM);
        int status = wait_exit(s.pid, 1000);
        close(s.out);
        ASSERT_NE(status, -1) << "server still running 1 s after SIGTERM sent " << when << " (spawn " << i << ")";
        // Before the handler is installed the default action ends it; after, a clean exit 0.
        bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        bool by_signal = WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM;
        EXPECT_TRUE(clean || by_signal) << "status " << status << " for SIGTERM " << when;
        if (i % 2 == 1) EXPECT_TRUE(clean) << "status " << status << " for SIGTERM " << when;
    }
}

// The model loads after the server listens; a package that cannot be loaded
// leaves the server up (the app, segmentation) with /health "failed" and the
// reason, instead of exiting before anyone could ask.
TEST_F(ServerProcess, AModelThatCannotLoadIsReportedByHealth) {
    if (!fs::exists(fs::path(ES_SOURCE_DIR) / "node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"))
        GTEST_SKIP() << "no ONNX Runtime library (npm ci)";
    const fs::path package = dir_ / "not-a-package";
    fs::create_directories(package);
    Spawned s = spawn_server({"--root", (dir_ / "app").string(), "--config", config(R"({"model_hosts": []})"), "--port",
                              "0", "--cpu", "--model", package.string()});
    ASSERT_GT(s.pid, 0);
    const std::string line = read_line(s.out, 20000);
    const std::string prefix = "listening on http://127.0.0.1:";
    ASSERT_EQ(line.rfind(prefix, 0), 0u) << "the server did not listen: \"" << line << "\"";
    httplib::Client c("127.0.0.1", std::stoi(line.substr(prefix.size())));
    nlohmann::json h;
    for (int i = 0; i < 400; ++i) {
        auto r = c.Get("/health");
        ASSERT_TRUE(r);
        h = nlohmann::json::parse(r->body);
        if (h["status"] != "loading") break;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    EXPECT_EQ(h["status"], "failed") << h.dump();
    EXPECT_NE(h.value("error", std::string()).find(package.string()), std::string::npos) << h.dump();
    auto app = c.Get("/");
    ASSERT_TRUE(app);
    EXPECT_EQ(app->status, 200);  // the app is still served
    kill(s.pid, SIGTERM);
    int status = wait_exit(s.pid, 5000);
    close(s.out);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

}  // namespace
