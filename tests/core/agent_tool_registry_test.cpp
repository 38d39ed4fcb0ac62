#include <gtest/gtest.h>

#include <set>

#include "agent/tool_registry.h"
#include "agent_test_support.h"
#include "assistant/generation.h"
#include "assistant/sampler.h"
#include "assistant/tokenizer.h"
#include "constrained/json_constraint.h"
#include "constrained/json_schema.h"
#include "test_files.h"

using namespace es;
using json = nlohmann::json;

namespace {

bool action_ok(const ToolRegistry& r, const std::string& text, std::string* error = nullptr,
               const std::vector<std::string>& names = {}) {
    ToolCall call;
    std::string why;
    const bool ok = r.parse_action(text, &call, &why, names);
    if (error) *error = why;
    return ok;
}

}  // namespace

TEST(ToolRegistry, StandardToolsAndTheirActionSchemaCompileWithTheConstrainedDecoder) {
    const ToolRegistry r = ToolRegistry::standard();
    std::vector<std::string> names;
    for (const auto& t : r.tools()) names.push_back(t.name);
    EXPECT_EQ(names, (std::vector<std::string>{"classify", "ground", "describe_region", "segment", "count_lesions",
                                               "describe_image", "fill_report_fields", "compare_images", "finish"}));
    for (const auto& t : r.tools()) {
        EXPECT_FALSE(t.description.empty()) << t.name;
        EXPECT_EQ(t.input_schema["type"], "object") << t.name;
    }
    CompiledSchema cs;
    std::string error;
    const json schema = r.action_schema();
    ASSERT_TRUE(schema.contains("oneOf"));
    EXPECT_EQ(schema["oneOf"].size(), 9u);
    ASSERT_TRUE(compile_json_schema(schema.dump(), SchemaLimits(), &cs, &error)) << error;
    EXPECT_NE(r.describe_for_prompt().find("- ground: "), std::string::npos);
}

TEST(ToolRegistry, HandWrittenGoodCallsValidate) {
    const ToolRegistry r = ToolRegistry::standard();
    CompiledSchema cs;
    std::string error;
    ASSERT_TRUE(compile_json_schema(r.action_schema().dump(), SchemaLimits(), &cs, &error)) << error;
    const std::vector<std::string> good = {
        R"({"tool":"classify","arguments":{"label_set":"gi_findings"}})",
        R"({"arguments":{"max_boxes":3,"text":"polyp"},"tool":"ground"})",
        R"({"tool":"describe_region","arguments":{"box":[10,10.5,30,30],"question":"What is this?"}})",
        R"({"tool":"segment","arguments":{"points":[{"x":12,"y":30.25,"positive":true},{"x":1,"y":2,"positive":false}]}})",
        R"({"tool":"segment","arguments":{"boxes":[[1,2,3,4]]}})",
        R"({"tool":"count_lesions","arguments":{}})",
        R"({"tool":"describe_image","arguments":{"question":""}})",
        R"({"tool":"fill_report_fields","arguments":{"findings":["f1"]}})",
        R"({"tool":"compare_images","arguments":{"image_a":"a.jpg","image_b":"b.jpg"}})",
        R"({"tool": "finish", "arguments": {"answer": "Two sessile polyps."}})",
    };
    for (const auto& g : good) {
        EXPECT_TRUE(action_ok(r, g, &error)) << g << ": " << error;
        EXPECT_TRUE(json_text_matches_schema(cs, g)) << g;
    }
    ToolCall call;
    ASSERT_TRUE(r.parse_action(good[1], &call, &error));
    EXPECT_EQ(call.tool, "ground");
    EXPECT_EQ(call.arguments, json({{"text", "polyp"}, {"max_boxes", 3}}));
}

