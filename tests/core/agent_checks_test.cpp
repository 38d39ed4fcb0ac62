#include <gtest/gtest.h>

#include <optional>

#include "agent/agent_checks.h"
#include "agent_test_support.h"

using namespace es;
using namespace agent_test;

namespace {

TraceStep step(const std::string& tool, json arguments, json output) {
    TraceStep s;
    s.tool = tool;
    s.arguments = std::move(arguments);
    s.output = std::move(output);
    return s;
}

TraceStep ground_step(size_t n) {
    json boxes = json::array();
    for (size_t i = 0; i < n; ++i) boxes.push_back({{"box", lesion_boxes()[i]}});
    return step("ground", {{"text", "polyp"}}, {{"boxes", boxes}});
}

TraceStep segment_step(const std::vector<std::array<int, 4>>& rects, json b) {
    return step("segment", {{"boxes", json::array({b})}}, {{"masks", json::array({mask_json(rect_mask(rects), b)})}});
}

// A copy: the checks are often a temporary.
std::optional<AgentCheck> find_check(const std::vector<AgentCheck>& checks, const std::string& id) {
    for (const auto& c : checks)
        if (c.id == id) return c;
    return std::nullopt;
}

}  // namespace

TEST(AgentChecks, ThreeBoxesTwoMaskPartsWarnsAndAsksToSegmentTheMissingBox) {
    std::vector<TraceStep> steps = {ground_step(3), segment_step({{13, 13, 27, 27}}, lesion_boxes()[0]),
                                    segment_step({{53, 23, 67, 37}}, lesion_boxes()[1]),
                                    segment_step({}, lesion_boxes()[2])};
    const auto checks = run_agent_checks(steps, AgentCheckConfig());
    const auto c = find_check(checks, "boxes_vs_masks");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->level, CheckLevel::Warn);
    EXPECT_NE(c->message.find("3 boxes were found, but the masks have 2 separate parts"), std::string::npos) << c->message;
    EXPECT_NE(c->message.find("[90, 50, 110, 70]"), std::string::npos) << c->message;
    EXPECT_EQ(c->recheck_tool, "segment");
    EXPECT_EQ(c->recheck_arguments, json({{"boxes", json::array({lesion_boxes()[2]})}}));

    // Segmenting it settles the check.
    steps.push_back(segment_step({{93, 53, 107, 67}}, lesion_boxes()[2]));
    const auto after = find_check(run_agent_checks(steps, AgentCheckConfig()), "boxes_vs_masks");
    ASSERT_TRUE(after);
    EXPECT_EQ(after->level, CheckLevel::Pass) << after->message;
}

TEST(AgentChecks, AMaskInTwoPartsForOneBoxAsksToGroundAgain) {
    // Two boxes; the first box's mask has two separate parts (two lesions in one box?).
    std::vector<TraceStep> steps = {ground_step(2), segment_step({{11, 11, 16, 16}, {22, 22, 29, 29}}, lesion_boxes()[0]),
                                    segment_step({{53, 23, 67, 37}}, lesion_boxes()[1])};
    const auto c = find_check(run_agent_checks(steps, AgentCheckConfig()), "boxes_vs_masks");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->level, CheckLevel::Warn);
    EXPECT_NE(c->message.find("3 separate parts"), std::string::npos) << c->message;
    EXPECT_EQ(c->recheck_tool, "ground");
    EXPECT_EQ(c->recheck_arguments, json({{"text", "polyp"}}));
}

TEST(AgentChecks, SpecksAreNotLesionsAndRejectedStepsDoNotCount) {
    // A 2x2 speck beside the mask: below min_part_area (16), not a part.
    std::vector<TraceStep> steps = {ground_step(1), segment_step({{13, 13, 27, 27}, {40, 40, 42, 42}}, lesion_boxes()[0])};
    const auto c = find_check(run_agent_checks(steps, AgentCheckConfig()), "boxes_vs_masks");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->level, CheckLevel::Pass) << c->message;

    AgentCheckConfig fine;
    fine.min_part_area = 1;
    EXPECT_EQ(find_check(run_agent_checks(steps, fine), "boxes_vs_masks")->level, CheckLevel::Warn);

    steps[1].status = StepStatus::Rejected;
    EXPECT_FALSE(find_check(run_agent_checks(steps, AgentCheckConfig()), "boxes_vs_masks"));
}

TEST(AgentChecks, CountAgainstBoxes) {
    std::vector<TraceStep> steps = {ground_step(2), step("count_lesions", json::object(), {{"count", 2}})};
    EXPECT_EQ(find_check(run_agent_checks(steps, AgentCheckConfig()), "count_vs_boxes")->level, CheckLevel::Pass);
    steps[1].output["count"] = 1;
    const auto c = find_check(run_agent_checks(steps, AgentCheckConfig()), "count_vs_boxes");
    EXPECT_EQ(c->level, CheckLevel::Warn);
    EXPECT_NE(c->message.find("count is 1 but 2 boxes were found"), std::string::npos) << c->message;
    EXPECT_EQ(c->recheck_tool, "ground");
}

