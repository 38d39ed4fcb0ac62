// The SentencePiece tokenizer must reproduce the token ids Hugging Face fed the
// oracle model (golden.json), from the golden texts alone.
#include <gtest/gtest.h>

#include "test_files.h"
#include "assistant/tokenizer.h"

using namespace es;

static Tokenizer load_tiny() {
    Tokenizer t;
    auto bytes = es_test::read_bytes(es_test::tiny_dir() + "/checkpoint/tokenizer.model");
    std::string err;
    EXPECT_TRUE(t.load(bytes.data(), bytes.size(), &err)) << err;
    return t;
}

TEST(Tokenizer, SpecialIds) {
    Tokenizer t = load_tiny();
    EXPECT_EQ(t.vocab_size(), 1024);
    EXPECT_EQ(t.bos_id(), 2);
    EXPECT_EQ(t.eos_id(), 1);
    EXPECT_EQ(t.pad_id(), 0);
    auto g = es_test::golden();
    for (auto& [piece, id] : g["special_ids"].items()) EXPECT_EQ(t.piece_to_id(piece), id.get<int>()) << piece;
    EXPECT_EQ(t.piece_to_id("<definitely_not_a_piece>"), -1);
}

TEST(Tokenizer, ReproducesGoldenPromptIds) {
    Tokenizer t = load_tiny();
    auto g = es_test::golden();
    std::vector<int> turn1{t.bos_id()};
    for (int id : t.encode(g["turn1_text"].get<std::string>())) turn1.push_back(id);
    EXPECT_EQ(turn1, g["turn1_ids"].get<std::vector<int>>());

    // Turn 2 = turn-1 prompt + 24 generated ids + the encoded turn-2 text.
    std::vector<int> turn2 = g["turn1_ids"].get<std::vector<int>>();
    for (int id : g["turn1_greedy_ids"]) turn2.push_back(id);
    for (int id : t.encode(g["turn2_text"].get<std::string>())) turn2.push_back(id);
    EXPECT_EQ(turn2, g["turn2_prompt_ids"].get<std::vector<int>>());

    std::vector<int> text_only{t.bos_id()};
    for (int id : t.encode("<start_of_turn>user\nDraft an endoscopy report.<end_of_turn>\n<start_of_turn>model\n"))
        text_only.push_back(id);
    EXPECT_EQ(text_only, g["text_only_ids"].get<std::vector<int>>());
}

TEST(Tokenizer, DecodesGoldenText) {
    Tokenizer t = load_tiny();
    auto g = es_test::golden();
    EXPECT_EQ(t.decode(g["turn1_greedy_ids"].get<std::vector<int>>()), g["turn1_greedy_text"].get<std::string>());
    EXPECT_EQ(t.decode(g["turn2_greedy_ids"].get<std::vector<int>>()), g["turn2_greedy_text"].get<std::string>());
}

TEST(Tokenizer, StreamDeltasConcatenateToDecode) {
    Tokenizer t = load_tiny();
    // Byte fallback: a multi-byte character must come out whole.
    const std::string text = "Polyp \xC3\xA9tendu \xE2\x86\x92 10 mm";
    auto ids = t.encode(text);
    TextStream s(t);
    std::string joined;
    for (int id : ids) {
        std::string d = s.push(id);
        // Every delta is valid UTF-8 on its own (no dangling lead byte).
        if (!d.empty()) EXPECT_NE(static_cast<unsigned char>(d.back()) & 0xC0, 0xC0u);
        joined += d;
    }
    EXPECT_EQ(joined, t.decode(ids));
    EXPECT_EQ(joined, text);
}

TEST(Tokenizer, RejectsGarbage) {
    Tokenizer t;
    std::string err;
    const uint8_t junk[] = {0xff, 0x00, 0x13, 0x37, 0x42};
    EXPECT_FALSE(t.load(junk, sizeof junk, &err));
    EXPECT_FALSE(err.empty());
    EXPECT_FALSE(t.loaded());
    EXPECT_FALSE(t.load(nullptr, 0, &err));
    EXPECT_TRUE(t.encode("hello").empty());
}

TEST(Tokenizer, SpecialTokensInTextAndAddedTokens) {
    Tokenizer t = load_tiny();
    // "<bos>" is a control piece: plain SentencePiece would spell it out.
    auto ids = t.encode_with_special_tokens("<bos><start_of_turn>user\nHi");
    ASSERT_GE(ids.size(), 3u);
    EXPECT_EQ(ids[0], 2);
    EXPECT_EQ(ids[1], 4);
    EXPECT_NE(t.encode("<bos>").front(), 2);
    // An added token beyond the SentencePiece vocabulary (as Gemma-3's
    // <image_soft_token> = 262144 is), from tokenizer_config.json.
    std::string err;
    ASSERT_TRUE(t.add_tokens_from_config(
        R"({"added_tokens_decoder": {"1030": {"content": "<extra_tok>", "special": true}}})", &err)) << err;
    EXPECT_EQ(t.vocab_size(), 1031);
    EXPECT_EQ(t.piece_to_id("<extra_tok>"), 1030);
    auto with_added = t.encode_with_special_tokens("a<extra_tok>b");
    EXPECT_NE(std::find(with_added.begin(), with_added.end(), 1030), with_added.end());
    EXPECT_EQ(t.decode(with_added), "a<extra_tok>b");
    EXPECT_FALSE(t.add_tokens_from_config("{\"added_tokens_decoder\": {\"x\": {}}}", &err));
    EXPECT_FALSE(t.add_tokens_from_config("nope", &err));
}
