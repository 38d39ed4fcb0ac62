#include <gtest/gtest.h>

#include "agent/agent_loop.h"
#include "agent_test_support.h"

using namespace es;
using namespace agent_test;

namespace {

AgentConfig protocol_config() {
    AgentConfig c;
    c.mode = AgentMode::Protocol;
    c.label_set = "gi_findings";
    return c;
}

std::string action(const std::string& tool, const json& arguments) {
    return json{{"tool", tool}, {"arguments", arguments}}.dump();
}

}  // namespace

TEST(AgentLoop, ProtocolOnConsistentResultsRunsTheClinicalSteps) {
    const ToolRegistry registry = ToolRegistry::standard();
    AgentLoop loop(&registry);
    EXPECT_EQ(loop.next().kind, AgentRequestKind::Idle);
    loop.start(protocol_config(), "What is on this image?", "img1.jpg", "tiny-random", 7, nullptr);
    FakeHost host;
    host.tools = consistent_tools(2, 2);
    host.run(loop);

    const AgentTrace& t = loop.trace();
    EXPECT_EQ(tools_of(t), (std::vector<std::string>{"classify", "ground", "segment", "segment", "count_lesions",
                                                     "describe_image", "fill_report_fields", "finish"}));
    EXPECT_EQ(loop.next().kind, AgentRequestKind::Finished);
    EXPECT_FALSE(loop.running());
    EXPECT_EQ(t.mode, "protocol");
    EXPECT_EQ(t.steps[0].arguments, json({{"label_set", "gi_findings"}}));
    EXPECT_EQ(t.steps[1].arguments, json({{"text", "polyp"}}));  // the top class is grounded
    EXPECT_EQ(t.steps[2].arguments, json({{"boxes", json::array({lesion_boxes()[0]})}}));
    EXPECT_EQ(t.steps[3].arguments, json({{"boxes", json::array({lesion_boxes()[1]})}}));
    for (const auto& s : t.steps) {
        EXPECT_EQ(s.origin, "protocol");
        EXPECT_EQ(s.status, StepStatus::Ok);
        if (s.tool == "finish") continue;
        EXPECT_EQ(s.reflection, "Reflection on step " + std::to_string(s.index + 1) + ".");
        EXPECT_EQ(s.finished_ms - s.started_ms, 10);
        EXPECT_TRUE(s.error.empty()) << s.error;
        for (const auto& c : s.checks) EXPECT_EQ(c.level, CheckLevel::Pass) << s.tool << ": " << c.message;
    }
    EXPECT_EQ(t.steps[4].checks.size(), 3u);  // boxes_vs_masks, count_vs_boxes, probability_margin (no text yet)
    EXPECT_NE(t.steps[2].checks[0].message.find("1 of the 2 boxes found was segmented so far"), std::string::npos)
        << t.steps[2].checks[0].message;
    EXPECT_NE(t.answer.find("Most likely class: polyp (80%)"), std::string::npos) << t.answer;
    EXPECT_NE(t.answer.find("Lesions counted: 2"), std::string::npos) << t.answer;
    EXPECT_NE(t.answer.find("All checks agree."), std::string::npos) << t.answer;
    EXPECT_EQ(t.steps.back().arguments["answer"], t.answer);
}

TEST(AgentLoop, ProtocolWithoutReflectionAndWithNothingFoundSkipsSegmentation) {
    const ToolRegistry registry = ToolRegistry::standard();
    AgentConfig config = protocol_config();
    config.reflect = false;
    AgentLoop loop(&registry);
    loop.start(config, "q", "img", "m", 0, nullptr);
    FakeHost host;
    host.tools = consistent_tools(0, 0, {}, "Normal mucosa, no polyp.");
    host.run(loop);
    // The description denies the top class: one re-check asks about it, then the protocol goes on.
    EXPECT_EQ(tools_of(loop.trace()), (std::vector<std::string>{"classify", "ground", "count_lesions", "describe_image",
                                                                "describe_image", "fill_report_fields", "finish"}));
    EXPECT_EQ(loop.trace().steps[4].origin, "recheck");
    EXPECT_EQ(loop.trace().steps[4].recheck_of, "label_vs_description");
    for (const auto& s : loop.trace().steps) EXPECT_TRUE(s.reflection.empty());
    EXPECT_NE(loop.trace().answer.find("Unresolved checks: 1"), std::string::npos) << loop.trace().answer;
}

