// Conversation state against the oracle: the token sequence of both golden
// turns, what is in the KV cache, and what each step must prefill.
#include <gtest/gtest.h>

#include "assistant/conversation.h"
#include "test_files.h"

using namespace es;

struct ConversationTest : ::testing::Test {
    Tokenizer tok;
    nlohmann::json g = es_test::golden();
    void SetUp() override {
        auto bytes = es_test::read_bytes(es_test::tiny_dir() + "/checkpoint/tokenizer.model");
        std::string err;
        ASSERT_TRUE(tok.load(bytes.data(), bytes.size(), &err)) << err;
    }
    ConversationConfig tiny_config(const std::string& tmpl_file = "") {
        ConversationConfig c;
        auto cfg = nlohmann::json::parse(es_test::read_text(es_test::tiny_dir() + "/checkpoint/tokenizer_config.json"));
        c.chat_template = tmpl_file.empty()
                              ? cfg["chat_template"].get<std::string>()
                              : es_test::read_text(std::string(ES_FIXTURES_DIR) + "/chat_templates/" + tmpl_file);
        c.mm_tokens_per_image = 16;
        c.stop_ids = {1, 5};
        return c;
    }
};

TEST_F(ConversationTest, GoldenTwoTurnsThroughTheCache) {
    Conversation conv;
    std::string err;
    ASSERT_TRUE(conv.init(&tok, tiny_config(), &err)) << err;
    ASSERT_TRUE(conv.ask("What is shown in this image?", true, &err)) << err;
    const auto turn1 = g["turn1_ids"].get<std::vector<int>>();
    EXPECT_EQ(conv.tokens(), turn1);
    EXPECT_EQ(conv.pending(), turn1);
    EXPECT_TRUE(conv.pending_has_image());
    auto tt = conv.token_types(0, turn1.size());
    EXPECT_EQ(std::count(tt.begin(), tt.end(), 1), 16);
    EXPECT_EQ(tt[8], 1);
    EXPECT_EQ(tt[7], 0);  // <start_of_image> itself is not an image token

    conv.on_prefilled(turn1.size());
    EXPECT_EQ(conv.kv_length(), turn1.size());
    EXPECT_TRUE(conv.pending().empty());
    // 24 greedy tokens; each but the last is fed back through the model.
    const auto ans1 = g["turn1_greedy_ids"].get<std::vector<int>>();
    for (size_t i = 0; i < ans1.size(); ++i) {
        conv.on_answer_token(ans1[i]);
        if (i + 1 < ans1.size()) conv.on_fed(1);
    }
    conv.finish_answer();
    EXPECT_EQ(conv.kv_length(), turn1.size() + ans1.size() - 1);
    EXPECT_EQ(conv.answer_text(0), g["turn1_greedy_text"].get<std::string>());

    ASSERT_TRUE(conv.ask("How many polyps are visible?", false, &err)) << err;
    const auto turn2 = g["turn2_prompt_ids"].get<std::vector<int>>();
    EXPECT_EQ(conv.tokens(), turn2);
    // Only the unfed last answer token + the new turn's tokens: no image, no history.
    const auto pending = conv.pending();
    EXPECT_EQ(pending.size(), turn2.size() - (turn1.size() + ans1.size() - 1));
    EXPECT_EQ(pending.front(), ans1.back());
    EXPECT_FALSE(conv.pending_has_image());
}

TEST_F(ConversationTest, AnswerEndingInStopTokenIsNotClosedTwice) {
    Conversation conv;
    std::string err;
    ASSERT_TRUE(conv.init(&tok, tiny_config(), &err)) << err;
    ASSERT_TRUE(conv.ask("Hi", false, &err));
    conv.on_prefilled(conv.pending().size());
    conv.on_answer_token(954);
    conv.on_fed(1);
    conv.on_answer_token(5);  // <end_of_turn>
    conv.finish_answer();
    ASSERT_TRUE(conv.ask("More?", false, &err)) << err;
    auto p = conv.pending();
    // pending = <end_of_turn>(unfed) "\n" <start_of_turn> user ...
    ASSERT_GE(p.size(), 3u);
    EXPECT_EQ(p[0], 5);
    EXPECT_EQ(p[1], 19);
    EXPECT_EQ(p[2], 4);
    EXPECT_EQ(conv.answer_text(0), tok.decode({954}));
}

TEST_F(ConversationTest, EditingAnEarlierQuestionDropsLaterTurnsAndTrimsTheCache) {
    Conversation conv;
    std::string err;
    ASSERT_TRUE(conv.init(&tok, tiny_config(), &err));
    ASSERT_TRUE(conv.ask("What is shown in this image?", true, &err));
    const size_t t1 = conv.tokens().size();
    conv.on_prefilled(t1);
    conv.on_answer_token(954);
    conv.on_answer_token(5);
    conv.on_fed(1);
    conv.finish_answer();
    ASSERT_TRUE(conv.ask("Second?", false, &err));
    const size_t t2_start = t1 + 2;
    conv.on_prefilled(conv.pending().size());
    conv.on_answer_token(325);
    conv.finish_answer();
    EXPECT_FALSE(conv.ask("x", false, &err) == false);  // third turn is allowed
    conv.on_prefilled(conv.pending().size());
    ASSERT_EQ(conv.turns().size(), 3u);

    // Edit the second question: turn 3 disappears, the cache keeps turn 1 + its answer.
    ASSERT_TRUE(conv.edit_question(1, "How many polyps are visible?", &err)) << err;
    EXPECT_EQ(conv.turns().size(), 2u);
    EXPECT_EQ(conv.kv_length(), t2_start);
    EXPECT_FALSE(conv.pending_has_image());
    // Edit the first question: everything is re-prefilled, image included.
    ASSERT_TRUE(conv.edit_question(0, "Describe the lesion.", &err));
    EXPECT_EQ(conv.kv_length(), 0u);
    EXPECT_TRUE(conv.pending_has_image());
    EXPECT_EQ(conv.turns().size(), 1u);
    EXPECT_FALSE(conv.edit_question(5, "nope", &err));
}

