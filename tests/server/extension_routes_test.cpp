// The EndoScribe extension routes' own logic over a scripted chat engine (the
// real engine's answers are checked against the app's in
// tests/node/server_extensions.test.mjs): classify passes the prompt and
// labels through and the engine's refusals on as plain-words errors; report
// drafting asks only empty fields, sends each question's image, applies the
// best option as an unaccepted AI value, leaves user values alone, and says
// which answers were rejected and why.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "api/classify_route.h"
#include "api/endoscribe_routes.h"
#include "app_server.h"
#include "api/report_draft_route.h"
#include "case/case_bundle.h"
#include "encoding/base64.h"
#include "image/png_encode.h"

using namespace es;
using namespace es::server;
using json = nlohmann::json;

namespace {

// Label i scores -(i+1) unless a label is listed in `favour`; generation
// answers a scripted text for prompts containing a key.
class ScriptedEngine : public ChatEngine {
public:
    std::vector<LabelScoreRequest> scored;
    std::vector<ChatRequest> started;
    std::map<std::string, std::string> answers;  // prompt fragment -> answer text
    std::string favour;
    int active = 0;

    std::vector<ModelInfo> models() const override { return {ModelInfo{"scripted", {"text", "image"}, "fp32", "cpu", 512, 64}}; }
    SequenceStart start(const ChatRequest& r) override {
        started.push_back(r);
        std::string prompt = r.messages.back().parts.back().text;
        pending_ = "no idea";
        for (const auto& [key, text] : answers)
            if (prompt.find(key) != std::string::npos) pending_ = text;
        pos_ = 0;
        ++active;
        SequenceStart s;
        s.sequence = 7;
        s.prompt_tokens = 20;
        return s;
    }
    std::vector<TokenOut> step(const std::vector<uint64_t>& seqs) override {
        TokenOut t;
        t.sequence = seqs.at(0);
        if (pos_ < pending_.size()) {
            t.text = pending_.substr(pos_, 1);  // one character per token
            ++pos_;
        } else {
            t.finished = true;
            t.finish_reason = "stop";
            t.text = "";
        }
        return {t};
    }
    void finish(uint64_t) override { --active; }
    LabelScoreResult score_labels(const LabelScoreRequest& r) override {
        scored.push_back(r);
        LabelScoreResult out;
        out.prompt_tokens = 30;
        double sum = 0;
        for (size_t i = 0; i < r.labels.size(); ++i) {
            out.log_likelihoods.push_back(r.labels[i] == favour ? -0.1 : -double(i + 1));
            sum += std::exp(out.log_likelihoods.back());
        }
        for (double l : out.log_likelihoods) out.probabilities.push_back(std::exp(l) / sum);
        return out;
    }
    int max_batch() const override { return 1; }
    size_t cache_bytes() const override { return 0; }

private:
    std::string pending_;
    size_t pos_ = 0;
};

RunEngineJob runner(ScriptedEngine& engine) {
    return [&engine](const std::string& model, EngineJob job) -> std::optional<ExtensionReply> {
        if (!model.empty() && model != "scripted")
            return extension_error(404, "no model " + model, "model", "model_not_found");
        job(engine, "scripted");
        return std::nullopt;
    };
}

std::vector<uint8_t> tiny_png() {
    Image im;
    im.width = im.height = 2;
    im.rgba.assign(16, 200);
    return encode_png(im);
}

std::string image_url() { return "data:image/png;base64," + base64_encode(tiny_png()); }

const char* kUser = R"("source": "user", "accepted": true, "set_by": "Dr A", "set_at": "2026-11-30T04:00:00Z")";

// A colonoscopy report with one polyp (its size entered by the user) on a.png.
std::string report_json() {
    return std::string(R"({"format": "endoscribe-report", "format_version": 1, "status": "draft", "version": 1,
      "header": {"procedure": {"value": "colonoscopy", )") + kUser + R"(}},
      "findings": [{"id": "F1", "term": {"value": "polyp", )" + kUser + R"(},
                    "size_mm": {"value": 6, )" + kUser + R"(},
                    "evidence": {"value": [{"image": "a.png", "annotation_id": 0}], )" + kUser + R"(}}]})";
}

std::unique_ptr<ReportVocabulary> vocab() {
    std::string error;
    auto v = load_report_vocabulary_folder(std::string(ES_SOURCE_DIR) + "/models/report", &error);
    EXPECT_TRUE(v) << error;
    return v;
}

}  // namespace