TEST(AgentLoop, AnInconsistencyBetweenBoxesAndMasksTriggersAReCheck) {
    const ToolRegistry registry = ToolRegistry::standard();
    AgentLoop loop(&registry);
    loop.start(protocol_config(), "How many polyps?", "img", "m", 0, nullptr);
    // 3 boxes found; the third box's first segmentation comes back empty (2
    // mask parts); segmenting it again finds it.
    int segment_calls = 0;
    const auto base = consistent_tools(3, 3);
    FakeHost host;
    host.tools = [&](const std::string& tool, const json& args) {
        if (tool == "segment" && args["boxes"][0] == lesion_boxes()[2] && segment_calls++ == 0)
            return json{{"masks", json::array({mask_json(rect_mask({}), lesion_boxes()[2])})}};
        return base(tool, args);
    };
    host.run(loop);
    const AgentTrace& t = loop.trace();
    ASSERT_EQ(tools_of(t), (std::vector<std::string>{"classify", "ground", "segment", "segment", "segment", "segment",
                                                     "count_lesions", "describe_image", "fill_report_fields", "finish"}));
    const TraceStep& third = t.steps[4];
    ASSERT_EQ(third.checks.size(), 2u);
    EXPECT_EQ(third.checks[0].id, "boxes_vs_masks");
    EXPECT_EQ(third.checks[0].level, CheckLevel::Warn);
    EXPECT_NE(third.checks[0].message.find("3 boxes were found, but the masks have 2 separate parts"), std::string::npos);
    const TraceStep& recheck = t.steps[5];
    EXPECT_EQ(recheck.origin, "recheck");
    EXPECT_EQ(recheck.recheck_of, "boxes_vs_masks");
    EXPECT_EQ(recheck.round, 1);
    EXPECT_EQ(recheck.arguments, json({{"boxes", json::array({lesion_boxes()[2]})}}));
    EXPECT_EQ(recheck.checks[0].level, CheckLevel::Pass) << recheck.checks[0].message;
    EXPECT_NE(t.answer.find("All checks agree."), std::string::npos) << t.answer;
}

TEST(AgentLoop, AReCheckRunsOncePerCheckAndAtMostMaxRounds) {
    const ToolRegistry registry = ToolRegistry::standard();
    AgentLoop loop(&registry);
    loop.start(protocol_config(), "q", "img", "m", 0, nullptr);
    FakeHost host;
    host.tools = consistent_tools(3, 3, {2});  // the third box never segments
    host.run(loop);
    EXPECT_EQ(tools_of(loop.trace()), (std::vector<std::string>{"classify", "ground", "segment", "segment", "segment",
                                                                "segment", "count_lesions", "describe_image",
                                                                "fill_report_fields", "finish"}));
    EXPECT_NE(loop.trace().answer.find("Unresolved checks: 1"), std::string::npos) << loop.trace().answer;

    AgentConfig none = protocol_config();
    none.max_rounds = 1;
    AgentLoop tied(&registry);
    tied.start(none, "q", "img", "m", 0, nullptr);
    FakeHost h2;
    const auto base = consistent_tools(1, 1, {}, "An ulcer.");
    h2.tools = [&](const std::string& tool, const json& args) {
        return tool == "classify" ? classify_output(0.45, 0.40, 0.15) : base(tool, args);
    };
    h2.run(tied);
    int rechecks = 0;
    for (const auto& s : tied.trace().steps) rechecks += s.origin == "recheck";
    EXPECT_EQ(rechecks, 1);  // the margin's re-check; the description's warning is left for the clinician
    EXPECT_EQ(tied.trace().steps[1].recheck_of, "probability_margin");
}

