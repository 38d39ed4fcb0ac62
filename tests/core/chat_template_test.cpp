// Chat templates: the real Gemma-3 templates and the oracle's, rendered to the
// exact strings transformers' apply_chat_template produces.
#include <gtest/gtest.h>

#include "assistant/chat_template.h"
#include "assistant/image_preprocess.h"
#include "test_files.h"

using namespace es;
using json = nlohmann::ordered_json;

static std::string tpl_path(const std::string& name) {
    return std::string(ES_FIXTURES_DIR) + "/chat_templates/" + name;
}

static std::string render(const std::string& file, const json& messages, bool gen = true, std::string* err_out = nullptr) {
    ChatTemplate t;
    std::string err;
    EXPECT_TRUE(t.parse(es_test::read_text(tpl_path(file)), &err)) << err;
    std::string out;
    bool ok = t.render(chat_context(messages, gen, "<bos>", "<eos>"), &out, &err);
    if (err_out) *err_out = err;
    if (!ok) return "ERROR: " + err;
    return out;
}

static json user_image_text(const std::string& text) {
    return {{"role", "user"}, {"content", json::array({{{"type", "image"}}, {{"type", "text"}, {"text", text}}})}};
}

TEST(ChatTemplate, Gemma3ImageAndGenerationPrompt) {
    json msgs = json::array({user_image_text("What is shown in this image?")});
    const std::string expected =
        "<bos><start_of_turn>user\n<start_of_image>What is shown in this image?<end_of_turn>\n<start_of_turn>model\n";
    EXPECT_EQ(render("gemma-3-it.jinja", msgs), expected);
    EXPECT_EQ(render("gemma-3-it-2025-03.jinja", msgs), expected);
    EXPECT_EQ(render("gemma-3-it.jinja", msgs, false),
              "<bos><start_of_turn>user\n<start_of_image>What is shown in this image?<end_of_turn>\n");
}

TEST(ChatTemplate, Gemma3ImageExpansionMatchesGoldenPromptShape) {
    // Template + Gemma3Processor expansion = the oracle's turn-1 text, with bos.
    json msgs = json::array({user_image_text("What is shown in this image?")});
    std::string text = render("gemma-3-it.jinja", msgs);
    text = expand_image_tokens(text, "<start_of_image>", "<image_soft_token>", "<end_of_image>", 16);
    EXPECT_EQ(text, "<bos>" + es_test::golden()["turn1_text"].get<std::string>());
}

TEST(ChatTemplate, Gemma3SystemPromptFoldsIntoFirstUserTurn) {
    json as_string = json::array({{{"role", "system"}, {"content", "You are an endoscopy assistant."}},
                                  {{"role", "user"}, {"content", "  Describe the lesion.  "}}});
    EXPECT_EQ(render("gemma-3-it.jinja", as_string),
              "<bos><start_of_turn>user\nYou are an endoscopy assistant.\n\nDescribe the lesion.<end_of_turn>\n"
              "<start_of_turn>model\n");
    json as_parts = json::array(
        {{{"role", "system"}, {"content", json::array({{{"type", "text"}, {"text", "Be brief."}}})}},
         user_image_text("Polyp?")});
    const std::string expected = "<bos><start_of_turn>user\nBe brief.\n\n<start_of_image>Polyp?<end_of_turn>\n<start_of_turn>model\n";
    EXPECT_EQ(render("gemma-3-it.jinja", as_parts), expected);
    EXPECT_EQ(render("gemma-3-it-2025-03.jinja", as_parts), expected);
}

TEST(ChatTemplate, Gemma3MultiTurn) {
    json msgs = json::array({user_image_text("What is shown?"),
                             {{"role", "assistant"}, {"content", json::array({{{"type", "text"}, {"text", "A polyp. "}}})}},
                             {{"role", "user"}, {"content", "How large is it?"}}});
    EXPECT_EQ(render("gemma-3-it.jinja", msgs),
              "<bos><start_of_turn>user\n<start_of_image>What is shown?<end_of_turn>\n"
              "<start_of_turn>model\nA polyp.<end_of_turn>\n"
              "<start_of_turn>user\nHow large is it?<end_of_turn>\n<start_of_turn>model\n");
}

