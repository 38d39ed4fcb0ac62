// Tests for constrained answers on /v1/chat/completions without a model:
// response_format and tools/tool_choice read into one schema (refusals in
// plain words with the field named), tool calls and tool results in the
// conversation rendered as text, the model's call read back piece by piece,
// and tool_choice "auto"'s text-or-call constraint over a small vocabulary.
// (The tiny model's constrained answers through the real server:
// tests/node/server_tools.test.mjs.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/tool_registry.h"
#include "api/chat_request.h"
#include "api/chat_tools.h"
#include "constrained/json_constraint.h"
#include "constrained/token_vocabulary.h"
#include "inference/text_or_json_constraint.h"

using nlohmann::json;
using es::server::AnswerFormat;
using es::server::ParsedChatRequest;

namespace {

ParsedChatRequest parse(const json& j) {
    es::server::ChatRequestLimits limits;
    return es::server::parse_chat_request(j.dump(), limits);
}

json base_request() { return {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}; }

json with_schema(const json& schema) {
    json j = base_request();
    j["response_format"] = {{"type", "json_schema"}, {"json_schema", {{"name", "answer"}, {"schema", schema}, {"strict", true}}}};
    return j;
}

json tool(const std::string& name, const json& parameters) {
    return {{"type", "function"}, {"function", {{"name", name}, {"description", "does " + name}, {"parameters", parameters}}}};
}

json weather_tools() {
    return json::array({tool("get_weather", {{"type", "object"},
                                             {"properties", {{"city", {{"type", "string"}, {"maxLength", 20}}},
                                                             {"unit", {{"enum", {"c", "f"}}}}}},
                                             {"required", {"city"}},
                                             {"additionalProperties", false}}),
                        tool("count", {{"type", "object"},
                                       {"properties", {{"n", {{"type", "integer"}, {"minimum", 0}, {"maximum", 9}}}}},
                                       {"required", {"n"}},
                                       {"additionalProperties", false}})});
}

bool matches(const ParsedChatRequest& p, const std::string& text) {
    return p.request.schema && es::json_text_matches_schema(*p.request.schema, text);
}

}  // namespace

TEST(ChatTools, ResponseFormatJsonSchemaConstrainsTheAnswer) {
    auto p = parse(with_schema({{"type", "object"},
                                {"properties", {{"label", {{"enum", {"polyp", "normal"}}}}, {"p", {{"type", "number"}, {"minimum", 0}, {"maximum", 1}}}}},
                                {"required", {"label", "p"}},
                                {"additionalProperties", false}}));
    ASSERT_TRUE(p.error.empty()) << p.error.message;
    EXPECT_EQ(p.answer.format, AnswerFormat::JsonSchema);
    EXPECT_FALSE(p.request.schema_optional);
    EXPECT_TRUE(matches(p, R"({"label": "polyp", "p": 0.5})"));
    EXPECT_FALSE(matches(p, R"({"label": "tumour", "p": 0.5})"));
    EXPECT_FALSE(matches(p, R"({"label": "polyp"})"));
    EXPECT_EQ(p.request.messages.size(), 1u);  // nothing added to the prompt

    json obj = base_request();
    obj["response_format"] = {{"type", "json_object"}};
    p = parse(obj);
    ASSERT_TRUE(p.error.empty()) << p.error.message;
    EXPECT_TRUE(matches(p, R"({"anything": [1, "x", null]})"));
    EXPECT_FALSE(matches(p, R"([1])"));

    json text = base_request();
    text["response_format"] = {{"type", "text"}};
    p = parse(text);
    ASSERT_TRUE(p.error.empty());
    EXPECT_EQ(p.answer.format, AnswerFormat::Text);
    EXPECT_FALSE(p.request.schema);
}