TEST_F(ConversationTest, DropLastUnansweredTurn) {
    Conversation conv;
    std::string err;
    ASSERT_TRUE(conv.init(&tok, tiny_config(), &err));
    ASSERT_TRUE(conv.ask("a", false, &err));
    conv.drop_last_turn();
    EXPECT_TRUE(conv.turns().empty());
    EXPECT_TRUE(conv.tokens().empty());
    ASSERT_TRUE(conv.ask("b", false, &err));
    conv.on_prefilled(conv.pending().size());
    conv.on_answer_token(7);
    conv.drop_last_turn();  // has an answer: kept
    EXPECT_EQ(conv.turns().size(), 1u);
}

TEST_F(ConversationTest, AskWhileAnsweringIsRefused) {
    Conversation conv;
    std::string err;
    ASSERT_TRUE(conv.init(&tok, tiny_config(), &err));
    ASSERT_TRUE(conv.ask("a", false, &err));
    EXPECT_FALSE(conv.ask("b", false, &err));
    EXPECT_NE(err.find("not finished"), std::string::npos);
}

TEST_F(ConversationTest, Gemma3TemplateWithSystemPromptAndImagePart) {
    Conversation conv;
    std::string err;
    ASSERT_TRUE(conv.init(&tok, tiny_config("gemma-3-it.jinja"), &err)) << err;
    conv.set_system_prompt("You are an endoscopy assistant.");
    ASSERT_TRUE(conv.ask("What is shown in this image?", true, &err)) << err;
    std::vector<int> expected = tok.encode_with_special_tokens(
        "<bos><start_of_turn>user\nYou are an endoscopy assistant.\n\n\n\n<start_of_image>" +
        [] { std::string s; for (int i = 0; i < 16; ++i) s += "<image_soft_token>"; return s; }() +
        "<end_of_image>\n\nWhat is shown in this image?<end_of_turn>\n<start_of_turn>model\n");
    EXPECT_EQ(conv.tokens(), expected);
    EXPECT_EQ(conv.tokens().front(), 2);
    // Changing the system prompt invalidates the cache.
    conv.on_prefilled(conv.tokens().size());
    conv.finish_answer();
    conv.set_system_prompt("Be brief.");
    EXPECT_EQ(conv.kv_length(), 0u);
    auto msgs = conv.messages_json();
    EXPECT_EQ(msgs[0]["role"], "system");
    EXPECT_EQ(msgs[1]["content"][0]["type"], "image");
}

TEST_F(ConversationTest, SaveAndRestoreKeepsTheExactTokens) {
    Conversation conv;
    std::string err;
    ASSERT_TRUE(conv.init(&tok, tiny_config(), &err));
    conv.set_system_prompt("");
    ASSERT_TRUE(conv.ask("What is shown in this image?", true, &err));
    conv.on_prefilled(conv.pending().size());
    for (int id : g["turn1_greedy_ids"]) conv.on_answer_token(id);
    conv.finish_answer();
    ASSERT_TRUE(conv.ask("How many polyps are visible?", false, &err));
    const auto saved = conv.save();
    const std::string text = saved.dump();

    Conversation back;
    ASSERT_TRUE(back.init(&tok, tiny_config(), &err));
    ASSERT_TRUE(back.restore(nlohmann::ordered_json::parse(text), &err)) << err;
    EXPECT_EQ(back.tokens(), conv.tokens());
    EXPECT_EQ(back.tokens(), g["turn2_prompt_ids"].get<std::vector<int>>());
    EXPECT_EQ(back.kv_length(), 0u);  // nothing is cached after a reload
    EXPECT_FALSE(back.answering());   // the unanswered question is closed
    EXPECT_EQ(back.answer_text(0), g["turn1_greedy_text"].get<std::string>());

    // Ids from another tokenizer (out of range) fall back to the text.
    auto bad = nlohmann::ordered_json::parse(text);
    bad["turns"][0]["answer_ids"] = {99999};
    ASSERT_TRUE(back.restore(bad, &err)) << err;
    EXPECT_EQ(back.answer_text(0), g["turn1_greedy_text"].get<std::string>());
    EXPECT_FALSE(back.restore(nlohmann::ordered_json::parse(R"({"format":"x"})"), &err));
    EXPECT_FALSE(back.restore(nlohmann::ordered_json::parse(R"({"format":"endoscribe-conversation","version":1,"turns":[{"q":1}]})"), &err));
    EXPECT_NE(err.find("malformed turn"), std::string::npos) << err;
}