TEST(ToolRegistry, BadCallsAreRefusedWithPlainWords) {
    const ToolRegistry r = ToolRegistry::standard();
    CompiledSchema cs;
    std::string error;
    ASSERT_TRUE(compile_json_schema(r.action_schema().dump(), SchemaLimits(), &cs, &error)) << error;
    const std::vector<std::string> bad = {
        R"({"tool":"biopsy","arguments":{}})",                                  // no such tool
        R"({"tool":"ground"})",                                                 // arguments missing
        R"({"tool":"ground","arguments":{}})",                                  // text missing
        R"({"tool":"ground","arguments":{"text":"polyp","colour":"red"}})",     // extra argument
        R"({"tool":"ground","arguments":{"text":"polyp","max_boxes":20}})",     // above maximum
        R"({"tool":"ground","arguments":{"text":""}})",                         // too short
        R"({"tool":"ground","arguments":{"label_set":"gi_findings"}})",         // another tool's arguments
        R"({"tool":"describe_region","arguments":{"box":[1,2,3]}})",            // 3 numbers
        R"({"tool":"describe_region","arguments":{"box":[1,2,3,-4]}})",         // negative
        R"({"tool":"segment","arguments":{"points":[{"x":1,"y":2}]}})",         // positive missing
        R"({"tool":"finish","arguments":{"answer":""}})",                       // empty answer
        R"({"tool":"finish","arguments":{"answer":"x"},"extra":1})",            // extra key
        R"({"tool":"count_lesions","arguments":{}}  trailing)",                 // not JSON
        R"(["count_lesions"])",                                                 // not an object
        "I will now call the ground tool.",                                     // prose
    };
    for (const auto& b : bad) {
        EXPECT_FALSE(action_ok(r, b, &error)) << b;
        EXPECT_FALSE(error.empty()) << b;
        EXPECT_EQ(error.find("exception"), std::string::npos) << error;
        EXPECT_FALSE(json_text_matches_schema(cs, b)) << b;
    }
    EXPECT_FALSE(action_ok(r, "not json", &error));
    EXPECT_NE(error.find("not valid JSON"), std::string::npos) << error;
    EXPECT_FALSE(action_ok(r, R"({"tool":"biopsy","arguments":{}})", &error));
    EXPECT_NE(error.find("biopsy"), std::string::npos) << error;
}

TEST(ToolRegistry, AFinishOnlySchemaAllowsOnlyFinish) {
    const ToolRegistry r = ToolRegistry::standard();
    const json schema = r.action_schema({"finish"});
    EXPECT_FALSE(schema.contains("oneOf"));
    EXPECT_EQ(schema["properties"]["tool"]["const"], "finish");
    std::string error;
    EXPECT_TRUE(action_ok(r, R"({"tool":"finish","arguments":{"answer":"done"}})", &error, {"finish"})) << error;
    EXPECT_FALSE(action_ok(r, R"({"tool":"ground","arguments":{"text":"polyp"}})", &error, {"finish"}));
    EXPECT_NE(error.find("may call now"), std::string::npos) << error;
}

TEST(ToolRegistry, AddingAToolIsAddingOneEntry) {
    ToolRegistry r = ToolRegistry::standard();
    std::string error;
    ToolSpec measure{"measure_size", "Estimates a lesion's size in millimetres from its box.",
                     {{"type", "object"},
                      {"properties", {{"box", {{"type", "array"}, {"items", {{"type", "number"}}}, {"minItems", 4}, {"maxItems", 4}}}}},
                      {"required", {"box"}},
                      {"additionalProperties", false}},
                     {{"type", "object"}, {"properties", {{"mm", {{"type", "number"}, {"minimum", 0}}}}}, {"required", {"mm"}}}};
    ASSERT_TRUE(r.add(measure, &error)) << error;
    EXPECT_EQ(r.action_schema()["oneOf"].size(), 10u);
    EXPECT_TRUE(action_ok(r, R"({"tool":"measure_size","arguments":{"box":[1,2,3,4]}})", &error)) << error;
    EXPECT_TRUE(r.validate_output("measure_size", {{"mm", 6.5}}, &error)) << error;
    EXPECT_FALSE(r.validate_output("measure_size", {{"mm", -1}}, &error));

    EXPECT_FALSE(r.add(measure, &error));
    EXPECT_NE(error.find("already a tool"), std::string::npos) << error;
    ToolSpec bad_name = measure;
    bad_name.name = "Measure Size";
    EXPECT_FALSE(r.add(bad_name, &error));
    EXPECT_NE(error.find("lowercase"), std::string::npos) << error;
    ToolSpec regex = measure;  // a pattern outside the supported subset (groups, alternation)
    regex.name = "lookup";
    regex.input_schema = {{"type", "object"}, {"properties", {{"code", {{"type", "string"}, {"pattern", "^(AB|CD)$"}}}}}};
    EXPECT_FALSE(r.add(regex, &error));
    EXPECT_NE(error.find("pattern"), std::string::npos) << error;
    ToolSpec not_object = measure;
    not_object.name = "lookup";
    not_object.input_schema = {{"type", "string"}};
    EXPECT_FALSE(r.add(not_object, &error));
    EXPECT_EQ(r.tools().size(), 10u);
}

