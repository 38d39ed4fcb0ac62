// Tests for the inference API (server/api) with a deterministic test engine:
// the scheduler's fairness, continuous batching and cancellation; the HTTP
// routes' OpenAI shapes, streaming, validation, limits, token and CORS checks;
// queue-full 429 and disconnect-cancels through real sockets.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "api/access.h"
#include "api/chat_request.h"
#include "api/image_input.h"
#include "api/scheduler.h"
#include "app_server.h"
#include "config.h"
#include "encoding/base64.h"
#include "image/png_encode.h"
#include "test_chat_engine.h"

namespace fs = std::filesystem;
using nlohmann::json;
using es::server::testing::TestChatEngine;
using namespace std::chrono_literals;

namespace {

template <class F>
bool eventually(F f, std::chrono::milliseconds timeout = 5000ms) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (f()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return f();
}

es::server::ChatRequest text_request(const std::string& text, int max_tokens = 64) {
    es::server::ChatRequest r;
    r.model = "test-model";
    r.max_tokens = max_tokens;
    r.messages.push_back({"user", {{es::server::ChatPart::Kind::Text, text, {}}}});
    return r;
}

// Collects a chat job's text until it ends.
std::string collect(const std::shared_ptr<es::server::ChatJob>& job, std::string* reason = nullptr) {
    std::string text;
    for (int i = 0; i < 400; ++i) {
        auto u = job->wait(50ms);
        for (auto& t : u.tokens) text += t.text;
        if (u.finished) {
            if (reason) *reason = u.failed ? "failed" : u.finish_reason;
            return text;
        }
    }
    return text + "<timeout>";
}

}  // namespace

// ---- scheduler -------------------------------------------------------------

TEST(Scheduler, AnswersAndFinishesSequences) {
    auto engine = std::make_shared<TestChatEngine>(4);
    es::server::Scheduler s({8, 0});
    s.set_engine(engine);
    auto job = s.make_chat_job(text_request("hi"));
    ASSERT_EQ(s.submit_chat("a", job), es::server::SubmitStatus::Accepted);
    std::string reason;
    EXPECT_EQ(collect(job, &reason), "echo: hi");
    EXPECT_EQ(reason, "stop");
    EXPECT_TRUE(eventually([&] { return engine->live_sequences() == 0; }));
}

TEST(Scheduler, MaxTokensEndsWithLength) {
    auto engine = std::make_shared<TestChatEngine>(4);
    es::server::Scheduler s({8, 0});
    s.set_engine(engine);
    auto job = s.make_chat_job(text_request("long", 5));
    ASSERT_EQ(s.submit_chat("a", job), es::server::SubmitStatus::Accepted);
    std::string reason;
    EXPECT_EQ(collect(job, &reason), "xxxxx");
    EXPECT_EQ(reason, "length");
}

TEST(Scheduler, StopStringEndsTheAnswer) {
    auto engine = std::make_shared<TestChatEngine>(4);
    es::server::Scheduler s({8, 0});
    s.set_engine(engine);
    auto r = text_request("one two three");
    r.stop = {"two"};
    auto job = s.make_chat_job(r);
    ASSERT_EQ(s.submit_chat("a", job), es::server::SubmitStatus::Accepted);
    std::string reason;
    EXPECT_EQ(collect(job, &reason), "echo: one ");
    EXPECT_EQ(reason, "stop");
    EXPECT_TRUE(eventually([&] { return engine->live_sequences() == 0; }));
}

TEST(Scheduler, StartErrorsReachTheJob) {
    auto engine = std::make_shared<TestChatEngine>(4);
    es::server::Scheduler s({8, 0});
    s.set_engine(engine);
    auto job = s.make_chat_job(text_request("fail"));
    ASSERT_EQ(s.submit_chat("a", job), es::server::SubmitStatus::Accepted);
    std::string reason;
    collect(job, &reason);
    EXPECT_EQ(reason, "failed");
}

TEST(Scheduler, ClientsTakeTurns) {
    // One sequence at a time; client a queues five jobs before b queues one:
    // b's job is the second to start, not the sixth.
    auto engine = std::make_shared<TestChatEngine>(1);
    es::server::Scheduler s({16, 0});
    s.set_engine(engine);
    engine->pause();
    std::vector<std::shared_ptr<es::server::ChatJob>> jobs;
    for (int i = 0; i < 5; ++i) {
        jobs.push_back(s.make_chat_job(text_request("a" + std::to_string(i))));
        ASSERT_EQ(s.submit_chat("client-a", jobs.back()), es::server::SubmitStatus::Accepted);
        if (i == 0) ASSERT_TRUE(engine->wait_until_blocked());
    }
    jobs.push_back(s.make_chat_job(text_request("b0")));
    ASSERT_EQ(s.submit_chat("client-b", jobs.back()), es::server::SubmitStatus::Accepted);
    engine->resume();
    for (auto& j : jobs) collect(j);
    auto order = engine->started_prompts();
    ASSERT_EQ(order.size(), 6u);
    EXPECT_EQ(order[0], "a0");
    EXPECT_EQ(order[1], "b0");
    EXPECT_EQ(order[2], "a1");
}

