#include <gtest/gtest.h>

#include "assistant/generation.h"

using namespace es;

// A fake "model": logits that make `next[prev]` the argmax.
static std::vector<float> logits_for(int want, int vocab = 10) {
    std::vector<float> l(size_t(vocab), 0.0f);
    l[size_t(want)] = 5.0f;
    return l;
}

TEST(Generation, StopsOnStopTokenAndKeepsIt) {
    GenerationConfig cfg;
    cfg.max_new_tokens = 10;
    cfg.stop_ids = {1, 5};
    Generator g;
    g.start(cfg, {2, 4});
    const int script[] = {7, 8, 5, 9};
    StepResult r;
    int steps = 0;
    for (int want : script) {
        auto l = logits_for(want);
        r = g.on_logits(l.data(), 10);
        ++steps;
        if (r.finished) break;
        EXPECT_TRUE(r.feed);
    }
    EXPECT_EQ(steps, 3);
    EXPECT_EQ(r.token, 5);
    EXPECT_EQ(r.reason, FinishReason::StopToken);
    EXPECT_EQ(g.generated(), (std::vector<int>{7, 8, 5}));
    // 7 and 8 were fed to the model; the stop token never is.
    EXPECT_EQ(g.fed(), 2u);
    // Further calls are harmless.
    auto l = logits_for(3);
    EXPECT_TRUE(g.on_logits(l.data(), 10).finished);
    EXPECT_EQ(g.generated().size(), 3u);
}

TEST(Generation, MaxTokens) {
    GenerationConfig cfg;
    cfg.max_new_tokens = 3;
    Generator g;
    g.start(cfg, {});
    int n = 0;
    StepResult r;
    do {
        auto l = logits_for(4);
        r = g.on_logits(l.data(), 10);
        ++n;
    } while (!r.finished);
    EXPECT_EQ(n, 3);
    EXPECT_EQ(r.reason, FinishReason::MaxTokens);
    EXPECT_EQ(g.generated(), (std::vector<int>{4, 4, 4}));
    EXPECT_EQ(g.fed(), 2u);
}

TEST(Generation, CancelMidAnswerSamplesNothingMore) {
    GenerationConfig cfg;
    cfg.max_new_tokens = 100;
    Generator g;
    g.start(cfg, {});
    auto l = logits_for(6);
    EXPECT_TRUE(g.on_logits(l.data(), 10).feed);
    EXPECT_TRUE(g.on_logits(l.data(), 10).feed);
    g.cancel();  // the model step for the 2nd token is in flight
    EXPECT_TRUE(g.running());
    auto r = g.on_logits(l.data(), 10);
    EXPECT_TRUE(r.finished);
    EXPECT_FALSE(r.feed);
    EXPECT_EQ(r.token, -1);
    EXPECT_EQ(r.reason, FinishReason::Cancelled);
    EXPECT_EQ(g.generated().size(), 2u);
    EXPECT_EQ(g.fed(), 2u);  // both tokens are in the KV cache
    EXPECT_STREQ(finish_reason_name(g.reason()), "cancelled");
}

TEST(Generation, RepetitionPenaltySeesPromptAndAnswer) {
    GenerationConfig cfg;
    cfg.max_new_tokens = 5;
    cfg.sampler.repetition_penalty = 10.0f;
    Generator g;
    g.start(cfg, {3});
    std::vector<float> l{0, 0, 0, 2.0f, 1.5f, 1.0f, 0, 0, 0, 0};
    EXPECT_EQ(g.on_logits(l.data(), 10).token, 4);  // 3 is in the prompt: 2/10
    EXPECT_EQ(g.on_logits(l.data(), 10).token, 5);  // 4 now penalised too
}

TEST(Generation, ErrorsWithoutStartOrLogits) {
    Generator g;
    auto l = logits_for(1);
    EXPECT_EQ(g.on_logits(l.data(), 10).reason, FinishReason::Error);
    g.start({}, {});
    EXPECT_EQ(g.on_logits(nullptr, 0).reason, FinishReason::Error);
}

// An image marker the model favours is never sampled: fed back as context it
// would become an image slot with no image (the agent's reflections hit this
// with the random tiny model). Sampled at temperature too, the row untouched.
TEST(Generation, NeverSamplesNeverIds) {
    GenerationConfig cfg;
    cfg.max_new_tokens = 50;
    cfg.never_ids = {6, 7, 8};
    cfg.sampler.temperature = 1.5f;
    cfg.sampler.seed = 7;
    Generator g;
    g.start(cfg, {});
    StepResult r;
    do {
        std::vector<float> l(10, 0.0f);
        l[8] = 9.0f;  // by far the most likely
        l[6] = 8.0f;
        r = g.on_logits(l.data(), 10);
        EXPECT_EQ(l[8], 9.0f);
    } while (!r.finished);
    ASSERT_EQ(g.generated().size(), 50u);
    for (int t : g.generated()) EXPECT_TRUE(t != 6 && t != 7 && t != 8) << t;
}