TEST(AgentLoop, PlannedRunStopsOnlyOnFinishAndOffersOnlyFinishAfterMaxRounds) {
    const ToolRegistry registry = ToolRegistry::standard();
    AgentMemory memory;
    std::string error;
    ASSERT_TRUE(memory.add("Ground flat lesions with 'flat polyp'.", "2026-11-01T10:00:00Z", "case 3", nullptr, &error));
    uint64_t off = 0;
    ASSERT_TRUE(memory.add("An old lesson that is switched off.", "2026-11-02T10:00:00Z", "", &off, &error));
    memory.set_enabled(off, false);
    AgentConfig config;
    config.max_rounds = 2;
    AgentLoop loop(&registry);
    loop.start(config, "How many polyps are there?", "img", "medgemma-4b@abc", 1, &memory);

    AgentRequest r = loop.next();
    ASSERT_EQ(r.kind, AgentRequestKind::Plan);
    EXPECT_EQ(r.allowed_tools.size(), 9u);
    EXPECT_NE(r.prompt.find("Question: How many polyps are there?"), std::string::npos);
    EXPECT_NE(r.prompt.find("Ground flat lesions with 'flat polyp'."), std::string::npos);
    EXPECT_EQ(r.prompt.find("switched off"), std::string::npos);
    EXPECT_NE(r.prompt.find("Tool calls left: 2"), std::string::npos);
    CompiledSchema cs;
    ASSERT_TRUE(compile_json_schema(r.action_schema.dump(), SchemaLimits(), &cs, &error)) << error;

    // An invalid call is refused and the same request stands.
    EXPECT_FALSE(loop.on_action(r.ticket, "{\"tool\":\"ground\"}", &error));
    EXPECT_EQ(loop.next().ticket, r.ticket);

    FakeHost host;
    host.tools = consistent_tools(2, 2);
    host.actions = {action("ground", {{"text", "polyp"}}), action("count_lesions", json::object())};
    host.run(loop);
    // Two rounds used: only finish is offered now.
    r = loop.next();
    ASSERT_EQ(r.kind, AgentRequestKind::Plan);
    EXPECT_EQ(r.allowed_tools, std::vector<std::string>{"finish"});
    EXPECT_NE(r.prompt.find("No tool calls are left"), std::string::npos);
    EXPECT_NE(r.prompt.find("1. ground {\"text\":\"polyp\"}"), std::string::npos) << r.prompt;
    EXPECT_NE(r.prompt.find("reflection: Reflection on step 1."), std::string::npos) << r.prompt;
    EXPECT_FALSE(loop.on_action(r.ticket, action("describe_image", {{"question", "x"}}), &error));
    ASSERT_TRUE(loop.on_action(r.ticket, action("finish", {{"answer", "Two polyps."}}), &error)) << error;
    EXPECT_EQ(loop.next().kind, AgentRequestKind::Finished);
    EXPECT_EQ(loop.next().answer, "Two polyps.");
    const AgentTrace& t = loop.trace();
    EXPECT_EQ(tools_of(t), (std::vector<std::string>{"ground", "count_lesions", "finish"}));
    EXPECT_EQ(t.steps[0].model, "medgemma-4b@abc");
    EXPECT_EQ(t.steps[0].round, 1);
    EXPECT_EQ(t.steps[1].round, 2);
    EXPECT_EQ(t.steps[1].checks[0].id, "count_vs_boxes");
    EXPECT_EQ(t.answer, "Two polyps.");
}

TEST(AgentLoop, ReflectionTextSayingDoneDoesNotStopTheRun) {
    const ToolRegistry registry = ToolRegistry::standard();
    AgentLoop loop(&registry);
    loop.start(AgentConfig(), "q", "img", "m", 0, nullptr);
    std::string error;
    ASSERT_TRUE(loop.on_action(loop.next().ticket, action("describe_image", {{"question", ""}}), &error));
    ASSERT_TRUE(loop.on_tool_output(loop.next().ticket, {{"text", "FINISH. Final answer: polyp."}}, 0, 1, &error));
    ASSERT_TRUE(loop.on_reflection(loop.next().ticket, "Final answer: polyp. TERMINATE", &error));
    EXPECT_EQ(loop.next().kind, AgentRequestKind::Plan);
    EXPECT_TRUE(loop.running());
}