TEST(AgentChecks, ClassificationAgainstDescription) {
    const TraceStep cls = step("classify", {{"label_set", "x"}}, classify_output(0.8, 0.15, 0.05));
    auto check_with = [&](const std::string& text) {
        std::vector<TraceStep> steps = {cls, step("describe_image", {{"question", ""}}, {{"text", text}})};
        const auto c = find_check(run_agent_checks(steps, AgentCheckConfig()), "label_vs_description");
        EXPECT_TRUE(c);
        return c ? *c : AgentCheck();
    };
    EXPECT_EQ(check_with("Two sessile Polyps in the sigmoid.").level, CheckLevel::Pass);
    const AgentCheck denied = check_with("No polyp is seen; the mucosa is normal.");
    EXPECT_EQ(denied.level, CheckLevel::Warn);
    EXPECT_NE(denied.message.find("denies"), std::string::npos) << denied.message;
    EXPECT_EQ(denied.recheck_tool, "describe_image");
    EXPECT_NE(denied.recheck_arguments["question"].get<std::string>().find("polyp"), std::string::npos);
    const AgentCheck other = check_with("A deep ulcer with a fibrin base.");
    EXPECT_EQ(other.level, CheckLevel::Warn);
    EXPECT_NE(other.message.find("names \"ulcer\""), std::string::npos) << other.message;
    EXPECT_EQ(check_with("Some redness.").level, CheckLevel::Warn);
    // No description yet: no such check.
    EXPECT_FALSE(find_check(run_agent_checks({cls}, AgentCheckConfig()), "label_vs_description"));
}

TEST(AgentChecks, TextNamesLabel) {
    bool negated = false;
    EXPECT_TRUE(text_names_label("a polyp", "polyp", &negated));
    EXPECT_FALSE(negated);
    EXPECT_TRUE(text_names_label("POLYPS seen", "polyp", &negated));
    EXPECT_FALSE(text_names_label("polypoid mucosa", "polyp", &negated));
    EXPECT_TRUE(text_names_label("this is not a polyp", "polyp", &negated));
    EXPECT_TRUE(negated);
    EXPECT_TRUE(text_names_label("no evidence of polyp. A polyp further on.", "polyp", &negated));
    EXPECT_FALSE(negated);  // one plain mention
    EXPECT_TRUE(text_names_label("Normal mucosa.", "normal_mucosa", &negated));
    EXPECT_FALSE(text_names_label("cannot say", "", &negated));
}

TEST(AgentChecks, LowProbabilityMargin) {
    std::vector<TraceStep> steps = {step("classify", {{"label_set", "x"}}, classify_output(0.45, 0.40, 0.15))};
    const auto c = find_check(run_agent_checks(steps, AgentCheckConfig()), "probability_margin");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->level, CheckLevel::Warn);
    EXPECT_NE(c->message.find("\"polyp\" and \"ulcer\" are almost tied (45% vs 40%)"), std::string::npos) << c->message;
    EXPECT_EQ(c->recheck_tool, "describe_image");
    steps[0].output = classify_output(0.8, 0.15, 0.05);
    EXPECT_EQ(find_check(run_agent_checks(steps, AgentCheckConfig()), "probability_margin")->level, CheckLevel::Pass);
}

TEST(AgentChecks, MalformedOutputsFromAFileNeverThrow) {
    // Steps read from a trace file are not schema-checked; the checks must not trip on them.
    std::vector<TraceStep> steps = {
        step("classify", {{"label_set", 3}}, {{"labels", json::array({"polyp", 7, {{"label", 1}}})}}),
        step("ground", {{"text", json::array()}}, {{"boxes", json::array({{{"box", "here"}}, 5, {{"box", {1, 2}}}})}}),
        step("segment", {{"boxes", "all"}, {"points", 2}},
             {{"masks", json::array({{{"rle", {{"size", {"a", "b"}}, {"counts", 3}}}}, "m", {{"rle", 1}}})}}),
        step("count_lesions", json::object(), {{"count", "two"}}),
        step("describe_image", json::object(), {{"text", 12}}),
        step("ground", json::object(), "not an object"),
    };
    std::vector<AgentCheck> checks;
    EXPECT_NO_THROW(checks = run_agent_checks(steps, AgentCheckConfig()));
    const auto masks = find_check(checks, "boxes_vs_masks");
    EXPECT_FALSE(masks);  // the last ground has no boxes and nothing was segmented after it
    steps.pop_back();
    EXPECT_NO_THROW(checks = run_agent_checks(steps, AgentCheckConfig()));
    const auto unreadable = find_check(checks, "boxes_vs_masks");
    ASSERT_TRUE(unreadable);
    EXPECT_EQ(unreadable->level, CheckLevel::Warn);
    EXPECT_NE(unreadable->message.find("could not be read"), std::string::npos);
}
