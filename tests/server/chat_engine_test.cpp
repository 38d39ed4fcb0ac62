// The server's chat engine (server/inference) on the tiny oracle package, CPU
// provider: it must reproduce transformers' golden greedy continuations
// (tests/fixtures/tiny-gemma3/golden) as the browser runtime does
// (tests/node/assistant_parity.test.mjs): turn 1 with the image, turn 2 from
// the kept KV cache (the client resends the whole conversation, as OpenAI
// clients do), text-only; several sequences batched in one decoder run give
// the same tokens; label scoring gives the probabilities of the golden logits;
// caches hit and evict; broken packages are named.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "assistant/sampler.h"
#include "assistant/tokenizer.h"
#include "agent/tool_registry.h"
#include "constrained/json_schema.h"
#include "inference/gemma3_engine.h"
#include "inference/gemma3_model.h"
#include "inference/gemma3_package.h"
#include "image/image.h"
#include "image/png_encode.h"
#include "inference/stop_strings.h"
#include "onnx/onnx_runtime.h"

using namespace es::server;
namespace fs = std::filesystem;

namespace {

const fs::path kTiny = fs::path(ES_SOURCE_DIR) / "tests/fixtures/tiny-gemma3";

std::vector<uint8_t> read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A little-endian float32 .npy file: shape and data.
std::vector<float> read_npy(const fs::path& p, std::vector<int64_t>* shape) {
    std::vector<uint8_t> b = read_file(p);
    const size_t hlen = size_t(b[8]) | size_t(b[9]) << 8;
    const std::string header(b.begin() + 10, b.begin() + 10 + std::ptrdiff_t(hlen));
    shape->clear();
    const size_t open = header.find('(', header.find("shape")), close = header.find(')', open);
    std::string dims = header.substr(open + 1, close - open - 1);
    for (size_t at = 0; at < dims.size();) {
        size_t comma = dims.find(',', at);
        std::string d = dims.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        if (d.find_first_of("0123456789") != std::string::npos) shape->push_back(std::stoll(d));
        if (comma == std::string::npos) break;
        at = comma + 1;
    }
    std::vector<float> data((b.size() - 10 - hlen) / 4);
    std::memcpy(data.data(), b.data() + 10 + hlen, data.size() * 4);
    return data;
}

nlohmann::json golden() {
    std::ifstream in(kTiny / "golden/golden.json");
    return nlohmann::json::parse(in);
}

std::vector<int> ids_of(const nlohmann::json& j) { return j.get<std::vector<int>>(); }

ChatMessage user(const std::string& text, const std::vector<uint8_t>* image = nullptr) {
    ChatMessage m;
    m.role = "user";
    if (image) {
        ChatPart p;
        p.kind = ChatPart::Kind::Image;
        p.image_bytes = *image;
        m.parts.push_back(p);
    }
    ChatPart t;
    t.text = text;
    m.parts.push_back(t);
    return m;
}
ChatMessage assistant(const std::string& text) {
    ChatMessage m;
    m.role = "assistant";
    ChatPart t;
    t.text = text;
    m.parts.push_back(t);
    return m;
}

ChatRequest greedy(std::vector<ChatMessage> messages, int max_tokens = 24) {
    ChatRequest r;
    r.messages = std::move(messages);
    r.max_tokens = max_tokens;
    r.temperature = 0;
    return r;
}

struct Answer {
    std::vector<int> ids;
    std::string text;
    std::string finish_reason;
    std::vector<TokenOut> outs;
};

// Steps one sequence to its end, then finishes it.
Answer run(ChatEngine& e, uint64_t seq) {
    Answer a;
    for (int guard = 0; guard < 10000; ++guard) {
        std::vector<TokenOut> outs = e.step({seq});
        EXPECT_EQ(outs.size(), 1u);
        const TokenOut& o = outs[0];
        if (o.token >= 0) a.ids.push_back(o.token);
        a.text += o.text;
        a.outs.push_back(o);
        if (o.finished) {
            a.finish_reason = o.finish_reason;
            break;
        }
    }
    e.finish(seq);
    return a;
}

class ChatEngineTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        OnnxRuntimeOptions opt;
        opt.libraries = default_onnx_runtime_libraries(ES_REPO_ROOT);
        opt.prefer_cuda = false;
        runtime_ = new OnnxRuntime(load_onnx_runtime(opt));
        // The package the model builder makes from the fixture checkpoint (as
        // tests/node/model_helpers.mjs buildPackage does), fp32, q4 and fp16.
        package_ = fs::temp_directory_path() / ("es-engine-test-" + std::to_string(::getpid()));
        fs::remove_all(package_);
        const std::string cmd = "/usr/bin/python3 '" + (fs::path(ES_SOURCE_DIR) / "tools/build_model.py").string() + "' '" +
                                (kTiny / "checkpoint").string() + "' '" + package_.string() +
                                "' --quiet --variants fp32,q4,fp16 >/dev/null";
        build_status_ = std::system(cmd.c_str());
        // The same checkpoint with whole-history KV caches (--kv-cache whole): the
        // form whose kept caches can be cut back to a shorter prefix.
        package_whole_ = fs::temp_directory_path() / ("es-engine-test-whole-" + std::to_string(::getpid()));
        fs::remove_all(package_whole_);
        const std::string whole = "/usr/bin/python3 '" + (fs::path(ES_SOURCE_DIR) / "tools/build_model.py").string() +
                                  "' '" + (kTiny / "checkpoint").string() + "' '" + package_whole_.string() +
                                  "' --quiet --variants fp32,fp16 --kv-cache whole >/dev/null";
        if (build_status_ == 0) build_status_ = std::system(whole.c_str());
    }
    static void TearDownTestSuite() {
        fs::remove_all(package_);
        fs::remove_all(package_whole_);
        delete runtime_;
    }
    void SetUp() override {
        ASSERT_TRUE(runtime_->ok) << runtime_->error;
        ASSERT_EQ(build_status_, 0) << "tools/build_model.py could not build the tiny package";
    }
    std::unique_ptr<Gemma3Engine> engine(const std::string& variant = "fp32", EngineOptions opt = {},
                                         const fs::path& dir = {}) {
        std::string error;
        auto e = Gemma3Engine::load(*runtime_, {{dir.empty() ? package_ : dir, "tiny", variant}}, opt, &error);
        EXPECT_TRUE(e) << error;
        return e;
    }
    static std::vector<uint8_t> image() { return read_file(kTiny / "golden/image.png"); }

    static OnnxRuntime* runtime_;
    static fs::path package_;
    static fs::path package_whole_;
    static int build_status_;
};
OnnxRuntime* ChatEngineTest::runtime_ = nullptr;
fs::path ChatEngineTest::package_;
fs::path ChatEngineTest::package_whole_;
int ChatEngineTest::build_status_ = -1;

}  // namespace

