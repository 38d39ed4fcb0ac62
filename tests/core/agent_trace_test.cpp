#include <gtest/gtest.h>

#include "agent/agent_loop.h"
#include "agent/agent_trace.h"
#include "agent_test_support.h"

using namespace es;
using namespace agent_test;

namespace {

AgentTrace protocol_run(const std::function<json(const std::string&, const json&)>& tools) {
    static const ToolRegistry registry = ToolRegistry::standard();
    AgentConfig config;
    config.mode = AgentMode::Protocol;
    AgentLoop loop(&registry);
    loop.start(config, "Wie viele Polypen? \xC3\xA9\xE2\x82\xAC \"quoted\"\n", "cju0qkwl35piu0993l0dewei2.jpg", "tiny@1", 42, nullptr);
    FakeHost host;
    host.tools = tools;
    host.run(loop);
    return loop.trace();
}

}  // namespace

TEST(AgentTrace, JsonLinesRoundTrip) {
    const AgentTrace t = protocol_run(consistent_tools(3, 3, {2}));
    ASSERT_GT(t.steps.size(), 8u);
    const std::string text = trace_to_jsonl(t);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), long(t.steps.size() + 1));
    AgentTrace back;
    const TraceLoadResult r = trace_from_jsonl(text, &back);
    EXPECT_TRUE(r.ok);
    EXPECT_TRUE(r.problems.empty());
    EXPECT_EQ(trace_difference(t, back), "");
    EXPECT_EQ(back.question, t.question);
    EXPECT_EQ(back.image, t.image);
    EXPECT_EQ(back.model, "tiny@1");
    EXPECT_EQ(back.seed, 42u);
    EXPECT_EQ(back.mode, "protocol");
    EXPECT_EQ(back.steps[5].recheck_of, "boxes_vs_masks");
    EXPECT_EQ(back.steps[5].checks, t.steps[5].checks);
    EXPECT_EQ(back.steps[3].finished_ms, t.steps[3].finished_ms);
    EXPECT_EQ(trace_to_jsonl(back), text);
}

TEST(AgentTrace, HostileAndMalformedLinesAreRefusedAndKept) {
    const AgentTrace t = protocol_run(consistent_tools(1, 1));
    std::string text = trace_to_jsonl(t);
    const std::string deep = std::string(100, '[') + std::string(100, ']');
    const std::vector<std::string> bad = {
        "{\"type\":\"step\",\"index\":1",                             // cut off
        deep,                                                          // nested 100 deep
        "{\"type\":\"note\",\"text\":\"hello\"}",                     // unknown type
        "{\"type\":\"step\",\"index\":99,\"tool\":\"ground\"}",       // out of order
        "{\"type\":\"step\",\"index\":-1,\"tool\":\"ground\"}",       // negative index
        "{\"type\":\"step\",\"index\":0,\"tool\":\"ground\",\"status\":\"approved\"}",  // unknown status
        "{\"type\":\"step\",\"index\":0,\"tool\":7}",                 // tool not text
        "{\"type\":\"header\",\"question\":\"again\"}",               // second header
        "\xFF\xFE garbage",
    };
    for (const auto& b : bad) text += b + "\n";
    text += "\n   \n";  // blank lines are fine
    AgentTrace back;
    const TraceLoadResult r = trace_from_jsonl(text, &back);
    EXPECT_TRUE(r.ok);
    ASSERT_EQ(r.problems.size(), bad.size());
    const size_t first = t.steps.size() + 2;
    for (size_t i = 0; i < bad.size(); ++i) {
        EXPECT_EQ(r.problems[i].rfind("line " + std::to_string(first + i) + ": ", 0), 0u) << r.problems[i];
        EXPECT_NE(r.problems[i].find("kept as it was"), std::string::npos) << r.problems[i];
        EXPECT_EQ(r.problems[i].find("exception"), std::string::npos) << r.problems[i];
    }
    EXPECT_NE(r.problems[0].find("not valid JSON at line 1"), std::string::npos) << r.problems[0];
    EXPECT_NE(r.problems[1].find("nested more than 32 levels"), std::string::npos) << r.problems[1];
    EXPECT_NE(r.problems[3].find("out of order"), std::string::npos) << r.problems[3];
    EXPECT_NE(r.problems[5].find("\"status\""), std::string::npos) << r.problems[5];
    EXPECT_NE(r.problems[7].find("second header"), std::string::npos) << r.problems[7];
    EXPECT_EQ(trace_difference(t, back), "");
    EXPECT_EQ(back.unreadable_lines, bad);
    // Saving again loses nothing: every refused line is written back as it was.
    const std::string again = trace_to_jsonl(back);
    for (const auto& b : bad) EXPECT_NE(again.find(b + "\n"), std::string::npos);

    AgentTrace none;
    const TraceLoadResult no_header = trace_from_jsonl("{\"type\":\"step\",\"index\":0,\"tool\":\"ground\"}\n", &none);
    EXPECT_FALSE(no_header.ok);
    EXPECT_NE(no_header.problems.back().find("no trace header"), std::string::npos);
    EXPECT_EQ(none.steps.size(), 1u);  // read all the same
}

