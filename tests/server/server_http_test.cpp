// Tests for the HTTP server, started in-process on a free port: security
// headers on every response, MIME types, byte ranges, validators, 404s and
// path traversal.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "app_server.h"

namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& p, const std::string& bytes) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
}

class ServerTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        base_ = fs::temp_directory_path() / ("es-server-test-" + std::to_string(::getpid()));
        fs::remove_all(base_);
        root_ = base_ / "app";
        write_file(base_ / "secret.txt", "SECRET");
        write_file(root_ / "index.html", "<!doctype html><title>EndoScribe</title>");
        write_file(root_ / "sub" / "index.html", "sub index");
        write_file(root_ / ".hidden", "hidden");
        write_file(root_ / "empty.bin", "");
        for (const char* name : {"app.wasm", "app.js", "ort.mjs", "case.json", "model.onnx", "weights.bin",
                                 "demo.png", "demo.jpg", "style.css", "manifest.webmanifest", "icon.svg",
                                 "NOEXT", "data.xyz"})
            write_file(root_ / "files" / name, std::string("content of ") + name);
        std::mt19937 rng(7);
        big_.resize(3 * 1024 * 1024 + 17);
        for (char& c : big_) c = char(rng());
        write_file(root_ / "models" / "big.onnx", big_);

        es::server::ServerOptions options;
        options.root = root_;
        options.config.model_hosts = {"https://huggingface.co", "https://cdn-lfs.huggingface.co"};
        server_ = new es::server::AppServer(options);
        std::string err = server_->bind("127.0.0.1", 0);
        ASSERT_EQ(err, "");
        ASSERT_GT(server_->port(), 0);
        thread_ = new std::thread([] { server_->run(); });
    }
    static void TearDownTestSuite() {
        server_->stop();
        thread_->join();
        delete thread_;
        delete server_;
        fs::remove_all(base_);
    }

    static httplib::Client client() {
        httplib::Client c("127.0.0.1", server_->port());
        c.set_url_encode(false);  // send paths exactly as written
        c.set_connection_timeout(5);
        c.set_read_timeout(10);
        return c;
    }
    static httplib::Result get(const std::string& path, httplib::Headers h = {}) { return client().Get(path.c_str(), h); }

    static void expect_security_headers(const httplib::Result& r, const std::string& what) {
        ASSERT_TRUE(r) << what;
        EXPECT_EQ(r->get_header_value("Cross-Origin-Opener-Policy"), "same-origin") << what;
        EXPECT_EQ(r->get_header_value("Cross-Origin-Embedder-Policy"), "require-corp") << what;
        EXPECT_EQ(r->get_header_value("Cross-Origin-Resource-Policy"), "same-origin") << what;
        EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff") << what;
        EXPECT_EQ(r->get_header_value_count("Content-Security-Policy"), 1u) << what;
        std::string csp = r->get_header_value("Content-Security-Policy");
        EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << what;
        EXPECT_NE(csp.find("script-src 'self' 'wasm-unsafe-eval'"), std::string::npos) << what;
        EXPECT_NE(csp.find("connect-src 'self' https://huggingface.co https://cdn-lfs.huggingface.co;"),
                  std::string::npos)
            << what << ": " << csp;
    }

    static inline fs::path base_, root_;
    static inline std::string big_;
    static inline es::server::AppServer* server_ = nullptr;
    static inline std::thread* thread_ = nullptr;
};

TEST_F(ServerTest, RootServesIndexHtml) {
    auto r = get("/");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "<!doctype html><title>EndoScribe</title>");
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
    expect_security_headers(r, "/");
}

TEST_F(ServerTest, EveryKindOfResponseHasSecurityHeaders) {
    expect_security_headers(get("/files/app.wasm"), "file");
    expect_security_headers(get("/nope.js"), "404");
    expect_security_headers(get("/sub"), "301");
    expect_security_headers(get("/api/config"), "api");
    expect_security_headers(get("/models/big.onnx", {{"Range", "bytes=99999999-"}}), "416");
    auto first = get("/files/app.js");
    expect_security_headers(get("/files/app.js", {{"If-None-Match", first->get_header_value("ETag")}}), "304");
    expect_security_headers(client().Head("/files/app.js"), "HEAD");
    expect_security_headers(client().Post("/files/app.js", "x", "text/plain"), "POST");
}