TEST_F(ChatEngineTest, GoldenTurnOneTurnTwoFromTheKeptCacheAndTextOnly) {
    const nlohmann::json g = golden();
    auto e = engine();
    ASSERT_TRUE(e);
    const auto models = e->models();
    ASSERT_EQ(models.size(), 1u);
    EXPECT_EQ(models[0].id, "tiny");
    EXPECT_EQ(models[0].variant, "fp32");
    EXPECT_EQ(models[0].execution_provider, "cpu");
    EXPECT_EQ(models[0].context_length, 512);  // the tiny model's max_position_embeddings
    EXPECT_EQ(models[0].image_size, 64);
    EXPECT_NE(e->describe()[0].find("decoder_fused"), std::string::npos) << e->describe()[0];

    const std::vector<uint8_t> img = image();
    SequenceStart s1 = e->start(greedy({user("What is shown in this image?", &img)}));
    ASSERT_EQ(s1.error, EngineError::None) << s1.message;
    EXPECT_EQ(s1.prompt_tokens, int(g["turn1_ids"].size()));
    EXPECT_EQ(s1.cached_prompt_tokens, 0);
    Answer a1 = run(*e, s1.sequence);
    EXPECT_EQ(a1.ids, ids_of(g["turn1_greedy_ids"]));
    EXPECT_EQ(a1.text, g["turn1_greedy_text"].get<std::string>());
    EXPECT_EQ(a1.finish_reason, "length");
    EXPECT_EQ(e->stats().image_encodes, 1u);
    EXPECT_GT(e->cache_bytes(), 0u);

    // Turn 2: the whole conversation again, the answer as the text the client got.
    SequenceStart s2 = e->start(greedy({user("What is shown in this image?", &img), assistant(a1.text),
                                        user("How many polyps are visible?")}));
    ASSERT_EQ(s2.error, EngineError::None) << s2.message;
    EXPECT_EQ(s2.prompt_tokens, int(g["turn2_prompt_ids"].size()));
    // Everything turn 1 ran through the decoder: its prompt and the answer but its last token.
    EXPECT_EQ(s2.cached_prompt_tokens, int(g["turn1_ids"].size() + g["turn1_greedy_ids"].size()) - 1);
    Answer a2 = run(*e, s2.sequence);
    EXPECT_EQ(a2.ids, ids_of(g["turn2_greedy_ids"]));
    EXPECT_EQ(a2.text, g["turn2_greedy_text"].get<std::string>());
    EXPECT_EQ(e->stats().image_encodes, 1u);  // the image was not encoded again

    SequenceStart s3 = e->start(greedy({user("Draft an endoscopy report.")}));
    ASSERT_EQ(s3.error, EngineError::None) << s3.message;
    EXPECT_EQ(s3.prompt_tokens, int(g["text_only_ids"].size()));
    EXPECT_EQ(run(*e, s3.sequence).ids, ids_of(g["text_only_greedy_ids"]));
}