TEST(ClassifyRoute, ScoresTheLabelsOnTheEngineAndPassesRefusalsOn) {
    ScriptedEngine engine;
    engine.favour = "normal";
    json body = {{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}, {"image_url", {{"url", image_url()}}}},
                                                                 {{"type", "text"}, {"text", "What is this?"}}}}}}},
                 {"labels", {"polyp", "normal", "ulcer"}}};
    ExtensionReply r = classify_route(runner(engine), body.dump());
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body["object"], "endoscribe.classification");
    EXPECT_EQ(r.body["model"], "scripted");
    ASSERT_EQ(engine.scored.size(), 1u);
    EXPECT_EQ(engine.scored[0].labels, (std::vector<std::string>{"polyp", "normal", "ulcer"}));
    ASSERT_EQ(engine.scored[0].messages.size(), 1u);
    ASSERT_EQ(engine.scored[0].messages[0].parts.size(), 2u);
    EXPECT_EQ(engine.scored[0].messages[0].parts[0].kind, ChatPart::Kind::Image);
    EXPECT_EQ(engine.scored[0].messages[0].parts[0].image_bytes, tiny_png());
    const auto p = r.body["probabilities"].get<std::vector<double>>();
    ASSERT_EQ(p.size(), 3u);
    EXPECT_GT(p[1], p[0]);
    EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-12);

    body["model"] = "other";
    r = classify_route(runner(engine), body.dump());
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.body["error"]["code"], "model_not_found");

    body.erase("model");
    body["labels"] = {"polyp"};
    r = classify_route(runner(engine), body.dump());
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body["error"]["param"], "labels");
    body["labels"] = {"polyp", "polyp"};
    EXPECT_NE(classify_route(runner(engine), body.dump()).body["error"]["message"].get<std::string>().find("listed twice"),
              std::string::npos);

    RunEngineJob busy = [](const std::string&, EngineJob) -> std::optional<ExtensionReply> {
        ExtensionReply q = extension_error(429, "the server is busy; try again in a few seconds");
        q.retry_after_s = 3;
        return q;
    };
    body["labels"] = {"polyp", "normal"};
    r = classify_route(busy, body.dump());
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.retry_after_s, 3);
    EXPECT_EQ(r.body["error"]["type"], "rate_limit_error");
    EXPECT_EQ(engine.scored.size(), 1u);  // refused requests never reached the engine
}

TEST(ReportDraftRoute, FillsOnlyEmptyFieldsWithUnacceptedAiValues) {
    auto v = vocab();
    ASSERT_TRUE(v);
    ScriptedEngine engine;
    engine.favour = "Sigmoid colon";
    engine.answers = {{"millimetres", "about 9 mm"}, {"centimetres", "25 cm"}, {"how many", "1"}};
    const std::string bundle = write_case_bundle(make_annotation_document(nullptr, {}), {{"a.png", tiny_png()}}, report_json());
    ASSERT_FALSE(bundle.empty());
    json body = {{"bundle", json::parse(bundle)}, {"now", "2026-11-30T06:00:00Z"}};
    ExtensionReply r = report_draft_route(runner(engine), v.get(), body.dump());
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body["object"], "endoscribe.report_draft");
    std::set<std::string> asked;
    for (const json& q : r.body["questions"]) asked.insert(q["path"].get<std::string>());
    EXPECT_FALSE(asked.count("findings[0].size_mm"));  // the user's value: never asked
    EXPECT_FALSE(asked.count("findings[0].term"));
    ASSERT_TRUE(asked.count("findings[0].location_segment")) << r.body["questions"].dump();
    ASSERT_TRUE(asked.count("findings[0].paris"));
    // Image questions carry the finding's evidence image, as the app's do.
    bool image_sent = false;
    for (const auto& s : engine.scored)
        for (const auto& part : s.messages.back().parts) image_sent |= part.kind == ChatPart::Kind::Image && part.image_bytes == tiny_png();
    EXPECT_TRUE(image_sent);
    EXPECT_EQ(engine.active, 0);  // every generation finished
    const json& f = r.body["report"]["findings"][0];
    EXPECT_EQ(f["size_mm"]["value"], 6);
    EXPECT_EQ(f["size_mm"]["source"], "user");
    EXPECT_EQ(f["location_segment"]["value"], "sigmoid-colon");
    EXPECT_EQ(f["location_segment"]["source"], "ai");
    EXPECT_EQ(f["location_segment"]["accepted"], false);
    EXPECT_EQ(f["location_segment"]["set_by"], "scripted");
    EXPECT_EQ(f["location_segment"]["set_at"], "2026-11-30T06:00:00Z");
    EXPECT_GT(f["location_segment"]["probability"].get<double>(), 0.5);
    if (asked.count("findings[0].distance_cm")) EXPECT_EQ(f["distance_cm"]["value"], 25);
    // Answers outside a field's limits are rejected with a reason, not clamped.
    EXPECT_GT(r.body["usage"]["prompt_tokens"].get<long>(), 0);
    for (const json& j : r.body["outcome"]["rejected"]) EXPECT_FALSE(j["reason"].get<std::string>().empty());

    // The image missing from the request: its questions say so; the rest are drafted.
    json apart = {{"report", json::parse(report_json())}, {"images", json::object()}};
    r = report_draft_route(runner(engine), v.get(), apart.dump());
    ASSERT_EQ(r.status, 200) << r.body.dump();
    bool said = false;
    for (const json& a : r.body["answers"])
        said |= a.contains("error") && a["error"].get<std::string>().find("a.png is not in the request") != std::string::npos;
    EXPECT_TRUE(said) << r.body["answers"].dump();
}