TEST(Scheduler, BatchesUpToTheEngineWidthAndAdmitsWhileDecoding) {
    auto engine = std::make_shared<TestChatEngine>(4, 2ms);
    es::server::Scheduler s({64, 0});
    s.set_engine(engine);
    std::vector<std::shared_ptr<es::server::ChatJob>> jobs;
    for (int i = 0; i < 10; ++i) {
        jobs.push_back(s.make_chat_job(text_request("prompt number " + std::to_string(i))));
        ASSERT_EQ(s.submit_chat("c" + std::to_string(i), jobs.back()), es::server::SubmitStatus::Accepted);
    }
    for (size_t i = 0; i < jobs.size(); ++i) EXPECT_EQ(collect(jobs[i]), "echo: prompt number " + std::to_string(i));
    auto sizes = engine->batch_sizes();
    int widest = 0;
    for (int b : sizes) widest = std::max(widest, b);
    EXPECT_EQ(widest, 4);
    EXPECT_EQ(s.stats().max_step_batch, 4);
    // 10 answers of 22-23 tokens in batches of 4: far fewer steps than one at a time.
    EXPECT_LT(sizes.size(), 10u * 23u / 2u);
}

TEST(Scheduler, QueueFullIsRefused) {
    auto engine = std::make_shared<TestChatEngine>(1);
    es::server::Scheduler s({2, 0});
    s.set_engine(engine);
    engine->pause();
    auto running = s.make_chat_job(text_request("r"));
    ASSERT_EQ(s.submit_chat("a", running), es::server::SubmitStatus::Accepted);
    ASSERT_TRUE(engine->wait_until_blocked());  // taken off the queue, inside start()
    auto w1 = s.make_chat_job(text_request("w1")), w2 = s.make_chat_job(text_request("w2"));
    EXPECT_EQ(s.submit_chat("a", w1), es::server::SubmitStatus::Accepted);
    EXPECT_EQ(s.submit_chat("b", w2), es::server::SubmitStatus::Accepted);
    auto refused = s.make_chat_job(text_request("x"));
    EXPECT_EQ(s.submit_chat("c", refused), es::server::SubmitStatus::QueueFull);
    EXPECT_EQ(s.stats().rejected, 1u);
    EXPECT_EQ(s.stats().queue_length, 2);
    engine->resume();
    EXPECT_EQ(collect(w2), "echo: w2");
}

TEST(Scheduler, CancelEndsARunningSequenceAndDropsAWaitingOne) {
    auto engine = std::make_shared<TestChatEngine>(1, 1ms);
    es::server::Scheduler s({8, 0});
    s.set_engine(engine);
    auto running = s.make_chat_job(text_request("long", 100000));
    auto waiting = s.make_chat_job(text_request("w"));
    ASSERT_EQ(s.submit_chat("a", running), es::server::SubmitStatus::Accepted);
    ASSERT_TRUE(eventually([&] { return engine->tokens() > 5; }));
    ASSERT_EQ(s.submit_chat("a", waiting), es::server::SubmitStatus::Accepted);
    waiting->cancel();
    ASSERT_TRUE(eventually([&] { return s.stats().queue_length == 0; }));
    running->cancel();
    ASSERT_TRUE(eventually([&] { return engine->live_sequences() == 0; }));
    int tokens = engine->tokens();
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(engine->tokens(), tokens) << "decoding goes on after cancel";
    EXPECT_EQ(s.stats().cancelled, 2u);
    EXPECT_EQ(engine->started_prompts().size(), 1u) << "the cancelled waiting job was started";
}

TEST(Scheduler, TasksRunOnTheModelThreadBetweenSteps) {
    auto engine = std::make_shared<TestChatEngine>(2, 1ms);
    es::server::Scheduler s({8, 0});
    s.set_engine(engine);
    auto chat = s.make_chat_job(text_request("long", 200));
    ASSERT_EQ(s.submit_chat("a", chat), es::server::SubmitStatus::Accepted);
    std::thread::id task_thread;
    es::server::ChatEngine* seen = nullptr;
    auto task = s.make_task_job([&](es::server::ChatEngine* e) {
        task_thread = std::this_thread::get_id();
        seen = e;
    });
    ASSERT_EQ(s.submit_task("b", task), es::server::SubmitStatus::Accepted);
    EXPECT_EQ(task->wait(5000ms), es::server::TaskJob::State::Done);
    EXPECT_EQ(seen, engine.get());
    EXPECT_NE(task_thread, std::this_thread::get_id());
    chat->cancel();
}

// ---- request parsing -------------------------------------------------------

namespace {

std::string png_data_url(int w, int h) {
    es::Image img;
    img.width = w;
    img.height = h;
    img.rgba.assign(size_t(w) * h * 4, 200);
    std::vector<uint8_t> png = es::encode_png(img);
    return "data:image/png;base64," + es::base64_encode(png);
}

es::server::ParsedChatRequest parse(const json& j) {
    es::server::ChatRequestLimits limits;
    return es::server::parse_chat_request(j.dump(), limits);
}

}  // namespace