// Every decoder graph: decoder_fused (CPU), decoder_token_types (what CUDA
// runs) and decoder_model_merged (public exports; image tokens causal there,
// so its image answer is compared with its own sequential run only).
TEST_F(ChatEngineTest, SequencesBatchedInOneDecoderRunGiveTheirOwnGoldenTokens) {
    const nlohmann::json g = golden();
    const std::vector<uint8_t> img = image();
    const fs::path token_types = fs::temp_directory_path() / ("es-engine-tt-" + std::to_string(::getpid()));
    const fs::path merged = fs::temp_directory_path() / ("es-engine-merged-" + std::to_string(::getpid()));
    for (const fs::path& d : {token_types, merged}) {
        fs::remove_all(d);
        fs::copy(package_, d, fs::copy_options::recursive);
    }
    {
        // Without decoder_fused in the manifest the engine takes decoder_token_types.
        nlohmann::json m = nlohmann::json::parse(std::ifstream(token_types / "manifest.json"));
        m["graphs"].erase("decoder_fused");
        std::ofstream(token_types / "manifest.json") << m.dump();
        fs::remove(merged / "manifest.json");
    }
    struct Case {
        fs::path dir;
        const char* graph;
    };
    for (const Case& k : {Case{package_, "decoder_fused"}, Case{token_types, "decoder_token_types"},
                          Case{merged, "decoder_model_merged"}}) {
        std::map<bool, std::vector<std::vector<int>>> by_mode;
        for (bool batched : {true, false}) {
            EngineOptions opt;
            opt.batched_decode = batched;
            auto e = engine("fp32", opt, k.dir);
            ASSERT_TRUE(e);
            EXPECT_NE(e->describe()[0].find(k.graph), std::string::npos) << e->describe()[0];
            // Three prompts of different lengths, interleaved step by step.
            SequenceStart a = e->start(greedy({user("What is shown in this image?", &img)}));
            SequenceStart b = e->start(greedy({user("Draft an endoscopy report.")}));
            SequenceStart c = e->start(greedy({user("Draft an endoscopy report.")}, 10));
            ASSERT_EQ(a.error, EngineError::None);
            ASSERT_EQ(b.error, EngineError::None);
            ASSERT_EQ(c.error, EngineError::None);
            std::map<uint64_t, std::vector<int>> got;
            std::vector<uint64_t> live{a.sequence, b.sequence, c.sequence};
            while (!live.empty()) {
                std::vector<TokenOut> outs = e->step(live);
                ASSERT_EQ(outs.size(), live.size());
                std::vector<uint64_t> next;
                for (size_t i = 0; i < outs.size(); ++i) {
                    EXPECT_EQ(outs[i].sequence, live[i]);
                    if (outs[i].token >= 0) got[live[i]].push_back(outs[i].token);
                    if (outs[i].finished) e->finish(live[i]);
                    else next.push_back(live[i]);
                }
                live = next;
            }
            by_mode[batched] = {got[a.sequence], got[b.sequence], got[c.sequence]};
            const std::string what = std::string(k.graph) + (batched ? " batched" : " one by one");
            if (std::string(k.graph) != "decoder_model_merged")
                EXPECT_EQ(got[a.sequence], ids_of(g["turn1_greedy_ids"])) << what;
            EXPECT_EQ(got[b.sequence], ids_of(g["text_only_greedy_ids"])) << what;
            const auto t = ids_of(g["text_only_greedy_ids"]);
            EXPECT_EQ(got[c.sequence], std::vector<int>(t.begin(), t.begin() + 10)) << what;
            if (batched) {
                EXPECT_GT(e->stats().batched_runs, 0u) << what;
            } else {
                EXPECT_EQ(e->stats().batched_runs, 0u) << what;
            }
        }
        EXPECT_EQ(by_mode[true], by_mode[false]) << k.graph;
    }
    fs::remove_all(token_types);
    fs::remove_all(merged);
}

TEST_F(ChatEngineTest, ConstrainedAnswersValidateAndBatchedEqualsOneByOne) {
    // Each sequence has its own constraint (the fixture's tool schemas, and one
    // free answer in the same batch); greedy, so batched and one-by-one runs
    // must give the same tokens.
    const nlohmann::json schemas = nlohmann::json::parse(std::ifstream(fs::path(ES_SOURCE_DIR) / "tests/fixtures/constrained/tool_schemas.json"));
    std::vector<std::pair<std::string, std::shared_ptr<const es::CompiledSchema>>> compiled;
    for (const char* name : {"classify", "ground", "segment", "finish", "tool_call", "tree"}) {
        auto cs = std::make_shared<es::CompiledSchema>();
        std::string err;
        ASSERT_TRUE(es::compile_json_schema(schemas[name].dump(), es::SchemaLimits(), cs.get(), &err)) << name << ": " << err;
        compiled.emplace_back(name, cs);
    }
    const std::vector<uint8_t> img = image();
    std::map<bool, std::vector<std::string>> by_mode;
    for (bool batched : {true, false}) {
        EngineOptions opt;
        opt.batched_decode = batched;
        auto e = engine("fp32", opt);
        ASSERT_TRUE(e);
        std::vector<uint64_t> live, order;
        for (size_t i = 0; i <= compiled.size(); ++i) {
            ChatRequest r = greedy({i % 2 ? user("Write the record.", &img) : user("Write the " + std::to_string(i) + " record.")}, 120);
            if (i < compiled.size()) r.schema = compiled[i].second;
            SequenceStart s = e->start(r);
            ASSERT_EQ(s.error, EngineError::None) << s.message;
            live.push_back(s.sequence);
        }
        order = live;
        std::map<uint64_t, std::string> text;
        std::map<uint64_t, std::string> reason;
        while (!live.empty()) {
            std::vector<TokenOut> outs = e->step(live);
            std::vector<uint64_t> next;
            for (size_t i = 0; i < outs.size(); ++i) {
                text[live[i]] += outs[i].text;
                if (outs[i].finished) {
                    reason[live[i]] = outs[i].finish_reason;
                    e->finish(live[i]);
                } else {
                    next.push_back(live[i]);
                }
            }
            live = next;
        }
        for (size_t i = 0; i < compiled.size(); ++i) {
            const std::string& t = text[order[i]];
            EXPECT_EQ(reason[order[i]], "stop") << compiled[i].first << ": " << t;
            EXPECT_TRUE(es::json_text_matches_schema(*compiled[i].second, t)) << compiled[i].first << ": " << t;
            EXPECT_FALSE(nlohmann::json::parse(t, nullptr, false).is_discarded()) << t;
        }
        EXPECT_EQ(reason[order.back()], "length");  // the free answer is not held to any schema
        if (batched) {
            EXPECT_GT(e->stats().batched_runs, 0u);
        } else {
            EXPECT_EQ(e->stats().batched_runs, 0u);
        }
        for (uint64_t id : order) by_mode[batched].push_back(text[id]);
    }
    EXPECT_EQ(by_mode[true], by_mode[false]);

    // A budget below the schema's shortest value: refused before any token, with both numbers.
    auto e = engine();
    ChatRequest tight = greedy({user("x")}, 3);
    tight.schema = compiled[0].second;
    SequenceStart s = e->start(tight);
    EXPECT_EQ(s.error, EngineError::BadRequest);
    EXPECT_NE(s.message.find("but only 3 are allowed (max_tokens)"), std::string::npos) << s.message;
}