TEST(ChatTemplate, Gemma3RejectsNonAlternatingRoles) {
    json msgs = json::array({{{"role", "user"}, {"content", "a"}}, {{"role", "user"}, {"content", "b"}}});
    std::string err;
    std::string out = render("gemma-3-it.jinja", msgs, true, &err);
    EXPECT_EQ(out.rfind("ERROR", 0), 0u);
    EXPECT_NE(err.find("Conversation roles must alternate"), std::string::npos) << err;
    json bad = json::array({{{"role", "user"}, {"content", 42}}});
    render("gemma-3-it.jinja", bad, true, &err);
    EXPECT_NE(err.find("Invalid content type"), std::string::npos) << err;
}

TEST(ChatTemplate, TinyOracleTemplate) {
    json msgs = json::array({{{"role", "user"}, {"content", "<start_of_image>What is shown in this image?"}},
                             {{"role", "assistant"}, {"content", "X"}},
                             {{"role", "user"}, {"content", "How many polyps are visible?"}}});
    EXPECT_EQ(render("tiny-gemma3.jinja", msgs),
              "<bos><start_of_turn>user\n<start_of_image>What is shown in this image?<end_of_turn>\n"
              "<start_of_turn>model\nX<end_of_turn>\n<start_of_turn>user\nHow many polyps are visible?<end_of_turn>\n"
              "<start_of_turn>model\n");
}

static std::string render_src(const std::string& src, const json& ctx, std::string* err = nullptr) {
    ChatTemplate t;
    std::string e, out;
    if (!t.parse(src, &e)) { if (err) *err = e; return "PARSE: " + e; }
    if (!t.render(ctx, &out, &e)) { if (err) *err = e; return "RENDER: " + e; }
    return out;
}

TEST(ChatTemplate, WhitespaceControlTrimAndLstripBlocks) {
    json ctx = {{"xs", {1, 2, 3}}};
    // trim_blocks eats the newline after a block tag; lstrip_blocks the indent before one.
    EXPECT_EQ(render_src("{% for x in xs %}\n  {% if x > 1 %}\n[{{ x }}]\n  {% endif %}\n{% endfor %}\n", ctx), "[2]\n[3]\n");
    EXPECT_EQ(render_src("a  {%- if true %} b {% endif -%}  c", ctx), "a b c");
    EXPECT_EQ(render_src("{{ 'x' }}  \n{{- 'y' }}", ctx), "xy");
    EXPECT_EQ(render_src("{# a comment #}\nz", ctx), "z");
}

TEST(ChatTemplate, ExpressionsFiltersTestsLoops) {
    json ctx = {{"m", {{"role", "user"}, {"content", "  Hi  "}}}, {"xs", {"a", "b", "c"}}, {"n", 7}};
    EXPECT_EQ(render_src("{{ m.content | trim | upper }}|{{ xs | length }}|{{ xs | join('-') }}", ctx), "HI|3|a-b-c");
    EXPECT_EQ(render_src("{{ xs[1:] | join }}{{ xs[-1] }}{{ n // 2 }}{{ n % 4 }}{{ 'q' ~ n }}", ctx), "bcc33q7");
    EXPECT_EQ(render_src("{% for x in xs %}{{ loop.index }}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}", ctx),
              "1a,2b,3c");
    EXPECT_EQ(render_src("{{ 'yes' if 'b' in xs and n is number and missing is not defined else 'no' }}", ctx), "yes");
    EXPECT_EQ(render_src("{% set ns = namespace(k=0) %}{% for x in xs %}{% set ns.k = ns.k + 1 %}{% endfor %}{{ ns.k }}", ctx),
              "3");
    EXPECT_EQ(render_src("{% for k, v in m.items() %}{{ k }}={{ v | trim }};{% endfor %}", ctx), "role=user;content=Hi;");
    EXPECT_EQ(render_src("{{ m.content.strip().startswith('Hi') }}{{ {'a': [1, 2]} | tojson }}", ctx), "True{\"a\":[1,2]}");
    EXPECT_EQ(render_src("{% for x in xs if x != 'b' %}{{ x }}{% else %}none{% endfor %}{% for x in [] %}{% else %}E{% endfor %}", ctx),
              "acE");
}