TEST(AgentTrace, SameInputsGiveTheSameTraceAndDifferencesAreNamed) {
    const AgentTrace a = protocol_run(consistent_tools(3, 3, {2}));
    const AgentTrace b = protocol_run(consistent_tools(3, 3, {2}));
    EXPECT_EQ(trace_difference(a, b), "");
    const AgentTrace c = protocol_run(consistent_tools(3, 2, {2}));  // another count
    EXPECT_EQ(trace_difference(a, c), "step 7 (count_lesions): the outputs differ");
    const AgentTrace d = protocol_run(consistent_tools(2, 2));
    EXPECT_NE(trace_difference(a, d), "");
}

TEST(AgentTrace, ReplayOfARecordedRunReproducesItsChecksAndDecisions) {
    const ToolRegistry registry = ToolRegistry::standard();
    const AgentTrace recorded = protocol_run(consistent_tools(3, 3, {2}));
    AgentTrace loaded;
    ASSERT_TRUE(trace_from_jsonl(trace_to_jsonl(recorded), &loaded).ok);
    std::string error;
    const AgentTrace replayed = replay_trace(loaded, registry, AgentConfig(), nullptr, &error);
    EXPECT_EQ(error, "");
    EXPECT_EQ(trace_difference(recorded, replayed), "");

    // A file whose evaluator results were changed by hand does not replay the same.
    AgentTrace tampered = loaded;
    tampered.steps[4].checks[0].level = CheckLevel::Pass;
    EXPECT_EQ(trace_difference(tampered, replay_trace(tampered, registry, AgentConfig(), nullptr, &error)),
              "step 5 (segment): the evaluator's checks differ");
    // Nor one whose outputs no longer lead to its steps.
    AgentTrace rewired = loaded;
    rewired.steps[1].output["boxes"].erase(2);
    replay_trace(rewired, registry, AgentConfig(), nullptr, &error);
    EXPECT_NE(error.find("step 5: the loop asks for run_tool count_lesions"), std::string::npos) << error;
}

TEST(AgentTrace, ReplayFollowsRejectionsEditsAndPlannedRuns) {
    const ToolRegistry registry = ToolRegistry::standard();
    std::string error;
    // Protocol run with a rejection and an edit.
    AgentConfig config;
    config.mode = AgentMode::Protocol;
    AgentLoop loop(&registry);
    loop.start(config, "q", "img", "m", 3, nullptr);
    FakeHost host;
    host.tools = consistent_tools(3, 3);
    host.run(loop, 6);
    ASSERT_TRUE(loop.reject_step(2, "wrong mask", &error)) << error;
    host.run(loop, 10);
    ASSERT_TRUE(loop.edit_step(1, {{"boxes", json::array({{{"box", lesion_boxes()[1]}}})}}, "one polyp", &error)) << error;
    host.run(loop);
    ASSERT_EQ(loop.next().kind, AgentRequestKind::Finished);
    const AgentTrace recorded = loop.trace();
    EXPECT_EQ(recorded.steps[1].status, StepStatus::Edited);
    AgentTrace replayed = replay_trace(recorded, registry, AgentConfig(), nullptr, &error);
    EXPECT_EQ(error, "");
    EXPECT_EQ(trace_difference(recorded, replayed), "");

    // Planned run, stopped while a tool ran.
    AgentLoop planned(&registry);
    planned.start(AgentConfig(), "q", "img", "m", 3, nullptr);
    FakeHost model;
    model.tools = consistent_tools(2, 2);
    model.actions = {R"({"tool":"ground","arguments":{"text":"polyp"}})", R"({"tool":"count_lesions","arguments":{}})"};
    model.run(planned, 4);
    ASSERT_EQ(planned.next().kind, AgentRequestKind::RunTool);
    planned.stop();
    replayed = replay_trace(planned.trace(), registry, AgentConfig(), nullptr, &error);
    EXPECT_EQ(error, "");
    EXPECT_EQ(trace_difference(planned.trace(), replayed), "");
}