TEST(ChatRequestParse, ReadsOpenAIFields) {
    json j = {{"model", "m"},
              {"messages",
               {{{"role", "system"}, {"content", "be brief"}},
                {{"role", "user"},
                 {"content", {{{"type", "text"}, {"text", "what is this?"}},
                              {{"type", "image_url"}, {"image_url", {{"url", png_data_url(8, 6)}}}}}}}}},
              {"max_completion_tokens", 7}, {"temperature", 0}, {"top_p", 0.5}, {"top_k", 3}, {"seed", 42},
              {"stop", {"a", "b"}}, {"logprobs", true}, {"top_logprobs", 2}, {"stream", true},
              {"stream_options", {{"include_usage", true}}}, {"n", 1}};
    auto p = parse(j);
    ASSERT_TRUE(p.error.empty()) << p.error.message;
    EXPECT_EQ(p.request.max_tokens, 7);
    EXPECT_EQ(p.request.temperature, 0.0f);
    EXPECT_EQ(p.request.top_k, 3);
    EXPECT_EQ(*p.request.seed, 42u);
    EXPECT_EQ(p.request.stop.size(), 2u);
    EXPECT_TRUE(p.request.logprobs);
    EXPECT_EQ(p.request.top_logprobs, 2);
    EXPECT_TRUE(p.stream && p.include_usage);
    ASSERT_EQ(p.request.messages.size(), 2u);
    ASSERT_EQ(p.request.messages[1].parts.size(), 2u);
    EXPECT_EQ(p.request.messages[1].parts[1].kind, es::server::ChatPart::Kind::Image);
    const auto& bytes = p.request.messages[1].parts[1].image_bytes;
    ASSERT_GT(bytes.size(), 8u);
    EXPECT_EQ(bytes[1], 'P');  // the PNG file itself, for the engine to decode
}

TEST(ChatRequestParse, RefusesWhatItCannotHonour) {
    json base = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
    auto with = [&](const char* k, json v) {
        json j = base;
        j[k] = v;
        return parse(j);
    };
    EXPECT_EQ(with("n", 2).error.param, "n");
    EXPECT_EQ(with("tools", json::array({{{"type", "function"}}})).error.param, "tools[0]");
    EXPECT_EQ(with("temperature", 3).error.param, "temperature");
    EXPECT_EQ(with("top_logprobs", 25).error.param, "top_logprobs");
    EXPECT_EQ(with("stop", json::array({"a", "b", "c", "d", "e"})).error.param, "stop");
    EXPECT_EQ(with("max_tokens", 0).error.param, "max_tokens");
    EXPECT_EQ(with("max_tokens", "ten").error.param, "max_tokens");
    EXPECT_EQ(with("bogus", 1).error.param, "bogus");
    EXPECT_EQ(with("stream_options", {{"include_usage", true}}).error.param, "stream_options");
    json no_messages = {{"model", "m"}, {"messages", json::array()}};
    EXPECT_EQ(parse(no_messages).error.param, "messages");
    json bad_role = {{"model", "m"}, {"messages", {{{"role", "narrator"}, {"content", "x"}}}}};
    EXPECT_EQ(parse(bad_role).error.param, "messages[0].role");
}

TEST(ChatRequestParse, BrokenJsonSaysWhere) {
    es::server::ChatRequestLimits limits;
    auto p = es::server::parse_chat_request("{\"model\": \"m\",\n \"messages\": [}", limits);
    EXPECT_EQ(p.error.status, 400);
    EXPECT_NE(p.error.message.find("line 2"), std::string::npos) << p.error.message;
    std::string deep(10000, '[');
    p = es::server::parse_chat_request(deep, limits);
    EXPECT_EQ(p.error.status, 400);
    EXPECT_NE(p.error.message.find("nested"), std::string::npos);
}

