#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "assistant/generation.h"
#include "assistant/tokenizer.h"
#include "constrained/json_constraint.h"
#include "test_files.h"

using namespace es;
using json = nlohmann::json;

namespace {

json tool_schemas() {
    return json::parse(es_test::read_text(std::string(ES_FIXTURES_DIR) + "/constrained/tool_schemas.json"));
}

// Does the matcher take `text` as one complete value of `schema`?
bool accepts(const std::string& schema, const std::string& text) {
    CompiledSchema cs;
    std::string error;
    if (!compile_json_schema(schema, SchemaLimits(), &cs, &error)) {
        ADD_FAILURE() << "schema refused: " << error;
        return false;
    }
    JsonMatcher m(&cs);
    MatchState st;
    m.start(&st);
    return m.advance_bytes(&st, text) && m.complete(st);
}

std::string refusal(const std::string& schema, SchemaLimits limits = SchemaLimits()) {
    CompiledSchema cs;
    std::string error;
    if (compile_json_schema(schema, limits, &cs, &error)) return "";
    return error;
}

const Tokenizer& tiny_tokenizer() {
    static Tokenizer* t = [] {
        auto* tok = new Tokenizer();
        const auto bytes = es_test::read_bytes(es_test::tiny_dir() + "/tokenizer.model");
        std::string error;
        EXPECT_TRUE(tok->load(bytes.data(), bytes.size(), &error)) << error;
        tok->add_tokens_from_config(es_test::read_text(es_test::tiny_dir() + "/checkpoint/tokenizer_config.json"), &error);
        return tok;
    }();
    return *t;
}

}  // namespace

TEST(JsonSchemaMatcher, ObjectsKeysInAnyOrderRequiredAndNoExtras) {
    const std::string s = tool_schemas()["classify"].dump();
    EXPECT_TRUE(accepts(s, R"({"label":"polyp","confidence":0.5})"));
    EXPECT_TRUE(accepts(s, R"({ "confidence" : 1 , "label" : "normal mucosa", "rationale": "a \"quoted\" \u00e9 word" })"));
    EXPECT_TRUE(accepts(s, "\n{\"confidence\":0,\"label\":\"ulcer\"}\n"));
    EXPECT_FALSE(accepts(s, R"({"label":"polyp"})"));                                  // confidence missing
    EXPECT_FALSE(accepts(s, R"({"label":"tumour","confidence":0.5})"));                // not in enum
    EXPECT_FALSE(accepts(s, R"({"label":"polyp","confidence":1.5})"));                 // above maximum
    EXPECT_FALSE(accepts(s, R"({"label":"polyp","confidence":-0.1})"));                // below minimum
    EXPECT_FALSE(accepts(s, R"({"label":"polyp","confidence":0.5,"extra":1})"));       // additionalProperties false
    EXPECT_FALSE(accepts(s, R"({"label":"polyp","label":"ulcer","confidence":0.5})")); // duplicate key
    EXPECT_FALSE(accepts(s, R"({"label":"polyp","confidence":0.5,})"));                // trailing comma
    EXPECT_FALSE(accepts(s, R"({"label":"polyp","confidence":05})"));                  // leading zero
    EXPECT_FALSE(accepts(s, R"({"label":"polyp","confidence":0.5,"rationale":"12345678901234567890123456789012345678901"})"));  // 41 > maxLength 40
    EXPECT_FALSE(accepts(s, R"({"label":"polyp","confidence":0.5)"));                  // not complete
    EXPECT_FALSE(accepts(s, "{      \"label\":\"polyp\",\"confidence\":0.5}"));        // 6 spaces > 4
}