TEST(ChatTools, SchemasTheDecoderRefusesAre400sInPlainWords) {
    const std::vector<std::pair<json, std::string>> hostile = {
        {{{"type", "string"}, {"pattern", "^(a|b)$"}}, "pattern"},
        {{{"type", "string"}, {"format", "email"}}, "format"},
        {{{"not", {{"type", "string"}}}}, "not"},
        {{{"$ref", "https://example.com/schema.json"}}, "$ref"},
        {{{"type", "integer"}, {"minimum", 5}, {"maximum", 4}}, ""},
        {{{"type", "array"}, {"minItems", 3}, {"maxItems", 2}}, ""},
        {{{"type", "object"}, {"properties", {{"a", {{"$ref", "#"}}}}}, {"required", {"a"}}}, ""},  // never ends
    };
    for (const auto& [schema, word] : hostile) {
        auto p = parse(with_schema(schema));
        EXPECT_EQ(p.error.status, 400) << schema.dump();
        EXPECT_EQ(p.error.param, "response_format.json_schema.schema") << schema.dump();
        EXPECT_NE(p.error.message.find("cannot be used to constrain the answer"), std::string::npos) << p.error.message;
        if (!word.empty()) {
            EXPECT_NE(p.error.message.find(word), std::string::npos) << p.error.message;
        }
    }
    json many = json::array();
    for (int i = 0; i < 300; ++i) many.push_back("v" + std::to_string(i));
    auto p = parse(with_schema({{"enum", many}}));
    EXPECT_EQ(p.error.param, "response_format.json_schema.schema") << p.error.message;

    json bad = base_request();
    bad["response_format"] = {{"type", "json_schema"}, {"json_schema", {{"schema", {{"type", "object"}}}}}};
    EXPECT_EQ(parse(bad).error.param, "response_format.json_schema.name");
    bad["response_format"] = {{"type", "yaml"}};
    EXPECT_EQ(parse(bad).error.param, "response_format.type");
    bad["response_format"] = {{"type", "json_object"}, {"schema", {}}};
    EXPECT_EQ(parse(bad).error.param, "response_format.schema");
    json stop = with_schema({{"type", "object"}});
    stop["stop"] = "}";
    EXPECT_EQ(parse(stop).error.param, "stop");
}

TEST(ChatTools, RequiredAndNamedToolChoiceConstrainToACall) {
    json j = base_request();
    j["tools"] = weather_tools();
    j["tool_choice"] = "required";
    auto p = parse(j);
    ASSERT_TRUE(p.error.empty()) << p.error.message;
    EXPECT_EQ(p.answer.format, AnswerFormat::ToolCall);
    EXPECT_TRUE(matches(p, R"({"name": "get_weather", "arguments": {"city": "Oslo"}})"));
    EXPECT_TRUE(matches(p, R"({"arguments": {"n": 3}, "name": "count"})"));  // keys in any order
    EXPECT_FALSE(matches(p, R"({"name": "count", "arguments": {"city": "Oslo"}})"));
    EXPECT_FALSE(matches(p, R"({"name": "delete_all", "arguments": {}})"));
    EXPECT_FALSE(matches(p, R"(sunny)"));
    // The tools are described in a system message after the client's messages.
    ASSERT_EQ(p.request.messages.size(), 2u);
    EXPECT_EQ(p.request.messages[1].role, "system");
    const std::string& prompt = p.request.messages[1].parts[0].text;
    EXPECT_NE(prompt.find("- get_weather: does get_weather Arguments: {"), std::string::npos) << prompt;
    EXPECT_NE(prompt.find("{\"name\": \"<tool name>\", \"arguments\""), std::string::npos) << prompt;

    j["tool_choice"] = {{"type", "function"}, {"function", {{"name", "count"}}}};
    p = parse(j);
    ASSERT_TRUE(p.error.empty()) << p.error.message;
    EXPECT_TRUE(matches(p, R"({"name": "count", "arguments": {"n": 3}})"));
    EXPECT_FALSE(matches(p, R"({"name": "get_weather", "arguments": {"city": "Oslo"}})"));
    EXPECT_NE(p.request.messages[1].parts[0].text.find("Call the tool \"count\""), std::string::npos);

    j["tool_choice"] = "auto";
    p = parse(j);
    ASSERT_TRUE(p.error.empty()) << p.error.message;
    EXPECT_EQ(p.answer.format, AnswerFormat::TextOrToolCall);
    EXPECT_TRUE(p.request.schema_optional);

    j["tool_choice"] = "none";
    p = parse(j);
    ASSERT_TRUE(p.error.empty()) << p.error.message;
    EXPECT_EQ(p.answer.format, AnswerFormat::Text);
    EXPECT_FALSE(p.request.schema);
    EXPECT_EQ(p.request.messages.size(), 1u);

    j.erase("tool_choice");  // OpenAI's default with tools: auto
    EXPECT_EQ(parse(j).answer.format, AnswerFormat::TextOrToolCall);
}

TEST(ChatTools, ToolParametersWithLocalReferencesStillResolve) {
    json params = {{"type", "object"},
                   {"$defs", {{"box", {{"type", "array"}, {"items", {{"type", "integer"}}}, {"minItems", 4}, {"maxItems", 4}}}}},
                   {"properties", {{"boxes", {{"type", "array"}, {"items", {{"$ref", "#/$defs/box"}}}, {"maxItems", 3}}}}},
                   {"required", {"boxes"}},
                   {"additionalProperties", false}};
    for (const json& tools : {json::array({tool("segment", params)}), json::array({tool("segment", params), tool("other", params)})}) {
        json j = base_request();
        j["tools"] = tools;
        j["tool_choice"] = "required";
        auto p = parse(j);
        ASSERT_TRUE(p.error.empty()) << p.error.message;
        EXPECT_TRUE(matches(p, R"({"name": "segment", "arguments": {"boxes": [[1, 2, 3, 4]]}})"));
        EXPECT_FALSE(matches(p, R"({"name": "segment", "arguments": {"boxes": [[1, 2, 3]]}})"));
    }
}