TEST_F(ServerTest, MimeTypes) {
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"app.wasm", "application/wasm"},
        {"app.js", "text/javascript"},
        {"ort.mjs", "text/javascript"},
        {"case.json", "application/json"},
        {"model.onnx", "application/octet-stream"},
        {"weights.bin", "application/octet-stream"},
        {"demo.png", "image/png"},
        {"demo.jpg", "image/jpeg"},
        {"style.css", "text/css"},
        {"manifest.webmanifest", "application/manifest+json"},
        {"icon.svg", "image/svg+xml"},
        {"NOEXT", "application/octet-stream"},
        {"data.xyz", "application/octet-stream"},
    };
    for (const auto& [name, type] : expected) {
        auto r = get("/files/" + name);
        ASSERT_TRUE(r) << name;
        EXPECT_EQ(r->status, 200) << name;
        EXPECT_EQ(r->get_header_value("Content-Type"), type) << name;
        EXPECT_EQ(r->body, "content of " + name);
    }
}

TEST_F(ServerTest, LargeFileIsServedWhole) {
    auto r = get("/models/big.onnx");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Length"), std::to_string(big_.size()));
    EXPECT_EQ(r->get_header_value("Accept-Ranges"), "bytes");
    EXPECT_TRUE(r->body == big_);
}

TEST_F(ServerTest, SingleRangesGive206) {
    struct Case {
        std::string range;
        size_t first, length;
    };
    const size_t n = big_.size();
    for (const Case& c : std::vector<Case>{{"bytes=10-19", 10, 10},
                                           {"bytes=0-0", 0, 1},
                                           {"bytes=1048576-", 1048576, n - 1048576},
                                           {"bytes=-5", n - 5, 5},
                                           {"bytes=-99999999", 0, n},
                                           {"bytes=100-99999999", 100, n - 100}}) {
        auto r = get("/models/big.onnx", {{"Range", c.range}});
        ASSERT_TRUE(r) << c.range;
        EXPECT_EQ(r->status, 206) << c.range;
        EXPECT_EQ(r->get_header_value("Content-Range"), "bytes " + std::to_string(c.first) + "-" +
                                                            std::to_string(c.first + c.length - 1) + "/" +
                                                            std::to_string(n))
            << c.range;
        EXPECT_EQ(r->get_header_value("Content-Length"), std::to_string(c.length)) << c.range;
        EXPECT_TRUE(r->body == big_.substr(c.first, c.length)) << c.range;
    }
}

TEST_F(ServerTest, ResumedDownloadReassemblesTheFile) {
    auto head = get("/models/big.onnx", {{"Range", "bytes=0-999999"}});
    ASSERT_TRUE(head);
    auto tail = get("/models/big.onnx", {{"Range", "bytes=1000000-"}, {"If-Range", head->get_header_value("ETag")}});
    ASSERT_TRUE(tail);
    EXPECT_EQ(tail->status, 206);
    EXPECT_TRUE(head->body + tail->body == big_);
}

