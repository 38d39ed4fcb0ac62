// chat_engine_bench: the server's chat engine (server/inference) on one
// package, no HTTP: time to first token, decode tokens/s, second-turn time to
// first token (kept KV cache), aggregate tokens/s with N sequences stepped
// together (one batched decoder run per step vs one run per sequence), and
// label scoring time.
//   build/native/server/chat_engine_bench PACKAGE [--variant V] [--tokens N] [--image FILE] [--cpu]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "inference/gemma3_engine.h"
#include "onnx/onnx_runtime.h"

using namespace es::server;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

ChatMessage text_message(const std::string& role, const std::string& text, const std::vector<uint8_t>* image = nullptr) {
    ChatMessage m;
    m.role = role;
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

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: chat_engine_bench PACKAGE [--variant V] [--tokens N] [--image FILE] [--cpu]\n");
        return 2;
    }
    std::string dir = argv[1], variant, image_path = std::string(ES_REPO_ROOT) + "/tests/fixtures/tiny-gemma3/golden/image.png";
    int tokens = 64;
    bool cpu = false;
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--variant" && i + 1 < argc) variant = argv[++i];
        else if (a == "--tokens" && i + 1 < argc) tokens = std::stoi(argv[++i]);
        else if (a == "--image" && i + 1 < argc) image_path = argv[++i];
        else if (a == "--cpu") cpu = true;
    }
    OnnxRuntimeOptions ort;
    ort.libraries = default_onnx_runtime_libraries(ES_REPO_ROOT);
    ort.prefer_cuda = !cpu;
    OnnxRuntime rt = load_onnx_runtime(ort);
    std::printf("%s\n", rt.summary().c_str());
    if (!rt.ok) return 1;
    std::string error;
    auto t_load = Clock::now();
    std::unique_ptr<Gemma3Engine> engine = Gemma3Engine::load(rt, {{dir, "bench", variant}}, EngineOptions{}, &error);
    if (!engine) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
    }
    std::printf("load: %.0f ms; %s\n", ms_since(t_load), engine->describe()[0].c_str());
    std::ifstream in(image_path, std::ios::binary);
    const std::vector<uint8_t> image((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

    auto request = [&](std::vector<ChatMessage> messages, int n) {
        ChatRequest r;
        r.messages = std::move(messages);
        r.max_tokens = n;
        r.temperature = 0;
        return r;
    };
    // One conversation: turn 1 with the image, turn 2 from the kept cache.
    auto answer = [&](const ChatRequest& r, double* ttft, double* decode_tps, std::string* text, int* cached) {
        auto t0 = Clock::now();
        SequenceStart s = engine->start(r);
        if (s.error != EngineError::None) {
            std::fprintf(stderr, "%s\n", s.message.c_str());
            std::exit(1);
        }
        *cached = s.cached_prompt_tokens;
        std::vector<TokenOut> o = engine->step({s.sequence});
        *ttft = ms_since(t0);
        *text = o[0].text;
        int n = 0;
        auto t1 = Clock::now();
        while (!o[0].finished) {
            o = engine->step({s.sequence});
            *text += o[0].text;
            ++n;
        }
        *decode_tps = n ? n / (ms_since(t1) / 1000.0) : 0;
        engine->finish(s.sequence);
        return n + 1;
    };
    double ttft = 0, tps = 0;
    std::string text1, text2;
    int cached = 0;
    // Text only, one sequence: the workload tools/bench/chat_engine_vs_node.mjs gives its peer.
    // An engine that keeps no KV cache (so the prompt is run every time); the first run warms up.
    {
        EngineOptions no_keep;
        no_keep.kv_cache_bytes = 0;
        std::unique_ptr<Gemma3Engine> warm = Gemma3Engine::load(rt, {{dir, "bench", variant}}, no_keep, &error);
        std::swap(engine, warm);
        double best_ttft = 1e9, best_tps = 0;
        int n0 = 0;
        for (int rep = 0; rep < 4; ++rep) {  // best of 3 after a warm-up (a shared machine is noisy)
            std::string t;
            n0 = answer(request({text_message("user", "Draft an endoscopy report.")}, tokens), &ttft, &tps, &t, &cached);
            if (rep) best_ttft = std::min(best_ttft, ttft), best_tps = std::max(best_tps, tps);
        }
        std::printf("text-only: time to first token %.2f ms, decode %.1f tokens/s (%d tokens, best of 3)\n", best_ttft,
                    best_tps, n0);
        std::swap(engine, warm);
    }
    const std::string q1 = "Describe this endoscopy image.";
    int n = answer(request({text_message("user", q1, &image)}, tokens), &ttft, &tps, &text1, &cached);
    std::printf("turn 1 (image): time to first token %.1f ms, decode %.1f tokens/s (%d tokens)\n", ttft, tps, n);
    n = answer(request({text_message("user", q1, &image), text_message("assistant", text1),
                        text_message("user", "Is there a polyp?")},
                       tokens),
               &ttft, &tps, &text2, &cached);
    std::printf("turn 2 (kept cache, %d prompt tokens reused): time to first token %.1f ms, decode %.1f tokens/s\n",
                cached, ttft, tps);

    // N concurrent text sequences, stepped together.
    for (bool batched : {false, true}) {
        EngineOptions opt;
        opt.batched_decode = batched;
        auto e = Gemma3Engine::load(rt, {{dir, "bench", variant}}, opt, &error);
        for (int concurrent : {1, 4, 16}) {
            std::vector<uint64_t> live;
            for (int c = 0; c < concurrent; ++c)
                live.push_back(e->start(request({text_message("user", "Write finding number " + std::to_string(c) +
                                                                          " of a colonoscopy report.")},
                                                tokens))
                                   .sequence);
            int produced = 0;
            auto t0 = Clock::now();
            while (!live.empty()) {
                std::vector<TokenOut> outs = e->step(live);
                std::vector<uint64_t> next;
                for (size_t i = 0; i < outs.size(); ++i) {
                    produced += outs[i].token >= 0;
                    if (outs[i].finished) e->finish(live[i]);
                    else next.push_back(live[i]);
                }
                live = next;
            }
            std::printf("%2d sequences, %s: %.1f tokens/s aggregate\n", concurrent,
                        batched ? "batched decode" : "one run per sequence", produced / (ms_since(t0) / 1000.0));
        }
    }

    LabelScoreRequest ls;
    ls.model = "bench";
    ls.messages = {text_message("user", "Which one of these best describes the image?", &image)};
    ls.labels = {"polyp", "ulcerative colitis", "normal cecum", "esophagitis", "normal pylorus", "normal z-line"};
    auto t0 = Clock::now();
    LabelScoreResult r = engine->score_labels(ls);
    std::printf("label scoring, %zu labels: %.1f ms%s\n", ls.labels.size(), ms_since(t0),
                r.error == EngineError::None ? "" : (" (" + r.message + ")").c_str());
    return 0;
}