TEST(ChatTools, BadToolsAreRefusedWithTheFieldNamed) {
    auto with = [](json tools, json choice = "required") {
        json j = base_request();
        j["tools"] = std::move(tools);
        if (!choice.is_null()) j["tool_choice"] = std::move(choice);
        return parse(j);
    };
    EXPECT_EQ(with(json::array({tool("has space", {{"type", "object"}})})).error.param, "tools[0].function.name");
    EXPECT_EQ(with(json::array({tool("a", {{"type", "object"}}), tool("a", {{"type", "object"}})})).error.param,
              "tools[1].function.name");
    EXPECT_EQ(with(json::array({{{"type", "retrieval"}}})).error.param, "tools[0]");
    EXPECT_EQ(with(weather_tools(), {{"type", "function"}, {"function", {{"name", "nope"}}}}).error.param, "tool_choice");
    EXPECT_EQ(with(weather_tools(), "sometimes").error.param, "tool_choice");
    auto hostile = with(json::array({tool("t", {{"type", "string"}, {"pattern", "(x)+"}})}));
    EXPECT_EQ(hostile.error.param, "tools[0].function.parameters");
    EXPECT_NE(hostile.error.message.find("The parameters of the tool \"t\" cannot be used to constrain the answer (at /pattern)"),
              std::string::npos) << hostile.error.message;
    EXPECT_NE(hostile.error.message.find("cannot be used to constrain the answer"), std::string::npos) << hostile.error.message;
    json many = json::array();
    for (int i = 0; i < 33; ++i) many.push_back(tool("t" + std::to_string(i), {{"type", "object"}}));
    EXPECT_EQ(with(many).error.param, "tools") << with(many).error.message;
    json j = base_request();
    j["tool_choice"] = "required";
    EXPECT_EQ(parse(j).error.param, "tool_choice");  // no tools
    j = with_schema({{"type", "object"}});
    j["tools"] = weather_tools();
    EXPECT_EQ(parse(j).error.param, "response_format");  // both
    j["tool_choice"] = "none";
    EXPECT_TRUE(parse(j).error.empty());
    j = base_request();
    j["tools"] = weather_tools();
    j["logprobs"] = true;
    EXPECT_EQ(parse(j).error.param, "logprobs");
    j = base_request();
    j["functions"] = json::array({{{"name", "f"}}});
    EXPECT_EQ(parse(j).error.param, "functions");
    // A tool without parameters takes none.
    auto none = with(json::array({{{"type", "function"}, {"function", {{"name", "ping"}}}}}));
    ASSERT_TRUE(none.error.empty()) << none.error.message;
    EXPECT_TRUE(matches(none, R"({"name": "ping", "arguments": {}})"));
    EXPECT_FALSE(matches(none, R"({"name": "ping", "arguments": {"x": 1}})"));
}

TEST(ChatTools, ToolCallsAndResultsInTheConversationAreRendered) {
    json j = base_request();
    j["tools"] = weather_tools();
    j["messages"] = {
        {{"role", "system"}, {"content", "be brief"}},
        {{"role", "user"}, {"content", "weather in Oslo?"}},
        {{"role", "assistant"}, {"content", nullptr},
         {"tool_calls", {{{"id", "call_1"}, {"type", "function"},
                          {"function", {{"name", "get_weather"}, {"arguments", R"({"city":"Oslo"})"}}}}}}},
        {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "sunny, 21 C"}},
    };
    auto p = parse(j);
    ASSERT_TRUE(p.error.empty()) << p.error.message;
    ASSERT_EQ(p.request.messages.size(), 5u);  // + the tools' system message
    EXPECT_EQ(p.request.messages[2].role, "assistant");
    ASSERT_EQ(p.request.messages[2].parts.size(), 1u);
    EXPECT_EQ(p.request.messages[2].parts[0].text, R"({"name": "get_weather", "arguments": {"city":"Oslo"}})");
    EXPECT_EQ(p.request.messages[3].role, "user");
    EXPECT_EQ(p.request.messages[3].parts[0].text, "Result of the tool call call_1 (get_weather):\nsunny, 21 C");
    EXPECT_EQ(p.request.messages[4].role, "system");

    json no_id = j;
    no_id["messages"][3].erase("tool_call_id");
    EXPECT_EQ(parse(no_id).error.param, "messages[3].tool_call_id");
    json bad_call = j;
    bad_call["messages"][2]["tool_calls"][0]["function"]["arguments"] = json{{"city", "Oslo"}};  // must be a string
    EXPECT_EQ(parse(bad_call).error.param, "messages[2].tool_calls[0]");
    json fn = j;
    fn["messages"][3]["role"] = "function";
    EXPECT_EQ(parse(fn).error.param, "messages[3].role");
}