TEST(ChatTemplate, ClearErrorsOnUnsupportedSyntax) {
    std::string err;
    render_src("hello\n{% macro f(x) %}{{ x }}{% endmacro %}", json::object(), &err);
    EXPECT_NE(err.find("unsupported tag '{% macro %}'"), std::string::npos) << err;
    EXPECT_NE(err.find("line 2"), std::string::npos) << err;
    render_src("{{ x | wordwrap(3) }}", {{"x", "abc"}}, &err);
    EXPECT_NE(err.find("unsupported filter 'wordwrap'"), std::string::npos) << err;
    render_src("{% if true %}never closed", json::object(), &err);
    EXPECT_NE(err.find("without 'endif'"), std::string::npos) << err;
    render_src("{{ 'unterminated }}", json::object(), &err);
    EXPECT_FALSE(err.empty());
    render_src("{{ 1 +  }}", json::object(), &err);
    EXPECT_NE(err.find("expression ends too early"), std::string::npos) << err;
    ChatTemplate t;
    std::string out;
    EXPECT_FALSE(t.render(json::object(), &out, &err));  // not parsed
}

TEST(ChatTemplate, HostileTemplatesFailCleanly) {
    // Mutations of the real template: every one must parse+render or fail with
    // a message, never crash or hang.
    const std::string src = es_test::read_text(tpl_path("gemma-3-it.jinja"));
    json msgs = json::array({user_image_text("Hi"), {{"role", "assistant"}, {"content", "Yo"}}});
    uint64_t s = 12345;
    auto rnd = [&] { s = s * 6364136223846793005ull + 1442695040888963407ull; return uint32_t(s >> 33); };
    const char* junk[] = {"{%", "%}", "{{", "}}", "'", "\"", "(", ")", "[", "]", "|", " if ", " for ", "-", "~", "\\"};
    int parsed = 0, failed = 0;
    for (int iter = 0; iter < 400; ++iter) {
        std::string t = src;
        for (int k = 0; k < 3; ++k) {
            size_t at = rnd() % (t.size() + 1);
            if (rnd() % 2) t.insert(at, junk[rnd() % (sizeof junk / sizeof *junk)]);
            else t.erase(at, rnd() % 8);
        }
        ChatTemplate ct;
        std::string err, out;
        if (ct.parse(t, &err) && ct.render(chat_context(msgs, true, "<bos>", "<eos>"), &out, &err)) ++parsed;
        else { ++failed; EXPECT_FALSE(err.empty()); }
    }
    EXPECT_GT(failed, 0);
    EXPECT_EQ(parsed + failed, 400);
    std::string err;
    render_src("{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}", json::object(), &err);
    EXPECT_NE(err.find("nested too deeply"), std::string::npos) << err;
    std::string deep;
    for (int i = 0; i < 10000; ++i) deep += "{% if true %}";
    render_src(deep, json::object(), &err);
    EXPECT_NE(err.find("nested too deeply"), std::string::npos) << err;
    render_src("{% for i in range(1000000000) %}x{% endfor %}", json::object(), &err);
    EXPECT_NE(err.find("range() longer"), std::string::npos) << err;
    render_src("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", json::object(), &err);
    EXPECT_NE(err.find("more than 1000000"), std::string::npos) << err;
    render_src("{{ 'ab' * 1000000000 }}", json::object(), &err);
    EXPECT_NE(err.find("too long"), std::string::npos) << err;
    render_src("{{ " + std::string(100000, '-') + "1 }}", json::object(), &err);
    EXPECT_NE(err.find("nested too deeply"), std::string::npos) << err;
}