TEST_F(ServerTest, UnsatisfiableRangeGives416) {
    auto r = get("/models/big.onnx", {{"Range", "bytes=" + std::to_string(big_.size()) + "-"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 416);
    EXPECT_EQ(r->get_header_value("Content-Range"), "bytes */" + std::to_string(big_.size()));
    r = get("/empty.bin", {{"Range", "bytes=0-"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 416);
}

TEST_F(ServerTest, MultipleOrStaleRangesGiveTheWholeFile) {
    auto r = get("/models/big.onnx", {{"Range", "bytes=0-1,5-6"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body.size(), big_.size());
    r = get("/models/big.onnx", {{"Range", "bytes=0-9"}, {"If-Range", "\"stale-etag\""}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body.size(), big_.size());
}

TEST_F(ServerTest, EtagRevalidationGives304) {
    auto r = get("/files/app.js");
    ASSERT_TRUE(r);
    std::string etag = r->get_header_value("ETag");
    EXPECT_FALSE(etag.empty());
    EXPECT_FALSE(r->get_header_value("Last-Modified").empty());
    EXPECT_EQ(r->get_header_value("Cache-Control"), "no-cache");
    auto again = get("/files/app.js", {{"If-None-Match", etag}});
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 304);
    EXPECT_TRUE(again->body.empty());
    auto other = get("/files/app.wasm", {{"If-None-Match", etag}});
    EXPECT_EQ(other->status, 200);
}

TEST_F(ServerTest, HeadHasHeadersButNoBody) {
    auto r = client().Head("/files/app.wasm");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/wasm");
    EXPECT_EQ(r->get_header_value("Content-Length"), std::to_string(std::string("content of app.wasm").size()));
    EXPECT_TRUE(r->body.empty());
}

TEST_F(ServerTest, EmptyFileIsServed) {
    auto r = get("/empty.bin");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Length"), "0");
}

TEST_F(ServerTest, MissingFilesAre404) {
    for (const char* p : {"/nope.html", "/files/nope.wasm", "/files/app.js/", "/sub/nope/", "/api/nothing"}) {
        auto r = get(p);
        ASSERT_TRUE(r) << p;
        EXPECT_EQ(r->status, 404) << p;
    }
}

TEST_F(ServerTest, DirectoriesRedirectToSlashAndServeIndex) {
    auto r = get("/sub");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 301);
    EXPECT_EQ(r->get_header_value("Location"), "/sub/");
    r = get("/sub/");
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "sub index");
    EXPECT_EQ(get("/files/")->status, 404);  // no listings
}

TEST_F(ServerTest, NoPathTraversal) {
    int answered = 0;
    for (const char* p : {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/sub/../../secret.txt",
                          "/files/..%2f..%2fsecret.txt", "/..%5csecret.txt", "/..\\secret.txt", "/.hidden",
                          "/%2ehidden", "/sub/%2e%2e/%2e%2e/secret.txt", "//etc/passwd", "/%00/secret.txt",
                          "/sub/./index.html"}) {
        auto r = get(p);
        if (!r) continue;  // a request httplib refuses to send or parse is not a leak either
        ++answered;
        EXPECT_NE(r->status, 200) << p;
        EXPECT_EQ(r->body.find("SECRET"), std::string::npos) << p;
        EXPECT_NE(r->body, "hidden") << p;
        EXPECT_EQ(r->body.find("root:"), std::string::npos) << p;
    }
    EXPECT_GE(answered, 10);  // the server answered (with an error), not just the client refusing
}

TEST_F(ServerTest, ApiConfigListsModelHosts) {
    auto r = get("/api/config");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    EXPECT_NE(r->body.find("\"model_hosts\""), std::string::npos);
    EXPECT_NE(r->body.find("\"https://cdn-lfs.huggingface.co\""), std::string::npos);
    EXPECT_NE(r->body.find("\"content_security_policy\""), std::string::npos);
}

TEST(ServerBind, PortInUseIsReported) {
    es::server::ServerOptions options;
    options.root = fs::temp_directory_path();
    es::server::AppServer a(options), b(options);
    ASSERT_EQ(a.bind("127.0.0.1", 0), "");
    std::string err = b.bind("127.0.0.1", a.port());
    EXPECT_NE(err, "");
    EXPECT_NE(err.find(std::to_string(a.port())), std::string::npos) << err;
}

TEST(ServerUrl, FormatsHostAndPort) {
    EXPECT_EQ(es::server::server_url("127.0.0.1", 8080), "http://127.0.0.1:8080/");
    EXPECT_EQ(es::server::server_url("::1", 9), "http://[::1]:9/");
}

}  // namespace