TEST(ChatTools, TheCallIsReadBackPieceByPiece) {
    struct Case {
        std::string text, name, arguments;
    };
    const std::vector<Case> cases = {
        {R"({"name": "get_weather", "arguments": {"city": "Oslo"}})", "get_weather", R"({"city": "Oslo"})"},
        {R"( {"arguments":{"note":"a } and a \" and {[","n":[1,{"x":2}]} ,"name":"count"})", "count",
         R"({"note":"a } and a \" and {[","n":[1,{"x":2}]})"},
        {"{\n  \"name\" : \"na\\u006de\",\n  \"arguments\" : {}\n}", "name", "{}"},
    };
    for (const Case& c : cases) {
        for (size_t step : {size_t(1), size_t(3), c.text.size()}) {
            es::server::ToolCallReader reader;
            std::string pieces;
            bool args_before_name = false;
            for (size_t i = 0; i < c.text.size(); i += step) {
                std::string piece = reader.push(c.text.substr(i, step));
                if (!piece.empty() && !reader.name_known()) args_before_name = true;
                pieces += piece;
            }
            std::string why;
            EXPECT_TRUE(reader.complete(&why)) << c.text << ": " << why;
            EXPECT_EQ(reader.name(), c.name) << c.text;
            EXPECT_EQ(reader.arguments(), c.arguments) << c.text;
            EXPECT_EQ(pieces, c.arguments) << c.text << " step " << step;
            EXPECT_FALSE(args_before_name);
        }
    }
    es::server::ToolCallReader partial;
    partial.push(R"({"name": "count", "arguments": {"n": )");
    EXPECT_FALSE(partial.complete(nullptr));
}

TEST(ChatTools, AutoLetsTheFirstTokenChooseTextOrACall) {
    // Byte tokens for everything JSON needs, plus a few words.
    std::vector<std::string> bytes = {""};  // 0: a control token
    for (int b = 1; b < 256; ++b) bytes.push_back(std::string(1, char(b)));
    const int hello = int(bytes.size());
    bytes.push_back("Hello");
    const int open_name = int(bytes.size());
    bytes.push_back("{\"name\"");
    const int space_word = int(bytes.size());
    bytes.push_back(" word");
    auto vocab = std::make_shared<es::TokenVocabulary>(bytes);
    auto masks = es::server::TextTokenMasks::build(*vocab);
    json schema = {{"type", "object"},
                   {"properties", {{"name", {{"const", "count"}}}, {"arguments", {{"type", "object"}, {"properties", json::object()}, {"additionalProperties", false}}}}},
                   {"required", {"name", "arguments"}},
                   {"additionalProperties", false}};
    auto make = [&]() {
        std::string err;
        auto json_c = es::JsonConstraint::create(schema.dump(), es::SchemaLimits(), vocab, &err);
        EXPECT_TRUE(json_c) << err;
        return es::server::TextOrJsonConstraint(std::move(json_c), masks);
    };
    using Mode = es::server::TextOrJsonConstraint::Mode;
    auto allowed = [](es::TokenConstraint& c, int id) {
        std::vector<uint32_t> m;
        c.allowed_tokens(100, &m);
        return es::server::TextTokenMasks::has(m, id);
    };
    {
        auto c = make();
        EXPECT_TRUE(c.complete());
        EXPECT_TRUE(allowed(c, hello));
        EXPECT_TRUE(allowed(c, open_name));
        EXPECT_TRUE(allowed(c, '{'));
        EXPECT_FALSE(allowed(c, space_word));  // whitespace starts only a call, and " word" cannot
        EXPECT_FALSE(allowed(c, 0));
        ASSERT_TRUE(c.accept(hello));
        EXPECT_EQ(c.mode(), Mode::Text);
        EXPECT_TRUE(c.complete());
        EXPECT_TRUE(allowed(c, '{'));  // free text from here on
        EXPECT_TRUE(allowed(c, space_word));
        EXPECT_FALSE(allowed(c, 0));
        EXPECT_TRUE(c.accept('{'));
    }
    {
        auto c = make();
        ASSERT_TRUE(c.accept(open_name));
        EXPECT_EQ(c.mode(), Mode::Json);
        EXPECT_FALSE(c.complete());
        EXPECT_FALSE(allowed(c, hello));
        for (char ch : std::string(R"(:"count","arguments":{}})")) ASSERT_TRUE(c.accept(uint8_t(ch))) << ch;
        EXPECT_TRUE(c.complete());
        c.reset();
        EXPECT_EQ(c.mode(), Mode::Undecided);
    }
}