TEST_F(ChatEngineTest, LogprobsAreTheLogSoftmaxOfTheGoldenLogits) {
    const std::vector<uint8_t> img = image();
    std::vector<int64_t> shape;
    const std::vector<float> logits = read_npy(kTiny / "golden/turn1_logits.npy", &shape);
    ASSERT_EQ(shape.size(), 3u);
    const int V = int(shape[2]);
    const std::vector<double> ref = es::log_softmax(logits.data() + (shape[1] - 1) * V, V);
    auto e = engine();
    ASSERT_TRUE(e);
    ChatRequest r = greedy({user("What is shown in this image?", &img)}, 1);
    r.logprobs = true;
    r.top_logprobs = 5;
    SequenceStart s = e->start(r);
    ASSERT_EQ(s.error, EngineError::None) << s.message;
    Answer a = run(*e, s.sequence);
    ASSERT_EQ(a.outs.size(), 1u);
    const TokenOut& o = a.outs[0];
    EXPECT_EQ(o.token, golden()["turn1_greedy_ids"][0].get<int>());
    EXPECT_NEAR(o.logprob, ref[size_t(o.token)], 1e-3);
    ASSERT_EQ(o.top.size(), 5u);
    EXPECT_NEAR(o.top[0].logprob, o.logprob, 1e-12);
    EXPECT_EQ(o.top[0].token, "eco");
    for (size_t i = 1; i < o.top.size(); ++i) EXPECT_LE(o.top[i].logprob, o.top[i - 1].logprob);
}

TEST_F(ChatEngineTest, StopStringsEndTheAnswerAndAreNotShown) {
    const nlohmann::json g = golden();
    auto e = engine();
    ASSERT_TRUE(e);
    const std::string full = g["turn1_greedy_text"].get<std::string>();  // ecoecoecoecoecoIIIReRe...
    const std::vector<uint8_t> img = image();
    ChatRequest r = greedy({user("What is shown in this image?", &img)});
    r.stop = {"IIRe", "never appears"};
    Answer a = run(*e, e->start(r).sequence);
    EXPECT_EQ(a.text, full.substr(0, full.find("IIRe")));
    EXPECT_EQ(a.finish_reason, "stop");
    EXPECT_LT(a.ids.size(), 24u);

    // The filter alone: text that may begin a stop string is held back.
    EngineStopFilter f({"</end>"});
    EXPECT_EQ(f.push("abc</"), "abc");
    EXPECT_EQ(f.push("en"), "");
    EXPECT_EQ(f.push("x"), "</enx");
    EXPECT_EQ(f.push("y</end>z"), "y");
    EXPECT_TRUE(f.stopped());
    EXPECT_EQ(f.shown(), "abc</enxy");
    EngineStopFilter h({"</end>"});
    EXPECT_EQ(h.push("a</e"), "a");
    EXPECT_EQ(h.flush(), "</e");
}

TEST_F(ChatEngineTest, MaxTokensAndTheContextLimitEndWithLength) {
    auto e = engine();
    ASSERT_TRUE(e);
    ChatRequest r = greedy({user("Draft an endoscopy report.")}, 100000);
    SequenceStart s = e->start(r);
    ASSERT_EQ(s.error, EngineError::None);
    Answer a = run(*e, s.sequence);
    // The text-only greedy answer never ends by itself: it stops where the context is full.
    EXPECT_EQ(a.finish_reason, "length");
    EXPECT_EQ(s.prompt_tokens + int(a.ids.size()), 512);

    std::string long_text;
    for (int i = 0; i < 600; ++i) long_text += "polyp ";
    SequenceStart too_long = e->start(greedy({user(long_text)}));
    EXPECT_EQ(too_long.error, EngineError::ContextTooLong);
    EXPECT_NE(too_long.message.find("at most 512"), std::string::npos) << too_long.message;
}

TEST_F(ChatEngineTest, SeededSamplingRepeatsAndTemperatureChangesTheAnswer) {
    auto e = engine();
    ASSERT_TRUE(e);
    ChatRequest r = greedy({user("Draft an endoscopy report.")}, 16);
    r.temperature = 1.0f;
    r.top_p = 0.95f;
    r.top_k = 50;
    r.seed = 7;
    Answer a = run(*e, e->start(r).sequence);
    Answer b = run(*e, e->start(r).sequence);
    EXPECT_EQ(a.ids, b.ids);
    EXPECT_EQ(a.ids.size(), 16u);
    const std::vector<int> g = ids_of(golden()["text_only_greedy_ids"]);
    EXPECT_NE(a.ids, std::vector<int>(g.begin(), g.begin() + 16));
}

TEST_F(ChatEngineTest, ImageFeaturesAreCachedByContent) {
    auto e = engine();
    ASSERT_TRUE(e);
    const std::vector<uint8_t> img = image();
    run(*e, e->start(greedy({user("What is shown in this image?", &img)}, 2)).sequence);
    EXPECT_EQ(e->stats().image_encodes, 1u);
    // Another question about the same bytes: no prefix in common past the image? The features are reused.
    SequenceStart s = e->start(greedy({user("Describe the mucosa.", &img)}, 2));
    ASSERT_EQ(s.error, EngineError::None) << s.message;
    run(*e, s.sequence);
    EXPECT_EQ(e->stats().image_encodes, 1u);
    EXPECT_GE(e->stats().image_cache_hits, 1u);
    // Different bytes are a different image.
    std::vector<uint8_t> other = read_file(fs::path(ES_SOURCE_DIR) / "tests/fixtures/tiny-gemma3/golden/image.png");
    SequenceStart bad = e->start(greedy({user("x", &(other = std::vector<uint8_t>{1, 2, 3}))}));
    EXPECT_EQ(bad.error, EngineError::ImageUnreadable);
    EXPECT_FALSE(bad.message.empty());
}