TEST(ReportDraftRoute, RefusesWhatItCannotDraft) {
    auto v = vocab();
    ScriptedEngine engine;
    ExtensionReply r = report_draft_route(runner(engine), v.get(), "[1, 2");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body["error"]["type"], "invalid_request_error");
    r = report_draft_route(runner(engine), v.get(), json{{"report", {{"findings", {{{"id", "F1"}, {"size_mm", -3}}}}}}}.dump());
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body["error"]["detail"].get<std::string>().find("size_mm"), std::string::npos) << r.body.dump();
    const std::string no_report = write_case_bundle(make_annotation_document(nullptr, {}), {{"a.png", tiny_png()}});
    r = report_draft_route(runner(engine), v.get(), json{{"bundle", json::parse(no_report)}}.dump());
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body["error"]["message"].get<std::string>().find("has no report"), std::string::npos);
    r = report_draft_route(runner(engine), nullptr, json{{"report", json::object()}}.dump());
    EXPECT_EQ(r.status, 503);
    EXPECT_TRUE(engine.scored.empty() && engine.started.empty());
}

// Through HTTP: the routes sit on the inference API (scheduler jobs, model
// names, error shapes), and segment says plainly that no SAM model is loaded.
TEST(EndoscribeHttp, RoutesRunOnTheSchedulerWithTheLoadedModel) {
    namespace fs = std::filesystem;
    auto engine = std::make_shared<ScriptedEngine>();
    engine->favour = "normal";
    fs::path root = fs::temp_directory_path() / ("es-ext-test-" + std::to_string(::getpid()));
    fs::create_directories(root);
    std::ofstream(root / "index.html") << "<!doctype html>";
    ServerOptions o;
    o.root = root;
    o.config.model_hosts = {};
    auto ext = std::make_shared<EndoscribeExtensions>();
    ext->report_vocabulary = vocab();
    o.api.endoscribe = ext;
    AppServer server(o);
    server.api().set_engine(engine);
    ASSERT_EQ(server.bind("127.0.0.1", 0), "");
    std::thread t([&] { server.run(); });
    httplib::Client c("127.0.0.1", server.port());
    c.set_read_timeout(20);

    json classify = {{"messages", {{{"role", "user"}, {"content", "What is this?"}}}}, {"labels", {"polyp", "normal"}}};
    auto r = c.Post("/v1/endoscribe/classify", classify.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    json j = json::parse(r->body);
    EXPECT_EQ(j["model"], "scripted");
    EXPECT_GT(j["probabilities"][1].get<double>(), j["probabilities"][0].get<double>());
    classify["model"] = "medgemma-27b";
    r = c.Post("/v1/endoscribe/classify", classify.dump(), "application/json");
    EXPECT_EQ(r->status, 404);
    EXPECT_EQ(json::parse(r->body)["error"]["code"], "model_not_found");
    EXPECT_NE(json::parse(r->body)["error"]["message"].get<std::string>().find("scripted"), std::string::npos);

    const std::string bundle = write_case_bundle(make_annotation_document(nullptr, {}), {{"a.png", tiny_png()}}, report_json());
    r = c.Post("/v1/endoscribe/report/draft", json{{"bundle", json::parse(bundle)}}.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    j = json::parse(r->body);
    EXPECT_EQ(j["report"]["findings"][0]["size_mm"]["value"], 6);
    EXPECT_FALSE(j["outcome"]["applied"].empty());

    r = c.Post("/v1/endoscribe/segment", R"({"image_id": "00", "prompts": []})", "application/json");
    EXPECT_EQ(r->status, 503);
    EXPECT_NE(json::parse(r->body)["error"]["message"].get<std::string>().find("--sam"), std::string::npos);
    server.stop();
    t.join();
    fs::remove_all(root);
}