TEST(ImageInput, ChecksImagesWithTheCoreDecoder) {
    es::server::ImageLimits limits;
    auto ok = es::server::read_image_url(png_data_url(5, 4), "p", limits, {});
    ASSERT_TRUE(ok.error.empty()) << ok.error.message;
    EXPECT_EQ(ok.width, 5);
    EXPECT_EQ(ok.format, "png");
    // Cut short: the decoder says the file is damaged or incomplete.
    std::string url = png_data_url(64, 64);
    std::vector<uint8_t> bytes;
    std::string why;
    ASSERT_TRUE(es::server::decode_data_url(url, &bytes, &why));
    bytes.resize(bytes.size() / 2);
    auto cut = es::server::read_image_url("data:image/png;base64," + es::base64_encode(bytes), "p", limits, {});
    EXPECT_EQ(cut.error.status, 400);
    EXPECT_EQ(cut.error.code, "image_unreadable");
    auto gif = es::server::read_image_url("data:image/gif;base64," + es::base64_encode(std::vector<uint8_t>{'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0}), "p", limits, {});
    EXPECT_EQ(gif.error.code, "image_unsupported");
    auto bad64 = es::server::read_image_url("data:image/png;base64,@@@@", "p", limits, {});
    EXPECT_EQ(bad64.error.code, "invalid_image_url");
    auto remote = es::server::read_image_url("https://example.org/a.png", "p", limits, {});
    EXPECT_EQ(remote.error.code, "image_url_not_allowed");
    es::server::ImageLimits small;
    small.max_pixels = 100;
    auto big = es::server::read_image_url(png_data_url(20, 20), "p", small, {});
    EXPECT_EQ(big.error.status, 413);
    small.max_encoded_bytes = 10;
    big = es::server::read_image_url(png_data_url(20, 20), "p", small, {});
    EXPECT_EQ(big.error.status, 413);
}

// ---- access ----------------------------------------------------------------

TEST(Access, LoopbackHostsAndTokens) {
    EXPECT_TRUE(es::server::is_loopback_host("127.0.0.1"));
    EXPECT_TRUE(es::server::is_loopback_host("127.1.2.3"));
    EXPECT_TRUE(es::server::is_loopback_host("::1"));
    EXPECT_TRUE(es::server::is_loopback_host("localhost"));
    EXPECT_FALSE(es::server::is_loopback_host("0.0.0.0"));
    EXPECT_FALSE(es::server::is_loopback_host("127.0.0.1.example.org"));
    EXPECT_FALSE(es::server::is_loopback_host("192.168.1.2"));
    EXPECT_TRUE(es::server::bearer_token_matches("Bearer es-abcdef0123456789", "es-abcdef0123456789"));
    EXPECT_FALSE(es::server::bearer_token_matches("Bearer es-abcdef012345678", "es-abcdef0123456789"));
    EXPECT_FALSE(es::server::bearer_token_matches("Basic es-abcdef0123456789", "es-abcdef0123456789"));
    EXPECT_FALSE(es::server::bearer_token_matches("Bearer ", ""));
}

TEST(Access, TokenFileIsMadeOnceWith0600) {
    fs::path dir = fs::temp_directory_path() / ("es-token-test-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::path file = dir / "sub" / "api_token";
    auto t = es::server::load_or_create_token(file);
    ASSERT_TRUE(t.ok) << t.error;
    EXPECT_TRUE(t.created);
    EXPECT_GE(t.token.size(), 40u);
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto again = es::server::load_or_create_token(file);
    ASSERT_TRUE(again.ok);
    EXPECT_FALSE(again.created);
    EXPECT_EQ(again.token, t.token);
    ::chmod(file.c_str(), 0644);
    auto open = es::server::load_or_create_token(file);
    EXPECT_FALSE(open.ok);
    EXPECT_NE(open.error.find("chmod 600"), std::string::npos);
    fs::remove_all(dir);
}

TEST(Access, OriginsAndHostHeaders) {
    es::server::AccessPolicy p;
    p.app_origins = {"https://app.example.org"};
    using V = es::server::OriginVerdict;
    EXPECT_EQ(es::server::check_origin(p, "", "127.0.0.1:8080"), V::Absent);
    EXPECT_EQ(es::server::check_origin(p, "http://127.0.0.1:8080", "127.0.0.1:8080"), V::Allowed);
    EXPECT_EQ(es::server::check_origin(p, "https://app.example.org", "127.0.0.1:8080"), V::Allowed);
    EXPECT_EQ(es::server::check_origin(p, "https://evil.example", "127.0.0.1:8080"), V::Refused);
    EXPECT_EQ(es::server::check_origin(p, "null", "127.0.0.1:8080"), V::Refused);
    // DNS rebinding: a page of evil.example re-pointed at 127.0.0.1.
    EXPECT_FALSE(es::server::host_header_allowed(p, "evil.example:8080"));
    EXPECT_EQ(es::server::check_origin(p, "http://evil.example:8080", "evil.example:8080"), V::Refused);
    EXPECT_TRUE(es::server::host_header_allowed(p, "localhost:8080"));
    EXPECT_TRUE(es::server::host_header_allowed(p, "[::1]:8080"));
}

// ---- HTTP ------------------------------------------------------------------

namespace {

struct TestServer {
    std::shared_ptr<TestChatEngine> engine;
    std::unique_ptr<es::server::AppServer> server;
    std::thread thread;
    fs::path root;

    explicit TestServer(std::shared_ptr<TestChatEngine> e, es::server::ApiOptions api = {}, bool with_engine = true)
        : engine(std::move(e)) {
        root = fs::temp_directory_path() / ("es-api-test-" + std::to_string(::getpid()));
        fs::create_directories(root);
        std::ofstream(root / "index.html") << "<!doctype html>";
        es::server::ServerOptions o;
        o.root = root;
        o.config.model_hosts = {"https://huggingface.co"};
        o.config.inference_servers = {"http://gpu.example:8081"};
        o.api = api;
        server = std::make_unique<es::server::AppServer>(o);
        if (with_engine) server->api().set_engine(engine);
        EXPECT_EQ(server->bind("127.0.0.1", 0), "");
        thread = std::thread([this] { server->run(); });
    }
    ~TestServer() {
        server->stop();
        thread.join();
        server.reset();
    }
    httplib::Client client() const {
        httplib::Client c("127.0.0.1", server->port());
        c.set_read_timeout(20);
        return c;
    }
    httplib::Result post(const json& body, httplib::Headers h = {}) const {
        return client().Post("/v1/chat/completions", h, body.dump(), "application/json");
    }
    json metrics_value(const std::string& name) const {
        auto r = client().Get("/metrics");
        if (!r) return nullptr;
        std::istringstream in(r->body);
        std::string line;
        while (std::getline(in, line))
            if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
        return nullptr;
    }
};

json chat(const std::string& text, json extra = json::object()) {
    json j = {{"model", "test-model"}, {"messages", {{{"role", "user"}, {"content", text}}}}};
    for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = *it;
    return j;
}

// Raw socket for a client that leaves mid-answer.
int connect_to(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}
void send_request(int fd, const std::string& body) {
    std::string req = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), ssize_t(req.size()));
}

}  // namespace

TEST(InferenceHttp, ModelsHealthAndConfig) {
    TestServer s(std::make_shared<TestChatEngine>());
    auto r = s.client().Get("/v1/models");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    json j = json::parse(r->body);
    EXPECT_EQ(j["object"], "list");
    EXPECT_EQ(j["data"][0]["id"], "test-model");
    EXPECT_EQ(j["data"][0]["owned_by"], "endoscribe");
    EXPECT_EQ(j["data"][0]["endoscribe"]["input_modalities"], json({"text", "image"}));
    EXPECT_EQ(j["data"][0]["endoscribe"]["context_length"], 4096);
    // Only a package marked as a random-weights test model carries "test_model".
    EXPECT_FALSE(j["data"][0]["endoscribe"].contains("test_model"));
    r = s.client().Get("/health");
    j = json::parse(r->body);
    EXPECT_EQ(j["status"], "ok");
    EXPECT_EQ(j["models"][0], "test-model");
    EXPECT_EQ(j["queue_length"], 0);
    // The app's CSP lets it reach the configured inference servers, and /api/config names them.
    r = s.client().Get("/api/config");
    j = json::parse(r->body);
    EXPECT_EQ(j["inference_servers"][0], "http://gpu.example:8081");
    EXPECT_NE(r->get_header_value("Content-Security-Policy").find("connect-src 'self' https://huggingface.co http://gpu.example:8081;"),
              std::string::npos);
    EXPECT_EQ(s.client().Get("/v1/models")->get_header_value("Cross-Origin-Opener-Policy"), "same-origin");
    r = s.client().Get("/v1/nothing");
    EXPECT_EQ(r->status, 404);
    EXPECT_EQ(json::parse(r->body)["error"]["code"], "unknown_route");
}

TEST(InferenceHttp, NoEngineIs503) {
    TestServer s(std::make_shared<TestChatEngine>(), {}, /*with_engine=*/false);
    auto r = s.post(chat("hi"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(json::parse(r->body)["error"]["type"], "server_error");
    EXPECT_EQ(json::parse(s.client().Get("/health")->body)["status"], "no_model");
}

TEST(InferenceHttp, CompletionInOpenAIShape) {
    TestServer s(std::make_shared<TestChatEngine>());
    auto r = s.post(chat("hello", {{"logprobs", true}, {"top_logprobs", 2}}));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    json j = json::parse(r->body);
    EXPECT_EQ(j["object"], "chat.completion");
    EXPECT_EQ(j["model"], "test-model");
    EXPECT_EQ(j["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
    EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
    EXPECT_EQ(j["choices"][0]["message"]["content"], "echo: hello");
    EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
    EXPECT_EQ(j["usage"]["prompt_tokens"], 8);
    EXPECT_EQ(j["usage"]["completion_tokens"], 12);  // 11 characters + end of answer
    EXPECT_EQ(j["usage"]["total_tokens"], 20);
    EXPECT_EQ(j["usage"]["prompt_tokens_details"]["cached_tokens"], 0);
    auto& lp = j["choices"][0]["logprobs"]["content"];
    ASSERT_EQ(lp.size(), 12u);
    EXPECT_EQ(lp[0]["token"], "e");
    EXPECT_EQ(lp[0]["logprob"], -0.25);
    EXPECT_EQ(lp[0]["bytes"], json({101}));
    EXPECT_EQ(lp[0]["top_logprobs"].size(), 2u);
}

TEST(InferenceHttp, StreamsOpenAIChunks) {
    TestServer s(std::make_shared<TestChatEngine>());
    std::string body;
    auto r = s.client().Post("/v1/chat/completions", {}, chat("hey", {{"stream", true}, {"stream_options", {{"include_usage", true}}}}).dump(),
                             "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
    std::istringstream in(r->body);
    std::string line, text;
    std::vector<json> chunks;
    bool done = false;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        ASSERT_EQ(line.rfind("data: ", 0), 0u) << line;
        std::string data = line.substr(6);
        if (data == "[DONE]") {
            done = true;
            continue;
        }
        ASSERT_FALSE(done) << "data after [DONE]";
        chunks.push_back(json::parse(data));
    }
    EXPECT_TRUE(done);
    ASSERT_GE(chunks.size(), 3u);
    EXPECT_EQ(chunks[0]["object"], "chat.completion.chunk");
    EXPECT_EQ(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    for (auto& c : chunks)
        if (!c["choices"].empty() && c["choices"][0]["delta"].contains("content")) text += c["choices"][0]["delta"]["content"].get<std::string>();
    EXPECT_EQ(text, "echo: hey");
    const json& last_choice = chunks[chunks.size() - 2];
    EXPECT_EQ(last_choice["choices"][0]["finish_reason"], "stop");
    EXPECT_TRUE(last_choice["usage"].is_null());
    EXPECT_TRUE(chunks.back()["choices"].empty());
    EXPECT_EQ(chunks.back()["usage"]["completion_tokens"], 10);
    for (auto& c : chunks) EXPECT_EQ(c["id"], chunks[0]["id"]);
    // Never compressed: a compressor would hold tokens back until its buffer fills.
    auto c = s.client();
    c.set_decompress(false);
    r = c.Post("/v1/chat/completions", {{"Accept-Encoding", "gzip, deflate, br"}}, chat("hey", {{"stream", true}}).dump(),
               "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->get_header_value("Content-Encoding"), "");
    EXPECT_EQ(r->body.rfind("data: {", 0), 0u);
}

std::vector<json> sse_chunks(const std::string& body) {
    std::vector<json> chunks;
    std::istringstream in(body);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("data: {", 0) == 0) chunks.push_back(json::parse(line.substr(6)));
    return chunks;
}

TEST(InferenceHttp, ToolCallsInOpenAIShape) {
    TestServer s(std::make_shared<TestChatEngine>());
    const json tools = json::array({{{"type", "function"},
                                     {"function", {{"name", "count"},
                                                   {"parameters", {{"type", "object"},
                                                                   {"properties", {{"n", {{"type", "integer"}}}}},
                                                                   {"required", {"n"}}}}}}}});
    const std::string call = R"({"arguments": {"n": 3}, "name": "count"})";
    // Not streamed: message.tool_calls, content null, finish_reason tool_calls.
    auto r = s.post(chat("raw:" + call, {{"tools", tools}, {"tool_choice", "required"}}));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    json j = json::parse(r->body);
    const json& m = j["choices"][0]["message"];
    EXPECT_TRUE(m["content"].is_null());
    ASSERT_EQ(m["tool_calls"].size(), 1u);
    EXPECT_EQ(m["tool_calls"][0]["id"].get<std::string>().rfind("call_", 0), 0u);
    EXPECT_EQ(m["tool_calls"][0]["type"], "function");
    EXPECT_EQ(m["tool_calls"][0]["function"]["name"], "count");
    EXPECT_EQ(m["tool_calls"][0]["function"]["arguments"], R"({"n": 3})");
    EXPECT_EQ(j["choices"][0]["finish_reason"], "tool_calls");
    // Streamed: the id, type and name once, then the arguments in pieces (here one character per token).
    r = s.post(chat("raw:" + call, {{"tools", tools}, {"tool_choice", "auto"}, {"stream", true}}));
    ASSERT_TRUE(r);
    auto chunks = sse_chunks(r->body);
    ASSERT_GE(chunks.size(), 4u) << r->body;
    EXPECT_EQ(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    EXPECT_TRUE(chunks[0]["choices"][0]["delta"]["content"].is_null());
    std::string args, name, id;
    int named = 0;
    for (const json& c : chunks) {
        const json& d = c["choices"][0]["delta"];
        EXPECT_FALSE(d.contains("content") && d["content"].is_string() && !d["content"].get<std::string>().empty());
        if (!d.contains("tool_calls")) continue;
        const json& tc = d["tool_calls"][0];
        EXPECT_EQ(tc["index"], 0);
        if (tc.contains("id")) {
            ++named;
            id = tc["id"];
            name = tc["function"]["name"];
            EXPECT_EQ(tc["type"], "function");
        }
        args += tc["function"]["arguments"].get<std::string>();
    }
    EXPECT_EQ(named, 1);
    EXPECT_EQ(name, "count");
    EXPECT_EQ(args, R"({"n": 3})");
    EXPECT_EQ(chunks.back()["choices"][0]["finish_reason"], "tool_calls");
    // tool_choice "auto" and the model writes words: plain content.
    r = s.post(chat("raw:No tool needed.", {{"tools", tools}, {"stream", true}}));
    ASSERT_TRUE(r);
    chunks = sse_chunks(r->body);
    std::string text;
    for (const json& c : chunks) {
        EXPECT_FALSE(c["choices"][0]["delta"].contains("tool_calls"));
        if (c["choices"][0]["delta"].contains("content") && c["choices"][0]["delta"]["content"].is_string())
            text += c["choices"][0]["delta"]["content"].get<std::string>();
    }
    EXPECT_EQ(text, "No tool needed.");
    EXPECT_EQ(chunks.back()["choices"][0]["finish_reason"], "stop");
    r = s.post(chat("raw:No tool needed.", {{"tools", tools}}));
    j = json::parse(r->body);
    EXPECT_EQ(j["choices"][0]["message"]["content"], "No tool needed.");
    EXPECT_FALSE(j["choices"][0]["message"].contains("tool_calls"));
    // response_format: the JSON is the content.
    r = s.post(chat("raw:{\"a\": 1}", {{"response_format", {{"type", "json_object"}}}}));
    j = json::parse(r->body);
    EXPECT_EQ(j["choices"][0]["message"]["content"], "{\"a\": 1}");
    EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
    // A refused schema is a 400 in OpenAI's shape.
    r = s.post(chat("hi", {{"response_format", {{"type", "json_schema"},
                                                {"json_schema", {{"name", "x"}, {"schema", {{"type", "string"}, {"format", "uri"}}}}}}}}));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    j = json::parse(r->body);
    EXPECT_EQ(j["error"]["type"], "invalid_request_error");
    EXPECT_EQ(j["error"]["param"], "response_format.json_schema.schema");
    EXPECT_EQ(j["error"]["code"], "unsupported_schema");
}

TEST(InferenceHttp, ErrorsAreOpenAIShaped) {
    es::server::ApiOptions api;
    api.max_body_bytes = 1 << 20;
    TestServer s(std::make_shared<TestChatEngine>(), api);
    auto expect_error = [&](const httplib::Result& r, int status, const std::string& param_or_code) {
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, status) << r->body;
        json j = json::parse(r->body, nullptr, false);
        ASSERT_TRUE(j.is_object()) << r->body;
        EXPECT_TRUE(j["error"]["message"].is_string());
        if (!param_or_code.empty())
            EXPECT_TRUE(j["error"]["param"] == param_or_code || j["error"]["code"] == param_or_code) << r->body;
    };
    expect_error(s.client().Post("/v1/chat/completions", "{not json", "application/json"), 400, "");
    expect_error(s.post(chat("hi", {{"model", "other"}})), 404, "model_not_found");
    expect_error(s.post(chat("hi", {{"n", 3}})), 400, "n");
    expect_error(s.post(chat("fail")), 400, "");
    json image_msg = {{"model", "test-model"},
                      {"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64,iVBORw0KGgo="}}}}}}}}}};
    expect_error(s.post(image_msg), 400, "image_unreadable");
    std::string huge = chat(std::string(2 << 20, 'a')).dump();
    expect_error(s.client().Post("/v1/chat/completions", huge, "application/json"), 413, "request_too_large");
}