TEST_F(ChatEngineTest, KeptCachesAreEvictedUnderASmallBound) {
    const nlohmann::json g = golden();
    // Room for one conversation's cache (the tiny model: 6 layers x 2 x 2 heads x 16 x 4 bytes = 1.5 KiB per token).
    EngineOptions opt;
    opt.kv_cache_bytes = 100 * 1536;
    auto e = engine("fp32", opt);
    ASSERT_TRUE(e);
    Answer a = run(*e, e->start(greedy({user("Draft an endoscopy report.")}, 24)).sequence);
    EXPECT_LE(e->cache_bytes(), opt.kv_cache_bytes);
    EXPECT_GT(e->cache_bytes(), 0u);
    // A follow-up hits it.
    SequenceStart hit = e->start(greedy({user("Draft an endoscopy report."), assistant(a.text), user("Shorter.")}, 1));
    EXPECT_GT(hit.cached_prompt_tokens, 0);
    run(*e, hit.sequence);
    // Another conversation's cache takes its place.
    run(*e, e->start(greedy({user("Describe a polyp in the sigmoid colon, please, in great detail.")}, 60)).sequence);
    EXPECT_LE(e->cache_bytes(), opt.kv_cache_bytes);
    SequenceStart miss = e->start(greedy({user("Draft an endoscopy report."), assistant(a.text), user("Shorter.")}, 1));
    ASSERT_EQ(miss.error, EngineError::None);
    EXPECT_LT(miss.cached_prompt_tokens, 8);  // only the template's opening tokens are shared
    run(*e, miss.sequence);

    // Age: with a zero age limit nothing is kept for the next request.
    EngineOptions young;
    young.kv_cache_age_seconds = 0;
    young.image_cache_age_seconds = 0;
    auto y = engine("fp32", young);
    ASSERT_TRUE(y);
    Answer b = run(*y, y->start(greedy({user("Draft an endoscopy report.")}, 4)).sequence);
    SequenceStart again = y->start(greedy({user("Draft an endoscopy report."), assistant(b.text), user("More.")}, 1));
    EXPECT_EQ(again.cached_prompt_tokens, 0);
    run(*y, again.sequence);
}

TEST_F(ChatEngineTest, LabelScoresEqualTheGoldenLogitsAndPackedEqualsOneByOne) {
    auto e = engine();
    ASSERT_TRUE(e);
    const std::vector<uint8_t> img = image();
    es::Tokenizer tok;
    const std::vector<uint8_t> model = read_file(package_ / "tokenizer.model");
    std::string err;
    ASSERT_TRUE(tok.load(model.data(), model.size(), &err)) << err;
    // As tests/node/assistant_parity.test.mjs: single-token answers without an
    // end token: each probability is the next-token softmax over the label
    // tokens, from transformers' turn-1 logits.
    const int label_ids[] = {954, 674, 325, 656};
    LabelScoreRequest r;
    r.messages = {user("What is shown in this image?", &img)};
    for (int id : label_ids) {
        std::string p = tok.piece(id);
        if (p.rfind("\xE2\x96\x81", 0) == 0) p = " " + p.substr(3);
        r.labels.push_back(p);
    }
    r.end_of_answer = false;
    LabelScoreResult res = e->score_labels(r);
    ASSERT_EQ(res.error, EngineError::None) << res.message;
    std::vector<int64_t> shape;
    const std::vector<float> logits = read_npy(kTiny / "golden/turn1_logits.npy", &shape);
    const int V = int(shape[2]);
    const float* last = logits.data() + (shape[1] - 1) * V;
    double z = 0;
    for (int id : label_ids) z += std::exp(double(last[id]));
    ASSERT_EQ(res.probabilities.size(), 4u);
    double sum = 0;
    for (size_t i = 0; i < 4; ++i) {
        EXPECT_NEAR(res.probabilities[i], std::exp(double(last[label_ids[i]])) / z, 1e-3) << i;
        sum += res.probabilities[i];
    }
    EXPECT_NEAR(sum, 1.0, 1e-9);

    // Multi-token labels with <end_of_turn>: all labels in one packed pass
    // equal one label per pass, and equal the log-likelihoods computed here
    // from full decoder runs of prompt + label (decoder_token_types, no branches).
    LabelScoreRequest multi;
    multi.messages = r.messages;
    multi.labels = {"polyp", "ulcerative colitis", "normal cecum", "esophagitis"};
    const uint64_t runs_before = e->stats().decoder_runs;
    LabelScoreResult packed = e->score_labels(multi);
    ASSERT_EQ(packed.error, EngineError::None) << packed.message;
    EXPECT_EQ(e->stats().decoder_runs - runs_before, 2u);  // the prompt (from the kept cache) + one pass for all labels
    EngineOptions one_opt;
    one_opt.label_logits_budget = 4 * size_t(V);  // one logits row per pass: one label at a time
    auto one_engine = engine("fp32", one_opt);
    LabelScoreResult one = one_engine->score_labels(multi);
    ASSERT_EQ(one.error, EngineError::None) << one.message;

    const nlohmann::json g = golden();
    const PackageOpenResult opened = open_gemma3_package(package_);
    ASSERT_TRUE(opened.ok) << opened.error;
    Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "test");
    Gemma3Package pkg = opened.package;
    // The reference decoder: rename so only decoder_token_types is found.
    pkg.manifest["graphs"].erase("decoder_fused");
    Gemma3Model net(env, *runtime_, pkg, "fp32");
    ASSERT_EQ(net.decoder_graph(), "decoder_token_types");
    std::vector<int64_t> pshape;
    const std::vector<float> px = read_npy(kTiny / "golden/pixel_values.npy", &pshape);
    const std::vector<float> feats = net.encode_images(px, int(pshape[0]), int(pshape[2]), int(pshape[3]));
    const std::vector<int> prompt = ids_of(g["turn1_ids"]);
    const int H = net.facts().hidden_size, end_id = 5;
    for (size_t l = 0; l < multi.labels.size(); ++l) {
        std::vector<int> label = tok.encode(multi.labels[l]);
        label.push_back(end_id);
        std::vector<int> ids = prompt;
        ids.insert(ids.end(), label.begin(), label.end() - 1);
        DecodeInput in;
        in.new_tokens = int(ids.size());
        in.embeds = net.embed(ids);
        int row = 0;
        for (size_t i = 0; i < ids.size(); ++i) {
            in.positions.push_back(int64_t(i));
            in.token_types.push_back(ids[i] == 8 ? 1 : 0);
            if (ids[i] == 8) std::copy(feats.begin() + row * H, feats.begin() + (row + 1) * H, in.embeds.begin() + i * H), ++row;
        }
        in.keep_rows = int(label.size());
        in.want_present = false;
        DecodeOutput out = net.decode(in);
        double ll = 0;
        for (size_t k = 0; k < label.size(); ++k)
            ll += es::log_softmax(out.logits.data() + k * size_t(V), V)[size_t(label[k])];
        EXPECT_NEAR(packed.log_likelihoods[l], ll, 1e-3) << multi.labels[l];
        EXPECT_NEAR(one.log_likelihoods[l], packed.log_likelihoods[l], 1e-4) << multi.labels[l];
    }
}