TEST(JsonSchemaMatcher, StringsNumbersArraysAnyOfRefs) {
    EXPECT_TRUE(accepts(R"({"type":"string","minLength":2,"maxLength":3})", R"("é€")"));    // code points, not bytes
    EXPECT_FALSE(accepts(R"({"type":"string","minLength":2,"maxLength":3})", R"("a")"));
    EXPECT_FALSE(accepts(R"({"type":"string","maxLength":3})", R"("abcd")"));
    EXPECT_FALSE(accepts(R"({"type":"string"})", "\"a\nb\""));                               // raw control character
    EXPECT_FALSE(accepts(R"({"type":"string"})", R"("\ud83d\ude00")"));                       // surrogates are refused
    EXPECT_TRUE(accepts(R"({"type":"string"})", R"("\u00e9\n\t\\\/")"));
    EXPECT_FALSE(accepts(R"({"type":"string"})", "\"\xC3\x28\""));                            // invalid UTF-8
    // Patterns (the supported subset): anchored, unanchored, classes, bounded repeats.
    const std::string id = R"({"type":"string","pattern":"^[A-Z]{2}-\\d{3}$"})";
    EXPECT_TRUE(accepts(id, R"("AB-123")"));
    EXPECT_FALSE(accepts(id, R"("AB-12")"));
    EXPECT_FALSE(accepts(id, R"("ab-123")"));
    EXPECT_FALSE(accepts(id, R"("AB-1234")"));
    const std::string contains = R"({"type":"string","pattern":"mm","maxLength":10})";
    EXPECT_TRUE(accepts(contains, R"("12 mm")"));
    EXPECT_TRUE(accepts(contains, R"("mm wide")"));
    EXPECT_FALSE(accepts(contains, R"("12 cm")"));
    EXPECT_FALSE(accepts(contains, R"("12 mm longer")"));  // 10 characters at most
    EXPECT_TRUE(accepts(R"({"type":"string","pattern":"^[^x]*y?$"})", R"("abc")"));
    EXPECT_TRUE(accepts(R"({"type":"string","pattern":"^[^x]*y?$"})", R"("")"));
    EXPECT_FALSE(accepts(R"({"type":"string","pattern":"^[^x]*y?$"})", R"("axb")"));
    EXPECT_TRUE(accepts(R"({"type":"string","pattern":"^a.c"})", R"("abc and more")"));
    EXPECT_FALSE(accepts(R"({"type":"string","pattern":"^a.c"})", R"("xabc")"));
    EXPECT_FALSE(accepts(R"({"type":"string","pattern":"b"})", R"("\u0062")"));  // no escapes under a pattern
    EXPECT_TRUE(accepts(R"({"type":"integer","minimum":-5,"maximum":120})", "-5"));
    EXPECT_TRUE(accepts(R"({"type":"integer","minimum":-5,"maximum":120})", "120"));
    EXPECT_FALSE(accepts(R"({"type":"integer","minimum":-5,"maximum":120})", "121"));
    EXPECT_FALSE(accepts(R"({"type":"integer","minimum":-5,"maximum":120})", "1.0"));
    EXPECT_FALSE(accepts(R"({"type":"integer","minimum":10})", "9"));
    EXPECT_TRUE(accepts(R"({"type":"number","exclusiveMinimum":0,"maximum":0.3})", "0.3"));
    EXPECT_FALSE(accepts(R"({"type":"number","exclusiveMinimum":0,"maximum":0.3})", "0"));
    EXPECT_FALSE(accepts(R"({"type":"number","exclusiveMinimum":0,"maximum":0.3})", "0.300001"));
    EXPECT_TRUE(accepts(R"({"type":"number"})", "-12.5e-3"));
    EXPECT_TRUE(accepts(R"({"type":"array","items":{"type":"boolean"},"minItems":1,"maxItems":2})", "[true, false]"));
    EXPECT_FALSE(accepts(R"({"type":"array","items":{"type":"boolean"},"minItems":1,"maxItems":2})", "[]"));
    EXPECT_FALSE(accepts(R"({"type":"array","items":{"type":"boolean"},"minItems":1,"maxItems":2})", "[true,true,true]"));
    EXPECT_TRUE(accepts(R"({"anyOf":[{"type":"null"},{"type":"integer","minimum":3}]})", "null"));
    EXPECT_TRUE(accepts(R"({"anyOf":[{"type":"integer","maximum":3},{"type":"integer","minimum":10}]})", "12"));
    EXPECT_FALSE(accepts(R"({"anyOf":[{"type":"integer","maximum":3},{"type":"integer","minimum":10}]})", "5"));
    EXPECT_TRUE(accepts(R"({"enum":[1,12,"a",null,{"k":[1]}]})", "12"));
    EXPECT_TRUE(accepts(R"({"enum":[1,12,"a",null,{"k":[1]}]})", "1"));
    EXPECT_TRUE(accepts(R"({"enum":[1,12,"a",null,{"k":[1]}]})", R"({"k":[1]})"));
    EXPECT_FALSE(accepts(R"({"enum":[1,12,"a",null]})", "13"));
    EXPECT_NE(refusal(R"({"enum":[1e400, 2]})"), "");  // a number out of double range is refused, never written as null
    const std::string tree = tool_schemas()["tree"].dump();
    EXPECT_TRUE(accepts(tree, R"({"name":"a","children":[{"name":"b","children":[{"name":"c"}]}]})"));
    EXPECT_FALSE(accepts(tree, R"({"name":"a","children":[{"children":[]}]})"));
    const std::string call = tool_schemas()["tool_call"].dump();
    EXPECT_TRUE(accepts(call, R"({"tool":"finish","arguments":{"answer":null}})"));
    EXPECT_TRUE(accepts(call, R"({"arguments":{"points":[{"x":-5,"y":2.25}]},"tool":"segment"})"));
    EXPECT_FALSE(accepts(call, R"({"tool":"finish","arguments":{"points":[]}})"));
    // Additional properties: any key, but a declared key keeps its own schema.
    const std::string open = tool_schemas()["open_object"].dump();
    EXPECT_TRUE(accepts(open, R"({"note":"x","other":[1,{"a":null}],"n":2})"));
    EXPECT_FALSE(accepts(open, R"({"note":5})"));
    EXPECT_FALSE(accepts(open, R"({"other":1})"));
}