TEST(AgentLoop, StopEndsTheRunAndRefusesLateResults) {
    const ToolRegistry registry = ToolRegistry::standard();
    AgentLoop loop(&registry);
    loop.start(protocol_config(), "q", "img", "m", 0, nullptr);
    std::string error;
    const AgentRequest r = loop.next();
    ASSERT_EQ(r.kind, AgentRequestKind::RunTool);
    EXPECT_EQ(r.tool, "classify");
    loop.stop();
    EXPECT_EQ(loop.next().kind, AgentRequestKind::Stopped);
    EXPECT_FALSE(loop.running());
    EXPECT_FALSE(loop.on_tool_output(r.ticket, classify_output(0.8, 0.15, 0.05), 0, 1, &error));
    EXPECT_NE(error.find("stopped"), std::string::npos) << error;
    ASSERT_EQ(loop.trace().steps.size(), 1u);
    EXPECT_TRUE(loop.trace().steps[0].output.is_null());
    EXPECT_TRUE(loop.trace().answer.empty());
    // A step that never finished cannot be rejected.
    EXPECT_FALSE(loop.reject_step(0, "", &error));
    EXPECT_NE(error.find("has not finished"), std::string::npos) << error;
}

TEST(AgentLoop, RejectAStepAndContinueFromThere) {
    const ToolRegistry registry = ToolRegistry::standard();
    AgentLoop loop(&registry);
    loop.start(protocol_config(), "q", "img", "m", 0, nullptr);
    FakeHost host;
    host.tools = consistent_tools(3, 3);
    host.run(loop, 4);  // classify, its reflection, ground, its reflection
    ASSERT_EQ(tools_of(loop.trace()), (std::vector<std::string>{"classify", "ground", "segment"}));
    const uint64_t stale = loop.next().ticket;
    std::string error;
    EXPECT_FALSE(loop.reject_step(7, "", &error));
    EXPECT_NE(error.find("no step 8"), std::string::npos) << error;
    // The clinician rejects the boxes: segmentation is dropped, the protocol goes on without them.
    ASSERT_TRUE(loop.reject_step(1, "These are bubbles, not polyps.", &error)) << error;
    EXPECT_FALSE(loop.on_tool_output(stale, {{"masks", json::array()}}, 0, 1, &error));
    EXPECT_NE(error.find("no longer stands"), std::string::npos) << error;
    host.run(loop);
    const AgentTrace& t = loop.trace();
    EXPECT_EQ(tools_of(t), (std::vector<std::string>{"classify", "ground", "count_lesions", "describe_image",
                                                     "fill_report_fields", "finish"}));
    EXPECT_EQ(t.steps[1].status, StepStatus::Rejected);
    EXPECT_EQ(t.steps[1].note, "These are bubbles, not polyps.");
    EXPECT_TRUE(t.steps[1].reflection.empty());
    // The rejected boxes are not compared with the count.
    for (const auto& c : t.steps[2].checks) EXPECT_NE(c.id, "count_vs_boxes");
    EXPECT_EQ(t.answer.find("Boxes found"), std::string::npos) << t.answer;

    // After the finish, editing a step re-opens the run from there.
    EXPECT_FALSE(loop.reject_step(int(t.steps.size()) - 1, "", &error));
    ASSERT_TRUE(loop.edit_step(1, {{"boxes", json::array({{{"box", lesion_boxes()[0]}}})}}, "Only the first is a polyp.", &error))
        << error;
    EXPECT_TRUE(loop.trace().answer.empty());
    EXPECT_EQ(loop.next().kind, AgentRequestKind::Reflect);
    host.run(loop);
    const AgentTrace& e = loop.trace();
    EXPECT_EQ(tools_of(e), (std::vector<std::string>{"classify", "ground", "segment", "count_lesions", "describe_image",
                                                     "fill_report_fields", "finish"}));
    EXPECT_EQ(e.steps[1].status, StepStatus::Edited);
    EXPECT_EQ(e.steps[1].original_output["boxes"].size(), 3u);
    EXPECT_EQ(e.steps[1].output["boxes"].size(), 1u);
    EXPECT_EQ(e.steps[1].reflection, "Reflection on step 2.");
    // The counted 3 lesions now disagree with the 1 box the clinician kept.
    EXPECT_NE(e.answer.find("Unresolved checks"), std::string::npos) << e.answer;
    // An edit that breaks the output schema is refused and changes nothing.
    EXPECT_FALSE(loop.edit_step(1, {{"boxes", "three"}}, "", &error));
    EXPECT_EQ(loop.trace().steps.size(), e.steps.size());
}

