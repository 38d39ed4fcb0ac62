// Tests for server/config.* and server/command_line.*: every malformed config
// or argument is refused with a message that names the problem.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "command_line.h"
#include "config.h"
#include "security_headers.h"

namespace {

using es::server::parse_config;

void expect_error(const std::string& json, const std::string& needle) {
    auto r = parse_config(json);
    EXPECT_FALSE(r.ok) << json;
    EXPECT_NE(r.error.find(needle), std::string::npos) << "config " << json << "\nerror: " << r.error;
}

TEST(ServerConfig, ShippedConfigIsValid) {
    auto r = es::server::load_config_file(ES_SOURCE_DIR "/server/config.json");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(r.config.hugging_face_hosts);
    EXPECT_EQ(r.config.model_hosts, es::server::hugging_face_hosts());
}

// The compiled-in list is the file the app reads (web/assistant/hub_hosts.json),
// every entry a valid origin, and it names today's redirect targets.
TEST(ServerConfig, HuggingFaceHostsFile) {
    std::ifstream in(ES_SOURCE_DIR "/web/assistant/hub_hosts.json");
    ASSERT_TRUE(in) << "web/assistant/hub_hosts.json missing";
    nlohmann::json j = nlohmann::json::parse(in);
    std::vector<std::string> file_hosts;
    for (const auto& o : j.at("download_origins")) {
        const std::string origin = o.at("origin").get<std::string>();
        EXPECT_EQ(es::server::check_https_origin(origin), "") << origin;
        file_hosts.push_back(origin);
    }
    EXPECT_EQ(es::server::hugging_face_hosts(), file_hosts) << "rebuild: the compiled-in copy is stale";
    for (const char* h : {"https://huggingface.co", "https://cas-bridge.xethub.hf.co", "https://cdn-lfs-us-1.hf.co",
                          "https://cdn-lfs-eu-1.hf.co", "https://us.aws.cdn.hf.co"})
        EXPECT_NE(std::find(file_hosts.begin(), file_hosts.end(), h), file_hosts.end()) << h;
    // Each one reaches the CSP's connect-src.
    std::string csp = es::server::content_security_policy(es::server::parse_config(R"({"hugging_face_hosts": true})").config.model_hosts);
    for (const auto& h : file_hosts) EXPECT_NE(csp.find(" " + h), std::string::npos) << h;
}

TEST(ServerConfig, HuggingFaceHostsAndOwnHostsCombine) {
    auto r = parse_config(R"({"hugging_face_hosts": true, "model_hosts": ["https://mirror.example", "https://huggingface.co"]})");
    ASSERT_TRUE(r.ok) << r.error;
    std::vector<std::string> want = es::server::hugging_face_hosts();
    want.push_back("https://mirror.example");  // huggingface.co is not listed twice
    EXPECT_EQ(r.config.model_hosts, want);
    r = parse_config(R"({"hugging_face_hosts": false, "model_hosts": ["https://mirror.example"]})");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.config.model_hosts, (std::vector<std::string>{"https://mirror.example"}));
    r = parse_config(R"({"hugging_face_hosts": false})");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(r.config.model_hosts.empty());
    expect_error(R"({"hugging_face_hosts": "yes"})", "must be true or false");
    expect_error(R"({"hugging_face_hosts": true, "model_hosts": ["http://x.example"]})", "model_hosts[0]");
    EXPECT_NE(es::server::config_to_json(parse_config(R"({"hugging_face_hosts": true})").config, "csp")
                  .find("\"hugging_face_hosts\": true"), std::string::npos);
}

TEST(ServerConfig, ValidHostsAreKept) {
    auto r = parse_config(R"({"model_hosts": ["https://a.example", "https://b.example:8443"], "$comment": "x"})");
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.config.model_hosts, (std::vector<std::string>{"https://a.example", "https://b.example:8443"}));
    EXPECT_TRUE(parse_config(R"({"model_hosts": []})").ok);
}

TEST(ServerConfig, MalformedJsonIsNamed) {
    expect_error("{\"model_hosts\": [", "not valid JSON");
    expect_error("", "not valid JSON");
    expect_error("[1,2]", "must be a JSON object");
    expect_error("{\"model_hosts\": [\"https://a.example\"],}", "not valid JSON");
}

TEST(ServerConfig, StructureErrorsAreNamed) {
    expect_error("{}", "missing \"model_hosts\"");
    expect_error(R"({"model_hosts": "https://a.example"})", "must be an array");
    expect_error(R"({"model_hosts": [42]})", "model_hosts[0] must be a string");
    expect_error(R"({"model_hosts": [], "model_host": []})", "unknown key \"model_host\"");
}

TEST(ServerConfig, NonHttpsOriginsAreRefusedByName) {
    expect_error(R"({"model_hosts": ["https://ok.example", "http://huggingface.co"]})",
                 "model_hosts[1] \"http://huggingface.co\" is not an https origin");
    expect_error(R"({"model_hosts": ["huggingface.co"]})", "\"huggingface.co\" is not an https origin");
    expect_error(R"({"model_hosts": ["https://huggingface.co/models"]})", "https://huggingface.co/models");
    expect_error(R"({"model_hosts": ["https://huggingface.co/"]})", "is not an https origin");
    expect_error(R"({"model_hosts": ["https://*.hf.co"]})", "wildcard");
    expect_error(R"({"model_hosts": ["https://user@host.example"]})", "is not an https origin");
    expect_error(R"({"model_hosts": ["https://"]})", "has no host name");
    expect_error(R"({"model_hosts": ["https://a.example:99999"]})", "invalid port");
    expect_error(R"({"model_hosts": ["https://a.example:"]})", "invalid port");
    expect_error(R"({"model_hosts": ["https://a..example"]})", "invalid host name");
    // An attempt to widen the CSP through the config.
    expect_error(R"({"model_hosts": ["https://a.example; script-src *"]})", "is not an https origin");
    expect_error(R"({"model_hosts": ["https://a.example https://evil.example"]})", "is not an https origin");
}

TEST(ServerConfig, MissingFileIsNamed) {
    auto r = es::server::load_config_file("/nonexistent/endoscribe.json");
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("/nonexistent/endoscribe.json"), std::string::npos) << r.error;
}

TEST(ContentSecurityPolicy, ListsModelHostsOnlyInConnectSrc) {
    std::string csp = es::server::content_security_policy({"https://a.example", "https://b.example"});
    EXPECT_NE(csp.find("connect-src 'self' https://a.example https://b.example;"), std::string::npos) << csp;
    EXPECT_NE(csp.find("default-src 'self';"), std::string::npos);
    EXPECT_NE(csp.find("script-src 'self' 'wasm-unsafe-eval';"), std::string::npos);
    EXPECT_NE(csp.find("object-src 'none'"), std::string::npos);
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
    EXPECT_EQ(csp.find("unsafe-eval'"), csp.find("wasm-unsafe-eval'") + 5);  // no plain 'unsafe-eval'
    EXPECT_EQ(csp.find("*"), std::string::npos);
    EXPECT_EQ(es::server::content_security_policy({}).find("connect-src 'self';") != std::string::npos, true);
}

TEST(CommandLine, ParsesAllForms) {
    auto r = es::server::parse_command_line({"--root", "app", "--config=c.json", "--host", "0.0.0.0", "--port", "0"});
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.args.root, "app");
    EXPECT_EQ(r.args.config, "c.json");
    EXPECT_EQ(r.args.host, "0.0.0.0");
    EXPECT_EQ(r.args.port, 0);
    r = es::server::parse_command_line({"--root", "app", "--config", "c.json"});
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.args.host, "127.0.0.1");
    EXPECT_EQ(r.args.port, 8080);
    EXPECT_TRUE(es::server::parse_command_line({"--help"}).args.help);
}

TEST(CommandLine, ErrorsNameTheArgument) {
    auto err = [](std::vector<std::string> a) { return es::server::parse_command_line(a).error; };
    EXPECT_NE(err({"--config", "c.json"}).find("--root"), std::string::npos);
    EXPECT_NE(err({"--root", "app"}).find("--config"), std::string::npos);
    EXPECT_NE(err({"--root", "app", "--config", "c", "--port", "http"}).find("--port"), std::string::npos);
    EXPECT_NE(err({"--root", "app", "--config", "c", "--port", "70000"}).find("--port"), std::string::npos);
    EXPECT_NE(err({"--root", "app", "--config", "c", "--port"}).find("needs a value"), std::string::npos);
    EXPECT_NE(err({"--root", "app", "--config", "c", "--bogus"}).find("--bogus"), std::string::npos);
}

}  // namespace