TEST(JsonSchemaMatcher, HostileSchemasAreRefusedInPlainWords) {
    EXPECT_NE(refusal("{\"type\":"), "");
    EXPECT_NE(refusal(R"({"type":"string","pattern":"^(a+)+$"})").find("groups or alternatives"), std::string::npos);
    EXPECT_NE(refusal(R"({"type":"string","pattern":"a|b"})").find("groups or alternatives"), std::string::npos);
    EXPECT_NE(refusal(R"({"type":"string","pattern":"\\bword"})").find("not supported"), std::string::npos);
    EXPECT_NE(refusal(R"({"type":"string","pattern":"^[a-z]{70}$"})").find("too long"), std::string::npos);
    EXPECT_NE(refusal(R"({"type":"string","pattern":"^\"+$"})").find("cannot hold"), std::string::npos);
    EXPECT_NE(refusal(R"({"type":"string","pattern":"^a{5}$","maxLength":3})").find("more characters than maxLength"), std::string::npos);
    EXPECT_NE(refusal(R"({"type":"string","pattern":"a","minLength":2})").find("pattern together with minLength"), std::string::npos);
    EXPECT_NE(refusal(R"({"type":"string","format":"date-time"})").find("\"format\" is not supported"), std::string::npos);
    EXPECT_NE(refusal(R"({"type":"object","if":{}})").find("\"if\" is not supported"), std::string::npos);
    EXPECT_NE(refusal(R"({"$ref":"https://example.org/s.json"})").find("outside this schema"), std::string::npos);
    EXPECT_NE(refusal(R"({"$ref":"#/$defs/missing"})").find("names nothing"), std::string::npos);
    // A required property that refers back to itself: no finite value exists.
    EXPECT_NE(refusal(R"({"$defs":{"n":{"type":"object","properties":{"next":{"$ref":"#/$defs/n"}},"required":["next"]}},"$ref":"#/$defs/n"})")
                  .find("no way to end"), std::string::npos);
    EXPECT_NE(refusal(R"({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"})").find("leads back to itself"), std::string::npos);
    json big_enum = {{"enum", json::array()}};
    for (int i = 0; i < 1000; ++i) big_enum["enum"].push_back("value " + std::to_string(i));
    EXPECT_NE(refusal(big_enum.dump()).find("at most 256"), std::string::npos);
    EXPECT_NE(refusal(std::string(70000, ' ') + "{}").find("bytes, more than"), std::string::npos);
    std::string deep;
    for (int i = 0; i < 200; ++i) deep += "{\"items\":";
    deep += "{}" + std::string(200, '}');
    EXPECT_NE(refusal(deep).find("nests more than"), std::string::npos);
    EXPECT_NE(refusal(R"({"oneOf":[{"type":"integer"},{"type":"number"}]})").find("Use anyOf"), std::string::npos);
    EXPECT_NE(refusal(R"({"type":"array","minItems":3,"maxItems":2})").find("minItems is larger"), std::string::npos);
    EXPECT_NE(refusal(R"({"type":"object","properties":{"a":{}},"required":["b"],"additionalProperties":false})").find("\"b\" is required"), std::string::npos);
    EXPECT_NE(refusal(R"({"type":"integer","minimum":5,"maximum":4})").find("no whole number"), std::string::npos);
    // Overlapping alternatives nested: the number of parses alive at once would explode.
    std::string overlap = R"({"type":"string"})";
    for (int i = 0; i < 7; ++i) overlap = R"({"type":"array","items":{"anyOf":[)" + overlap + "," + overlap + "]}}";
    EXPECT_NE(refusal(overlap).find("readings of one output"), std::string::npos);
    // A long chain of references is refused without deep recursion.
    json chain = {{"$defs", json::object()}, {"$ref", "#/$defs/a0"}};
    for (int i = 0; i < 1400; ++i) chain["$defs"]["a" + std::to_string(i)] = {{"$ref", "#/$defs/a" + std::to_string(i + 1)}};
    chain["$defs"]["a1400"] = {{"type", "integer"}};
    EXPECT_NE(refusal(chain.dump()).find("levels deep"), std::string::npos);
    // Wide anyOf graphs compile quickly (each alternative list is visited once per depth).
    json wide_any = {{"$defs", {{"leaf", {{"type", "integer"}}}}}, {"type", "array"}, {"items", {{"anyOf", json::array()}}}};
    for (int i = 0; i < 32; ++i) {
        json alts = json::array();
        for (int k = 0; k < 32; ++k) alts.push_back({{"$ref", "#/$defs/leaf"}});
        wide_any["items"]["anyOf"].push_back({{"type", "array"}, {"items", {{"anyOf", alts}}}});
    }
    EXPECT_NE(refusal(wide_any.dump()).find("readings of one output"), std::string::npos);
    // Many nodes (each small, all together too large).
    SchemaLimits small;
    small.max_nodes = 50;
    json wide = {{"type", "object"}, {"properties", json::object()}};
    for (int i = 0; i < 60; ++i) wide["properties"]["p" + std::to_string(i)] = {{"type", "integer"}};
    EXPECT_NE(refusal(wide.dump(), small).find("too large"), std::string::npos);
}

// The trie walk (with its wholesale free-text path) allows exactly the tokens
// that trying every token one by one allows, all along random outputs.
TEST(JsonConstraint, MaskEqualsTryingEveryToken) {
    const Tokenizer& tok = tiny_tokenizer();
    auto vocab = TokenVocabulary::from_tokenizer(tok);
    ASSERT_EQ(vocab->size(), tok.vocab_size());
    EXPECT_TRUE(vocab->bytes(tok.eos_id()).empty());
    EXPECT_TRUE(vocab->bytes(tok.piece_to_id("<start_of_turn>")).empty());
    const json schemas = tool_schemas();
    std::vector<uint32_t> mask;
    int compared = 0;
    for (auto it = schemas.begin(); it != schemas.end(); ++it) {
        std::string error;
        std::unique_ptr<JsonConstraint> c = JsonConstraint::create(it.value().dump(), SchemaLimits(), vocab, &error);
        ASSERT_TRUE(c) << it.key() << ": " << error;
        // Roomy budgets, then tight ones (where the end must be steered to).
        for (uint64_t seed = 1; seed <= 14; ++seed) {
            Rng rng(seed);
            c->reset();
            const int max_new = c->min_tokens() + 1 + (seed <= 6 ? int(seed) * 8 : int(seed) - 6);
            for (int k = 0; k < max_new; ++k) {
                const int remaining = max_new - k;
                c->allowed_tokens(remaining, &mask);
                std::vector<int> allowed;
                for (int id = 0; id < vocab->size(); ++id) {
                    const bool want = [&] {
                        if (vocab->bytes(id).empty() || remaining - 2 < 0) return false;
                        MatchState s = c->state();
                        return c->matcher().advance_bytes(&s, vocab->bytes(id)) && c->matcher().min_completion(s) <= remaining - 2;
                    }();
                    const bool got = (mask[size_t(id) >> 5] >> (id & 31)) & 1;
                    ASSERT_EQ(got, want) << it.key() << " seed " << seed << " after \"" << c->text() << "\": token " << id
                                         << " \"" << vocab->bytes(id) << "\"";
                    if (got) allowed.push_back(id);
                }
                ++compared;
                if (allowed.empty()) {
                    ASSERT_TRUE(c->complete()) << it.key() << ": nothing allowed and not complete after \"" << c->text() << "\"";
                    break;
                }
                ASSERT_TRUE(c->accept(allowed[size_t(rng.next() % allowed.size())]));
            }
        }
    }
    EXPECT_GT(compared, 500);
}

// Random logits at high temperature, budgets from the shortest possible
// output up: every answer ends on the stop token with a complete value.
TEST(JsonConstraint, GeneratorAlwaysFinishesWithCompleteJson) {
    const Tokenizer& tok = tiny_tokenizer();
    auto vocab = TokenVocabulary::from_tokenizer(tok);
    const json schemas = tool_schemas();
    const int V = tok.vocab_size();
    std::vector<float> logits(static_cast<size_t>(V));
    int outputs = 0;
    for (auto it = schemas.begin(); it != schemas.end(); ++it) {
        std::string error;
        std::shared_ptr<JsonConstraint> c = JsonConstraint::create(it.value().dump(), SchemaLimits(), vocab, &error);
        ASSERT_TRUE(c) << error;
        const int shortest = c->min_tokens() + 1;
        for (uint64_t seed = 1; seed <= 40; ++seed) {
            GenerationConfig g;
            g.max_new_tokens = seed <= 10 ? shortest + int(seed) - 1 : 200;
            g.stop_ids = {tok.eos_id(), tok.piece_to_id("<end_of_turn>")};
            g.sampler.temperature = 2.0f;
            g.sampler.seed = seed;
            g.constraint = c;
            Generator gen;
            gen.start(g, {tok.bos_id()});
            Rng rng(seed * 7919);
            StepResult r;
            do {
                // Stop tokens are the likeliest, so an unconstrained model would end at once.
                for (int v = 0; v < V; ++v) logits[size_t(v)] = float(rng.uniform() * 6.0);
                logits[size_t(tok.eos_id())] = 9.0f;
                r = gen.on_logits(logits.data(), V);
            } while (!r.finished);
            ASSERT_EQ(gen.reason(), FinishReason::StopToken) << it.key() << " seed " << seed << ": " << gen.error() << " after \"" << c->text() << "\"";
            std::vector<int> ids = gen.generated();
            ids.pop_back();
            const std::string text = tok.decode(ids);
            EXPECT_EQ(text, c->text());
            const json parsed = json::parse(text, nullptr, false);
            ASSERT_FALSE(parsed.is_discarded()) << it.key() << ": " << text;
            ++outputs;
        }
    }
    EXPECT_EQ(outputs, 40 * int(schemas.size()));
}

TEST(JsonConstraint, StartRefusesABudgetBelowTheShortestValue) {
    const Tokenizer& tok = tiny_tokenizer();
    auto vocab = TokenVocabulary::from_tokenizer(tok);
    std::string error;
    auto c = JsonConstraint::create(tool_schemas()["classify"].dump(), SchemaLimits(), vocab, &error);
    ASSERT_TRUE(c);
    // {"confidence":0,"label":"ulcer"} is the shortest value: 32 bytes.
    EXPECT_EQ(c->min_tokens(), 32);
    // A vocabulary without a one-byte token for '}' cannot always finish.
    std::vector<std::string> bytes;
    for (int b = 0; b < 128; ++b) bytes.push_back(b == '}' ? std::string("}x") : std::string(1, char(b)));
    EXPECT_FALSE(JsonConstraint::create(R"({"type":"object"})", SchemaLimits(), std::make_shared<TokenVocabulary>(bytes), &error));
    EXPECT_NE(error.find("no single token for '}'"), std::string::npos) << error;
}

// With no token to spare inside a key, a token that would make the key a
// duplicate of a declared key written already is refused, one that goes on to
// a declared key not yet written is allowed: the mask still equals trying
// every token.
TEST(JsonConstraint, KeyAtTheEdgeOfTheBudget) {
    std::vector<std::string> texts = {""};
    for (int c = 32; c < 127; ++c) texts.push_back(std::string(1, char(c)));
    for (const char* t : {"te", "tes", "tex", "note", "notes"}) texts.push_back(t);
    auto vocab = std::make_shared<TokenVocabulary>(texts);
    std::string error;
    auto c = JsonConstraint::create(
        R"({"type":"object","properties":{"note":{"type":"integer"},"notes":{"type":"integer"}},"required":["note"],"additionalProperties":{"type":"integer"}})",
        SchemaLimits(), vocab, &error);
    ASSERT_TRUE(c) << error;
    for (char ch : std::string(R"({"note":1,"no)"))
        ASSERT_TRUE(c->accept(int(std::find(texts.begin(), texts.end(), std::string(1, ch)) - texts.begin())));
    int cost = 0;
    ASSERT_GE(c->matcher().free_text_room(c->state(), &cost), 0);
    std::vector<uint32_t> mask;
    auto allowed = [&](const std::string& t) {
        const int id = int(std::find(texts.begin(), texts.end(), t) - texts.begin());
        return ((mask[size_t(id) >> 5] >> (id & 31)) & 1) != 0;
    };
    for (int remaining = cost + 1; remaining <= cost + 4; ++remaining) {
        c->allowed_tokens(remaining, &mask);
        for (int id = 0; id < vocab->size(); ++id) {
            bool want = false;
            if (!vocab->bytes(id).empty() && remaining - 2 >= 0) {
                MatchState s = c->state();
                want = c->matcher().advance_bytes(&s, vocab->bytes(id)) && c->matcher().min_completion(s) <= remaining - 2;
            }
            EXPECT_EQ(((mask[size_t(id) >> 5] >> (id & 31)) & 1) != 0, want) << "remaining " << remaining << " token \"" << texts[size_t(id)] << "\"";
        }
    }
    // At the edge: "te" would spell "note" again, "tes" goes on to "notes", "tex" is a new key.
    c->allowed_tokens(cost + 2, &mask);
    EXPECT_FALSE(allowed("te"));
    EXPECT_TRUE(allowed("tes"));
    EXPECT_TRUE(allowed("tex"));
    c->allowed_tokens(cost + 3, &mask);
    EXPECT_TRUE(allowed("te"));
}