TEST(AgentLoop, AToolErrorIsRecordedAndTheRunGoesOn) {
    const ToolRegistry registry = ToolRegistry::standard();
    AgentConfig config = protocol_config();
    config.reflect = false;
    AgentLoop loop(&registry);
    loop.start(config, "q", "img", "m", 0, nullptr);
    std::string error;
    ASSERT_TRUE(loop.on_tool_error(loop.next().ticket, "The model is not loaded.", 0, 1, &error));
    // An output that breaks its schema becomes the step's error.
    ASSERT_EQ(loop.next().tool, "ground");
    ASSERT_TRUE(loop.on_tool_output(loop.next().ticket, {{"boxes", 3}}, 1, 2, &error));
    EXPECT_EQ(loop.trace().steps[0].error, "The model is not loaded.");
    EXPECT_NE(loop.trace().steps[1].error.find("does not match its schema"), std::string::npos);
    EXPECT_EQ(loop.trace().steps[1].arguments, json({{"text", "lesion"}}));  // no class: the generic word
    EXPECT_EQ(loop.next().tool, "count_lesions");
}

// The evaluation's multiple-choice items: finish's answer is an option letter,
// in the schema (so a constrained model can only write one) and when read.
TEST(AgentLoop, AnswerChoicesNarrowFinishToTheLetters) {
    const ToolRegistry registry = ToolRegistry::standard();
    AgentConfig config;
    config.max_rounds = 1;
    config.answer_choices = {"A", "B", "C", "D"};
    AgentLoop loop(&registry);
    loop.start(config, "Which box holds the polyp? A: ... D: ...", "img", "m", 0, nullptr);
    AgentRequest r = loop.next();
    EXPECT_NE(r.prompt.find("finish's answer is one of: A, B, C, D."), std::string::npos) << r.prompt;
    std::string error;
    CompiledSchema cs;
    ASSERT_TRUE(compile_json_schema(r.action_schema.dump(), SchemaLimits(), &cs, &error)) << error;
    const json finish_alt = [&] {
        for (const json& a : r.action_schema["oneOf"])
            if (a["properties"]["tool"]["const"] == "finish") return a;
        return json();
    }();
    EXPECT_EQ(finish_alt["properties"]["arguments"]["properties"]["answer"], json({{"enum", {"A", "B", "C", "D"}}}));
    EXPECT_FALSE(loop.on_action(r.ticket, action("finish", {{"answer", "The polyp is in box B."}}), &error));
    EXPECT_NE(error.find("not one of the choices (A, B, C, D)"), std::string::npos) << error;
    ASSERT_TRUE(loop.on_action(r.ticket, action("describe_image", {{"question", ""}}), &error)) << error;
    ASSERT_TRUE(loop.on_tool_output(loop.next().ticket, {{"text", "a polyp"}}, 0, 1, &error)) << error;
    ASSERT_TRUE(loop.on_reflection(loop.next().ticket, "ok", &error)) << error;
    r = loop.next();
    ASSERT_EQ(r.allowed_tools, std::vector<std::string>{"finish"});  // one alternative, no oneOf
    EXPECT_EQ(r.action_schema["properties"]["arguments"]["properties"]["answer"], json({{"enum", {"A", "B", "C", "D"}}}));
    ASSERT_TRUE(loop.on_action(r.ticket, action("finish", {{"answer", "B"}}), &error)) << error;
    EXPECT_EQ(loop.trace().answer, "B");
}