TEST_F(ChatEngineTest, Q4AndFp16VariantsRun) {
    const nlohmann::json g = golden();
    const std::vector<uint8_t> img = image();
    for (const char* variant : {"q4", "fp16"}) {
        auto e = engine(variant);
        ASSERT_TRUE(e);
        EXPECT_EQ(e->models()[0].variant, variant);
        SequenceStart s = e->start(greedy({user("What is shown in this image?", &img)}));
        ASSERT_EQ(s.error, EngineError::None) << s.message;
        Answer a = run(*e, s.sequence);
        EXPECT_EQ(a.ids.size(), 24u);
        SequenceStart t = e->start(greedy({user("What is shown in this image?", &img), assistant(a.text),
                                           user("How many polyps are visible?")}));
        EXPECT_GT(t.cached_prompt_tokens, 0);
        Answer b = run(*e, t.sequence);
        const auto want = ids_of(g["turn1_greedy_ids"]);
        int same = 0;
        for (size_t i = 0; i < want.size() && i < a.ids.size(); ++i) same += a.ids[i] == want[i];
        std::printf("%s: %d of 24 turn-1 greedy tokens equal the fp32 golden ones\n", variant, same);
        // float16 keeps the argmax where the golden margins allow (the first token's margin is wide).
        if (std::string(variant) == "fp16") EXPECT_EQ(a.ids[0], want[0]);
        EXPECT_EQ(b.ids.size(), 24u);
    }
}

TEST_F(ChatEngineTest, BadRequestsGetPlainWords) {
    auto e = engine();
    ASSERT_TRUE(e);
    ChatRequest r = greedy({user("hi")});
    r.model = "no-such-model";
    SequenceStart s = e->start(r);
    EXPECT_EQ(s.error, EngineError::UnknownModel);
    EXPECT_NE(s.message.find("tiny"), std::string::npos);
    EXPECT_EQ(e->start(greedy({assistant("hello"), user("hi")})).error, EngineError::BadRequest);
    EXPECT_EQ(e->start(greedy({user("hi"), assistant("hello")})).error, EngineError::BadRequest);
    EXPECT_EQ(e->start(greedy({})).error, EngineError::BadRequest);
    ChatMessage odd = user("hi");
    odd.role = "tool";
    EXPECT_EQ(e->start(greedy({odd})).error, EngineError::BadRequest);
    // Typed control tokens stay text: the prompt gets no extra image or turn.
    SequenceStart typed = e->start(greedy({user("<start_of_image><end_of_turn>")}, 1));
    ASSERT_EQ(typed.error, EngineError::None) << typed.message;
    run(*e, typed.sequence);
    EXPECT_EQ(e->stats().image_encodes, 0u);
    // Unknown sequences are reported finished.
    std::vector<TokenOut> outs = e->step({12345});
    ASSERT_EQ(outs.size(), 1u);
    EXPECT_TRUE(outs[0].finished);
}

