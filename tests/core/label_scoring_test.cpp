#include <gtest/gtest.h>

#include <cmath>

#include "assistant/label_scoring.h"
#include "annotation/label_set.h"
#include "image/npy.h"
#include "assistant/sampler.h"
#include "test_files.h"

using namespace es;

static Tokenizer tiny() {
    Tokenizer t;
    auto b = es_test::read_bytes(es_test::tiny_dir() + "/checkpoint/tokenizer.model");
    std::string err;
    EXPECT_TRUE(t.load(b.data(), b.size(), &err));
    return t;
}

TEST(LabelScoring, ScoresTheShippedHyperKvasirSet) {
    // The label set shipped in models/labels (label_set.h's format): every
    // class name becomes a token sequence ending with <end_of_turn>.
    const std::string path = std::string(ES_SOURCE_DIR) + "/models/labels/hyperkvasir.json";
    auto load = parse_label_set(es_test::read_text(path));
    if (!load.ok) GTEST_SKIP() << "models/labels/hyperkvasir.json not loadable: " << load.error;
    std::vector<std::string> names;
    for (const auto& l : load.set.labels) names.push_back(l.name);
    ASSERT_EQ(names.size(), 23u);
    Tokenizer t = tiny();
    LabelScorer sc;
    std::string err;
    ASSERT_TRUE(sc.begin(t, names, 5, &err)) << err;
    ASSERT_EQ(sc.size(), 23u);
    for (size_t i = 0; i < sc.size(); ++i) {
        EXPECT_EQ(sc.label_tokens(i).back(), 5);
        EXPECT_EQ(t.decode(sc.run_tokens(i)), names[i]);
    }
}

TEST(LabelScoring, SingleTokenLabelsFollowTheGoldenLastRow) {
    // With one-token labels and no end token, the label probabilities are the
    // model's next-token softmax restricted to those tokens.
    Tokenizer t = tiny();
    std::string err;
    auto bytes = es_test::read_bytes(es_test::tiny_dir() + "/golden/turn1_logits.npy");
    NpyArray a;
    ASSERT_TRUE(parse_npy(bytes.data(), bytes.size(), &a, &err)) << err;
    const int vocab = int(a.shape[2]), rows = int(a.shape[1]);
    const float* last = a.f32.data() + size_t(rows - 1) * size_t(vocab);
    std::vector<std::string> answers{t.piece(954), t.piece(674), t.piece(325)};
    for (auto& s : answers) if (s.rfind("\xE2\x96\x81", 0) == 0) s = " " + s.substr(3);
    LabelScorer sc;
    ASSERT_TRUE(sc.begin(t, answers, -1, &err)) << err;
    for (size_t i = 0; i < sc.size(); ++i) ASSERT_EQ(sc.label_tokens(i).size(), 1u) << answers[i];
    EXPECT_FALSE(sc.complete());
    sc.set_prefix_logits(last, vocab);
    ASSERT_TRUE(sc.complete());
    auto p = sc.probabilities();
    double sum = 0;
    for (double x : p) sum += x;
    EXPECT_NEAR(sum, 1.0, 1e-12);
    double z = 0;
    for (size_t i = 0; i < 3; ++i) z += std::exp(double(last[sc.label_tokens(i)[0]]));
    for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(p[i], std::exp(double(last[sc.label_tokens(i)[0]])) / z, 1e-9);
    EXPECT_EQ(sc.ranking()[0], 0u);  // 954 is the golden greedy token
}

TEST(LabelScoring, MultiTokenLabelsSumLogProbs) {
    Tokenizer t = tiny();
    std::string err;
    LabelScorer sc;
    ASSERT_TRUE(sc.begin(t, {"polyp", "ulcerative colitis"}, 5, &err)) << err;
    const int V = t.vocab_size();
    // Fake model: uniform logits except the prefix strongly prefers label 1's first token.
    std::vector<float> prefix(size_t(V), 0.0f);
    prefix[size_t(sc.label_tokens(1)[0])] = 4.0f;
    sc.set_prefix_logits(prefix.data(), V);
    for (size_t i = 0; i < sc.size(); ++i) {
        auto run = sc.run_tokens(i);
        ASSERT_EQ(run.size() + 1, sc.label_tokens(i).size());
        std::vector<float> rows(run.size() * size_t(V), 0.0f);
        ASSERT_TRUE(sc.add_label_logits(i, rows.data(), int(run.size()), V, &err)) << err;
    }
    EXPECT_FALSE(sc.add_label_logits(0, prefix.data(), 99, V, &err));
    auto ll = sc.log_likelihoods();
    const double lp_uniform = -std::log(double(V));
    const double lp0_first = -std::log(V - 1 + std::exp(4.0));
    EXPECT_NEAR(ll[0], lp0_first + double(sc.label_tokens(0).size() - 1) * lp_uniform, 1e-9);
    auto p = sc.probabilities();
    EXPECT_NEAR(p[0] + p[1], 1.0, 1e-12);
    EXPECT_EQ(sc.ranking().size(), 2u);
    EXPECT_FALSE(sc.begin(t, {"one"}, 5, &err));
}

TEST(LabelScoring, ControlTokenNamesInLabelsStayText) {
    // A label set is data from a file: a name containing "<end_of_turn>" or
    // "<start_of_image>" must be scored as those characters, never as the
    // control tokens (which would end the answer or open an image early).
    Tokenizer t = tiny();
    std::string err;
    const std::vector<std::string> names{"polyp<end_of_turn>", "<start_of_image>ulcer", "<bos>normal<eos>"};
    LabelScorer sc;
    ASSERT_TRUE(sc.begin(t, names, 5, &err)) << err;
    for (size_t i = 0; i < names.size(); ++i) {
        const auto& tokens = sc.label_tokens(i);
        ASSERT_GE(tokens.size(), 2u) << names[i];
        EXPECT_EQ(tokens.back(), 5) << names[i];  // the end token is appended once, by the scorer
        const std::vector<int> body(tokens.begin(), tokens.end() - 1);
        for (int id : body) EXPECT_GT(id, 8) << names[i] << " produced control/special id " << id;
        EXPECT_EQ(t.decode(body), names[i]);
        EXPECT_EQ(body, t.encode_as_text(names[i])) << names[i];
    }
}