TEST(ToolRegistry, OutputsAreCheckedAgainstTheirSchemas) {
    const ToolRegistry r = ToolRegistry::standard();
    std::string error;
    const es::Mask m = agent_test::rect_mask({{10, 10, 20, 20}});
    EXPECT_TRUE(r.validate_output("segment", {{"masks", json::array({agent_test::mask_json(m, agent_test::box(10, 10, 20, 20))})}}, &error))
        << error;
    EXPECT_TRUE(r.validate_output("classify", agent_test::classify_output(0.5, 0.3, 0.2), &error)) << error;
    EXPECT_FALSE(r.validate_output("classify", agent_test::classify_output(1.5, 0.3, 0.2), &error));
    EXPECT_FALSE(r.validate_output("classify", {{"labels", json::array()}}, &error));
    EXPECT_FALSE(r.validate_output("count_lesions", {{"count", -1}}, &error));
    EXPECT_FALSE(r.validate_output("nothing", json::object(), &error));
    // Float noise from a host is rounded onto the decoder's grid of 6 decimals.
    const json noisy = {{"labels", json::array({{{"label", "polyp"}, {"probability", 0.1 + 0.2}}})}};
    EXPECT_TRUE(r.validate_output("classify", round_json_numbers(noisy), &error)) << error;
    EXPECT_EQ(round_json_numbers(noisy)["labels"][0]["probability"].get<double>(), 0.3);
}

// A host's output is checked as the decoder would write it: small numbers as
// plain decimals (a dump would write 4.3e-05, which bounded numbers refuse),
// strings up to their own maxLength (not the decoder's default cap of 1024).
TEST(ToolRegistry, OutputsWithSmallNumbersAndLongStringsValidate) {
    const ToolRegistry r = ToolRegistry::standard();
    std::string error;
    const json small = {{"labels", json::array({{{"label", "polyp"}, {"probability", 0.999957}},
                                                {{"label", "normal"}, {"probability", 0.000043}},
                                                {{"label", "ulcer"}, {"probability", 0.000001}}})}};
    EXPECT_TRUE(r.validate_output("classify", round_json_numbers(small), &error)) << error;
    EXPECT_TRUE(r.validate_output("describe_image", {{"text", std::string(4000, 'a')}}, &error)) << error;
    EXPECT_FALSE(r.validate_output("describe_image", {{"text", std::string(4001, 'a')}}, &error));
    const json rle = {{"size", {100, 100}}, {"counts", std::string(50000, 'a')}};
    EXPECT_TRUE(r.validate_output("segment", {{"masks", json::array({{{"box", {0, 0, 1, 1}}, {"rle", rle}}})}}, &error)) << error;
    EXPECT_TRUE(r.validate_arguments("ground", {{"text", "polyp"}, {"max_boxes", 2}}, &error)) << error;
    EXPECT_TRUE(r.validate_arguments("describe_region", {{"box", {0.00001, 0, 10, 10}}}, &error)) << error;
}

// The generated action schema drives the constrained decoder over the tiny
// model's real vocabulary: sampled from random logits at a high temperature,
// every call parses and validates (the constrained tests sample the tiny
// model itself; here the schema is the registry's).
TEST(ToolRegistry, SampledCallsUnderTheActionSchemaAlwaysValidate) {
    Tokenizer tok;
    const auto bytes = es_test::read_bytes(es_test::tiny_dir() + "/tokenizer.model");
    std::string error;
    ASSERT_TRUE(tok.load(bytes.data(), bytes.size(), &error)) << error;
    tok.add_tokens_from_config(es_test::read_text(es_test::tiny_dir() + "/checkpoint/tokenizer_config.json"), &error);
    const auto vocab = TokenVocabulary::from_tokenizer(tok);
    const ToolRegistry r = ToolRegistry::standard();
    std::shared_ptr<JsonConstraint> c = JsonConstraint::create(r.action_schema().dump(), SchemaLimits(), vocab, &error);
    ASSERT_TRUE(c) << error;
    const int V = tok.vocab_size();
    std::vector<float> logits(size_t(V), 0.0f);
    std::set<std::string> tools;
    for (uint64_t seed = 1; seed <= 60; ++seed) {
        GenerationConfig g;
        g.max_new_tokens = 160;
        g.stop_ids = {tok.eos_id(), tok.piece_to_id("<end_of_turn>")};
        g.sampler.temperature = 1.5f;
        g.sampler.seed = seed;
        g.constraint = c;
        Generator gen;
        gen.start(g, {tok.bos_id()});
        Rng rng(seed * 104729);
        StepResult step;
        do {
            for (int v = 0; v < V; ++v) logits[size_t(v)] = float(rng.uniform() * 6.0);
            logits[size_t(tok.eos_id())] = 9.0f;
            step = gen.on_logits(logits.data(), V);
        } while (!step.finished);
        ASSERT_EQ(gen.reason(), FinishReason::StopToken) << gen.error();
        std::vector<int> ids = gen.generated();
        ids.pop_back();
        const std::string text = tok.decode(ids);
        ToolCall call;
        ASSERT_TRUE(r.parse_action(text, &call, &error)) << text << ": " << error;
        EXPECT_TRUE(r.validate_arguments(call.tool, call.arguments, &error)) << text;
        tools.insert(call.tool);
    }
    EXPECT_GE(tools.size(), 5u);  // the oneOf is sampled across tools, not stuck on one
}