TEST(InferenceHttp, CorsOnlyForOwnAndConfiguredOrigins) {
    es::server::ApiOptions api;
    api.access.app_origins = {"https://app.example.org"};
    TestServer s(std::make_shared<TestChatEngine>(), api);
    std::string own = "http://127.0.0.1:" + std::to_string(s.server->port());
    auto r = s.client().Get("/v1/models", {{"Origin", "https://app.example.org"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "https://app.example.org");
    r = s.client().Get("/v1/models", {{"Origin", "https://evil.example"}});
    EXPECT_EQ(r->status, 403);
    EXPECT_FALSE(r->has_header("Access-Control-Allow-Origin"));
    r = s.client().Options("/v1/chat/completions", {{"Origin", "https://app.example.org"},
                                                    {"Access-Control-Request-Method", "POST"},
                                                    {"Access-Control-Request-Headers", "authorization, content-type"}});
    EXPECT_EQ(r->status, 204);
    EXPECT_EQ(r->get_header_value("Access-Control-Allow-Headers"), "authorization, content-type");
    r = s.client().Options("/v1/chat/completions", {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
    EXPECT_EQ(r->status, 403);
    r = s.client().Post("/v1/chat/completions", {{"Origin", own}}, chat("hi").dump(), "application/json");
    EXPECT_EQ(r->status, 200);
    // DNS rebinding: a request for another host name on a loopback server.
    r = s.client().Get("/v1/models", {{"Host", "evil.example"}});
    EXPECT_EQ(r->status, 403);
}

TEST(InferenceHttp, TokenRequiredWhenConfigured) {
    es::server::ApiOptions api;
    api.access.require_token = true;
    api.access.token = "es-0123456789abcdef0123456789abcdef";
    TestServer s(std::make_shared<TestChatEngine>(), api);
    auto r = s.client().Get("/v1/models");
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(json::parse(r->body)["error"]["type"], "authentication_error");
    EXPECT_EQ(s.client().Get("/metrics")->status, 401);
    r = s.post(chat("hi"), {{"Authorization", "Bearer wrong-token-wrong-token"}});
    EXPECT_EQ(r->status, 401);
    r = s.post(chat("hi"), {{"Authorization", "Bearer " + api.access.token}});
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(s.client().Get("/health")->status, 200) << "health needs no token";
    EXPECT_EQ(s.client().Get("/")->status, 200) << "the app needs no token";
}

TEST(InferenceHttp, QueueFullIs429WithRetryAfter) {
    auto engine = std::make_shared<TestChatEngine>(1);
    es::server::ApiOptions api;
    api.scheduler.max_queue = 2;
    TestServer s(engine, api);
    engine->pause();
    std::vector<std::thread> clients;
    std::atomic<int> ok{0};
    auto send = [&](const std::string& text) {
        clients.emplace_back([&, text] {
            auto r = s.post(chat(text));
            if (r && r->status == 200) ok++;
        });
    };
    send("running");
    ASSERT_TRUE(engine->wait_until_blocked());
    send("w1");
    send("w2");
    ASSERT_TRUE(eventually([&] { return s.server->api().scheduler().stats().queue_length == 2; }));
    auto r = s.post(chat("one too many"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 429);
    EXPECT_GE(std::stoi(r->get_header_value("Retry-After")), 1);
    EXPECT_EQ(json::parse(r->body)["error"]["type"], "rate_limit_error");
    engine->resume();
    for (auto& t : clients) t.join();
    EXPECT_EQ(ok.load(), 3);
    EXPECT_EQ(s.metrics_value("endoscribe_rejected_total"), 1.0);
}

TEST(InferenceHttp, ClientThatLeavesCancelsItsStream) {
    auto engine = std::make_shared<TestChatEngine>(4, 2ms);
    TestServer s(engine);
    int fd = connect_to(s.server->port());
    ASSERT_GE(fd, 0);
    send_request(fd, chat("long story", {{"stream", true}, {"max_tokens", 100000}}).dump());
    char buf[4096];
    ASSERT_GT(::recv(fd, buf, sizeof buf, 0), 0);  // headers and the first chunks
    ASSERT_TRUE(eventually([&] { return engine->tokens() > 10; }));
    ::close(fd);
    ASSERT_TRUE(eventually([&] { return engine->live_sequences() == 0; }, 3000ms)) << "the sequence was not ended";
    int tokens = engine->tokens();
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(engine->tokens(), tokens);
    EXPECT_EQ(s.metrics_value("endoscribe_cancelled_total"), 1.0);
}

TEST(InferenceHttp, ClientThatLeavesCancelsItsNonStreamedAnswer) {
    auto engine = std::make_shared<TestChatEngine>(4, 2ms);
    TestServer s(engine);
    int fd = connect_to(s.server->port());
    ASSERT_GE(fd, 0);
    send_request(fd, chat("long answer", {{"max_tokens", 100000}}).dump());
    ASSERT_TRUE(eventually([&] { return engine->tokens() > 10; }));
    ::close(fd);
    ASSERT_TRUE(eventually([&] { return engine->live_sequences() == 0; }, 3000ms)) << "the sequence was not ended";
    EXPECT_EQ(s.metrics_value("endoscribe_cancelled_total"), 1.0);
}

TEST(InferenceHttp, ClientThatLeavesWhileQueuedIsDropped) {
    auto engine = std::make_shared<TestChatEngine>(1);
    TestServer s(engine);
    engine->pause();
    std::thread running([&] { s.post(chat("first")); });
    ASSERT_TRUE(engine->wait_until_blocked());
    int fd = connect_to(s.server->port());
    send_request(fd, chat("queued").dump());
    ASSERT_TRUE(eventually([&] { return s.server->api().scheduler().stats().queue_length == 1; }));
    ::close(fd);
    ASSERT_TRUE(eventually([&] { return s.server->api().scheduler().stats().queue_length == 0; }));
    engine->resume();
    running.join();
    auto prompts = engine->started_prompts();
    EXPECT_EQ(prompts, std::vector<std::string>{"first"});
}

TEST(InferenceHttp, ManyConcurrentStreamsAllComplete) {
    auto engine = std::make_shared<TestChatEngine>(8, 1ms);
    TestServer s(engine);
    const int n = 64;
    std::vector<std::thread> clients;
    std::atomic<int> correct{0};
    for (int i = 0; i < n; ++i)
        clients.emplace_back([&, i] {
            auto r = s.client().Post("/v1/chat/completions", {}, chat("client " + std::to_string(i), {{"stream", true}}).dump(),
                                     "application/json");
            if (!r || r->status != 200) return;
            std::string text;
            std::istringstream in(r->body);
            std::string line;
            while (std::getline(in, line)) {
                if (line.rfind("data: {", 0) != 0) continue;
                json c = json::parse(line.substr(6));
                if (!c["choices"].empty() && c["choices"][0]["delta"].contains("content"))
                    text += c["choices"][0]["delta"]["content"].get<std::string>();
            }
            if (text == "echo: client " + std::to_string(i)) correct++;
        });
    for (auto& t : clients) t.join();
    EXPECT_EQ(correct.load(), n);
    EXPECT_EQ(s.server->api().scheduler().stats().max_step_batch, 8);
}

TEST(InferenceHttp, StoppingTheServerEndsAnswersInProgress) {
    auto engine = std::make_shared<TestChatEngine>(4, 2ms);
    auto s = std::make_unique<TestServer>(engine);
    std::atomic<int> status{0};
    std::thread client([&] {
        auto r = s->post(chat("long answer", {{"max_tokens", 1000000}}));
        status = r ? r->status : -1;
    });
    ASSERT_TRUE(eventually([&] { return engine->tokens() > 5; }));
    auto t0 = std::chrono::steady_clock::now();
    s.reset();  // stop, join, destroy
    client.join();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
    EXPECT_NE(status.load(), 200);
    EXPECT_EQ(engine->live_sequences(), 0u);
}

TEST(ImageInput, FetchesOnlyFromConfiguredHostsWithoutRedirects) {
    httplib::Server images;
    std::string png_url = png_data_url(6, 5);
    std::vector<uint8_t> png;
    std::string why;
    ASSERT_TRUE(es::server::decode_data_url(png_url, &png, &why));
    std::string body(png.begin(), png.end());
    images.Get("/polyp.png", [&](const httplib::Request&, httplib::Response& res) { res.set_content(body, "image/png"); });
    images.Get("/moved.png", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("https://elsewhere.example/x.png"); });
    images.Get("/big.png", [&](const httplib::Request&, httplib::Response& res) { res.set_content(std::string(4096, 'x'), "image/png"); });
    int port = images.bind_to_any_port("127.0.0.1");
    std::thread t([&] { images.listen_after_bind(); });
    std::string base = "http://127.0.0.1:" + std::to_string(port);
    es::server::ImageLimits limits;
    auto ok = es::server::read_image_url(base + "/polyp.png", "p", limits, {"127.0.0.1"});
    EXPECT_TRUE(ok.error.empty()) << ok.error.message;
    EXPECT_EQ(ok.width, 6);
    auto refused = es::server::read_image_url(base + "/polyp.png", "p", limits, {"images.example.org"});
    EXPECT_EQ(refused.error.code, "image_url_not_allowed");
    auto moved = es::server::read_image_url(base + "/moved.png", "p", limits, {"127.0.0.1"});
    EXPECT_EQ(moved.error.code, "image_url_unreachable") << "a redirect was followed";
    limits.max_encoded_bytes = 1000;
    auto big = es::server::read_image_url(base + "/big.png", "p", limits, {"127.0.0.1"});
    EXPECT_EQ(big.error.status, 413);
    auto user = es::server::read_image_url("http://user:pw@127.0.0.1:" + std::to_string(port) + "/polyp.png", "p", limits, {"127.0.0.1"});
    EXPECT_EQ(user.error.code, "image_url_not_allowed");
    images.stop();
    t.join();
}

TEST(ApiConfig, InferenceKeysAreChecked) {
    auto ok = es::server::parse_config(R"({"model_hosts": [], "inference_servers": ["http://gpu-box.lan:8081", "https://infer.example.org"],
        "app_origins": ["http://workstation.lan:8080"], "image_url_hosts": ["images.example.org"]})");
    ASSERT_TRUE(ok.ok) << ok.error;
    EXPECT_EQ(ok.config.inference_servers.size(), 2u);
    EXPECT_EQ(es::server::connect_sources(ok.config), ok.config.inference_servers);
    EXPECT_NE(es::server::config_to_json(ok.config, "csp").find("gpu-box.lan:8081"), std::string::npos);
    for (const char* bad : {R"({"model_hosts": [], "inference_servers": ["gpu-box:8081"]})",
                            R"({"model_hosts": [], "inference_servers": ["http://gpu-box/v1"]})",
                            R"({"model_hosts": [], "inference_servers": ["http://a; script-src *"]})",
                            R"({"model_hosts": [], "app_origins": ["*"]})",
                            R"({"model_hosts": [], "image_url_hosts": ["https://images.example.org"]})",
                            R"({"model_hosts": [], "image_url_hosts": "images.example.org"})"}) {
        auto r = es::server::parse_config(bad);
        EXPECT_FALSE(r.ok) << bad;
        EXPECT_FALSE(r.error.empty());
    }
}