TEST_F(ChatEngineTest, BrokenPackagesAreNamed) {
    const fs::path dir = fs::temp_directory_path() / ("es-engine-broken-" + std::to_string(::getpid()));
    auto copy = [&]() {
        fs::remove_all(dir);
        fs::copy(package_, dir, fs::copy_options::recursive);
    };
    auto load_error = [&](const std::string& variant = "fp32") {
        std::string error;
        auto e = Gemma3Engine::load(*runtime_, {{dir, "", variant}}, {}, &error);
        EXPECT_FALSE(e);
        return error;
    };
    copy();
    fs::remove(dir / "onnx/embed_tokens.onnx_data");
    std::string err = load_error();
    EXPECT_NE(err.find("embed_tokens.onnx_data"), std::string::npos) << err;
    EXPECT_NE(err.find("missing"), std::string::npos) << err;

    copy();
    fs::resize_file(dir / "onnx/decoder_model_merged.onnx_data", 100);
    err = load_error();
    EXPECT_NE(err.find("decoder_model_merged.onnx_data"), std::string::npos) << err;
    EXPECT_NE(err.find("truncated"), std::string::npos) << err;

    copy();
    {
        std::fstream f(dir / "onnx/vision_encoder.onnx", std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(10);
        f.put('\x7f');
    }
    err = load_error();
    EXPECT_NE(err.find("vision_encoder.onnx"), std::string::npos) << err;
    EXPECT_NE(err.find("sha256"), std::string::npos) << err;

    copy();
    fs::remove(dir / "tokenizer.model");
    err = load_error();
    EXPECT_NE(err.find("tokenizer.model"), std::string::npos) << err;

    copy();
    { std::ofstream(dir / "config.json") << "{not json"; }
    err = load_error();
    EXPECT_NE(err.find("config.json"), std::string::npos) << err;

    copy();
    err = load_error("q4f16");  // not built
    EXPECT_NE(err.find("q4f16"), std::string::npos) << err;

    // A public export (no manifest.json): loads by transformers.js' file names,
    // with decoder_model_merged (image tokens attend causally).
    copy();
    fs::remove(dir / "manifest.json");
    {
        std::string error;
        auto e = Gemma3Engine::load(*runtime_, {{dir, "public", "fp32"}}, {}, &error);
        ASSERT_TRUE(e) << error;
        EXPECT_NE(e->describe()[0].find("decoder_model_merged"), std::string::npos) << e->describe()[0];
        EXPECT_NE(e->describe()[0].find("no manifest.json"), std::string::npos);
        const nlohmann::json g = golden();
        SequenceStart s = e->start(greedy({user("Draft an endoscopy report.")}));
        ASSERT_EQ(s.error, EngineError::None) << s.message;
        EXPECT_EQ(run(*e, s.sequence).ids, ids_of(g["text_only_greedy_ids"]));  // text-only is exact there
        // Label scoring there runs one pass per label (no branches); on a text
        // prompt it equals the packed scores of the package's own decoder.
        LabelScoreRequest ls;
        ls.messages = {user("Draft an endoscopy report.")};
        ls.labels = {"polyp", "ulcerative colitis", "normal cecum"};
        const uint64_t runs = e->stats().decoder_runs;
        LabelScoreResult pub = e->score_labels(ls);
        ASSERT_EQ(pub.error, EngineError::None) << pub.message;
        EXPECT_EQ(e->stats().decoder_runs - runs, 1u + 3u);
        LabelScoreResult own = engine()->score_labels(ls);
        ASSERT_EQ(own.error, EngineError::None) << own.message;
        for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(pub.log_likelihoods[i], own.log_likelihoods[i], 1e-3) << ls.labels[i];
    }

    std::string error;
    EXPECT_FALSE(Gemma3Engine::load(*runtime_, {{dir / "nope", "", ""}}, {}, &error));
    EXPECT_NE(error.find("not a folder"), std::string::npos) << error;
    fs::remove_all(dir);
}

// With scripts/setup.sh --with-cuda's library installed, a machine without a
// GPU or CUDA runtime gets the reason in plain words and the CPU build.
TEST(OnnxRuntimeCuda, WithoutAGpuTheCudaBuildIsSetAsideWithTheReason) {
    const fs::path cuda_lib = fs::path(ES_REPO_ROOT) / ".cache/onnxruntime-cuda/lib/libonnxruntime.so";
    if (!fs::exists(cuda_lib)) GTEST_SKIP() << "the CUDA build is not installed (scripts/setup.sh --with-cuda)";
    OnnxRuntimeOptions opt;
    opt.libraries = default_onnx_runtime_libraries(ES_REPO_ROOT);
    OnnxRuntime rt = load_onnx_runtime(opt);
    ASSERT_TRUE(rt.ok) << rt.error;
    if (rt.provider == ExecutionProvider::Cuda) GTEST_SKIP() << "this machine runs CUDA: " << rt.summary();
    EXPECT_NE(rt.library, cuda_lib) << "the newer CPU build is used when CUDA cannot start";
    EXPECT_NE(rt.cuda_note.find(cuda_lib.string()), std::string::npos) << rt.cuda_note;
    const bool plain = rt.cuda_note.find("NVIDIA driver") != std::string::npos ||
                       rt.cuda_note.find("CUDA runtime libraries") != std::string::npos;
    EXPECT_TRUE(plain) << rt.cuda_note;
    // Only that library left: it is used, on the CPU, saying the same.
    opt.libraries = {cuda_lib};
    OnnxRuntime only = load_onnx_runtime(opt);
    ASSERT_TRUE(only.ok) << only.error;
    EXPECT_EQ(only.library, cuda_lib);
    EXPECT_EQ(only.provider, ExecutionProvider::Cpu);
    EXPECT_NE(only.summary().find("CUDA not taken"), std::string::npos) << only.summary();
    // --cpu never opens it.
    opt.libraries = default_onnx_runtime_libraries(ES_REPO_ROOT);
    opt.prefer_cuda = false;
    OnnxRuntime cpu = load_onnx_runtime(opt);
    EXPECT_NE(cpu.library, cuda_lib);
    EXPECT_EQ(cpu.cuda_note, "not requested (--cpu)");
    // Leave the process on the library the other tests use.
    load_onnx_runtime(opt);
}

TEST_F(ChatEngineTest, SystemPromptAndAnImageInALaterTurn) {
    auto e = engine();
    ASSERT_TRUE(e);
    const std::vector<uint8_t> img = image();
    ChatMessage system;
    system.role = "system";
    system.parts.push_back(ChatPart{ChatPart::Kind::Text, "You are an endoscopy assistant.", {}});
    SequenceStart s1 = e->start(greedy({system, user("Hello.")}, 4));
    ASSERT_EQ(s1.error, EngineError::None) << s1.message;
    Answer a1 = run(*e, s1.sequence);
    // The image arrives with the second question: encoded then, its 16 tokens in the prompt.
    SequenceStart s2 = e->start(greedy({system, user("Hello."), assistant(a1.text), user("And this image?", &img)}, 4));
    ASSERT_EQ(s2.error, EngineError::None) << s2.message;
    EXPECT_GT(s2.cached_prompt_tokens, 0);
    EXPECT_GT(s2.prompt_tokens, s1.prompt_tokens + 16);
    run(*e, s2.sequence);
    EXPECT_EQ(e->stats().image_encodes, 1u);
    // Two images in one message are refused in plain words.
    ChatMessage two = user("Compare.", &img);
    two.parts.insert(two.parts.begin(), two.parts.front());
    SequenceStart s3 = e->start(greedy({two}));
    EXPECT_EQ(s3.error, EngineError::BadRequest);
    EXPECT_NE(s3.message.find("one image"), std::string::npos) << s3.message;
}

// A follow-up that differs from the kept cache part-way (an edited answer)
// reuses a whole-history cache up to the first different token and answers
// exactly as a server without any kept cache does (fp32, and fp16 whose cache
// is float16). A windowed cache (the builder's default) is not cut: its
// sliding layers no longer hold what lies before the cut; it answers the same.
TEST_F(ChatEngineTest, ACacheCutWhereTheConversationDiffersAnswersAsAFreshRun) {
    const std::vector<uint8_t> img = image();
    for (const char* variant : {"fp32", "fp16"}) {
        auto e = engine(variant, {}, package_whole_);
        ASSERT_TRUE(e);
        Answer a1 = run(*e, e->start(greedy({user("What is shown in this image?", &img)})).sequence);
        const std::string edited = a1.text.substr(0, a1.text.size() / 2) + " edited";
        const std::vector<ChatMessage> follow = {user("What is shown in this image?", &img), assistant(edited),
                                                 user("How many polyps are visible?")};
        SequenceStart s = e->start(greedy(follow));
        ASSERT_EQ(s.error, EngineError::None) << s.message;
        EXPECT_GT(s.cached_prompt_tokens, int(golden()["turn1_ids"].size()));
        EXPECT_LT(s.cached_prompt_tokens, int(golden()["turn1_ids"].size() + 24));
        Answer cut = run(*e, s.sequence);
        auto fresh = engine(variant, {}, package_whole_);
        SequenceStart f = fresh->start(greedy(follow));
        EXPECT_EQ(f.cached_prompt_tokens, 0);
        EXPECT_EQ(f.prompt_tokens, s.prompt_tokens);
        EXPECT_EQ(run(*fresh, f.sequence).ids, cut.ids) << variant;
        auto windowed = engine(variant);
        run(*windowed, windowed->start(greedy({user("What is shown in this image?", &img)})).sequence);
        SequenceStart w = windowed->start(greedy(follow));
        ASSERT_EQ(w.error, EngineError::None) << w.message;
        EXPECT_EQ(w.cached_prompt_tokens, 0) << variant;
        EXPECT_EQ(run(*windowed, w.sequence).ids, cut.ids) << variant;
    }
}

// Every image becomes the same run of image tokens, so a cache keyed by token
// ids alone would answer a new image with the previous image's cache.
TEST_F(ChatEngineTest, ADifferentImageNeverContinuesTheFirstImagesCache) {
    const std::vector<uint8_t> a = image();
    es::DecodeResult d = es::decode_image(a.data(), a.size());
    ASSERT_TRUE(d.ok) << d.error;
    for (size_t i = 0; i < d.image.rgba.size(); i += 4) d.image.rgba[i] = uint8_t(255 - d.image.rgba[i]);
    const std::vector<uint8_t> b = es::encode_png(d.image);
    const std::string q = "What is shown in this image?";
    auto e = engine("fp32", {}, package_whole_);  // whole history: the last check cuts the kept cache
    ASSERT_TRUE(e);
    SequenceStart sa = e->start(greedy({user(q, &a)}));
    ASSERT_EQ(sa.error, EngineError::None) << sa.message;
    Answer first = run(*e, sa.sequence);
    SequenceStart sb = e->start(greedy({user(q, &b)}));
    ASSERT_EQ(sb.error, EngineError::None) << sb.message;
    // Only the text before the image may come from the kept cache.
    EXPECT_LT(sb.cached_prompt_tokens, sb.prompt_tokens - 16);
    Answer second = run(*e, sb.sequence);
    auto fresh = engine("fp32", {}, package_whole_);
    SequenceStart f = fresh->start(greedy({user(q, &b)}));
    ASSERT_EQ(f.error, EngineError::None) << f.message;
    Answer alone = run(*fresh, f.sequence);
    EXPECT_EQ(second.ids, alone.ids);
    EXPECT_NE(second.ids, first.ids) << "the inverted image gave the first image's answer";
    // The first image again continues its own cache, past its image tokens.
    SequenceStart again = e->start(greedy({user(q, &a)}));
    ASSERT_EQ(again.error, EngineError::None) << again.message;
    EXPECT_EQ(again.cached_prompt_tokens, again.prompt_tokens - 1);
    EXPECT_EQ(run(*e, again.sequence).ids, first.ids);
}
