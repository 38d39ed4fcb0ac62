// Tests for the endoscribe-server program itself: exit codes and messages for
// bad configuration, --help, and the "listening on" line the e2e harness waits
// for, followed by a clean exit on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

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

}  // namespace
