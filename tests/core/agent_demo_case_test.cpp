// The protocol on the synthetic demo case: the tools answer from the case's
// ground truth (boxes and masks of its lesions; the count from
// annotation/lesion_count over the masks accepted as annotations), as a
// perfect model would; the agent's steps, checks and answer follow.
#include <gtest/gtest.h>

#include "agent/agent_loop.h"
#include "agent_test_support.h"
#include "annotation/lesion_count.h"
#include "case/demo_case.h"
#include "mask/connected_components.h"

using namespace es;
using namespace agent_test;

TEST(AgentDemoCase, ProtocolOnEveryDemoImageFindsSegmentsAndCountsItsLesions) {
    const ToolRegistry registry = ToolRegistry::standard();
    LabelSet labels;
    labels.id = "demo";
    LabelDef polyp;
    polyp.id = "polyp";
    polyp.lesion = true;
    labels.labels.push_back(polyp);
    int images = 0;
    for (const DemoImageSpec& spec : demo_image_specs()) {
        if (spec.polyps.empty()) continue;
        ++images;
        const DemoRendering r = render_demo_image(spec);
        std::vector<Mask> truth;
        json boxes = json::array();
        for (const auto& bytes : r.masks) {
            Mask m(spec.width, spec.height);
            for (size_t i = 0; i < bytes.size(); ++i) m.data[i] = bytes[i] ? 1 : 0;
            const Components c = label_components(m);
            ASSERT_GE(c.count(), 1);
            const ComponentStats& s = c.stats[0];
            boxes.push_back({{"box", json::array({s.x0, s.y0, s.x1 + 1, s.y1 + 1})}, {"label", "polyp"}});
            truth.push_back(std::move(m));
        }
        ImageAnnotations accepted;
        accepted.image = spec.file;
        accepted.width = spec.width;
        accepted.height = spec.height;

        AgentConfig config;
        config.mode = AgentMode::Protocol;
        AgentLoop loop(&registry);
        loop.start(config, "How many polyps, and what are they?", spec.file, "ground-truth oracle", 1, nullptr);
        FakeHost host;
        host.tools = [&](const std::string& tool, const json& args) -> json {
            if (tool == "classify") return classify_output(0.9, 0.06, 0.04);
            if (tool == "ground") return {{"boxes", boxes}};
            if (tool == "segment") {
                json masks = json::array();
                for (const auto& b : args["boxes"])
                    for (size_t k = 0; k < boxes.size(); ++k)
                        if (boxes[k]["box"] == b) {
                            masks.push_back(mask_json(truth[k], b));
                            Annotation a;  // the clinician accepts it
                            a.id = accepted.next_id++;
                            a.label = "polyp";
                            a.kind = AnnotationKind::Mask;
                            a.mask = truth[k];
                            accepted.items.push_back(a);
                        }
                return {{"masks", masks}};
            }
            if (tool == "count_lesions") {
                int parts = 0;
                for (const auto& a : accepted.items) parts += annotation_parts(a, spec.width, spec.height, 16);
                return {{"count", count_lesions(accepted, {labels})}, {"mask_parts", parts}};
            }
            return consistent_tools(0, 0)(tool, args);
        };
        host.run(loop);
        const AgentTrace& t = loop.trace();
        std::vector<std::string> expected = {"classify", "ground"};
        for (size_t k = 0; k < spec.polyps.size(); ++k) expected.push_back("segment");
        for (const char* s : {"count_lesions", "describe_image", "fill_report_fields", "finish"}) expected.push_back(s);
        EXPECT_EQ(tools_of(t), expected) << spec.file;
        const TraceStep& count = t.steps[2 + spec.polyps.size()];
        EXPECT_EQ(count.output["count"], int(spec.polyps.size())) << spec.file;
        for (const auto& c : count.checks) EXPECT_EQ(c.level, CheckLevel::Pass) << spec.file << ": " << c.message;
        EXPECT_NE(t.answer.find("Lesions counted: " + std::to_string(spec.polyps.size())), std::string::npos) << t.answer;
        EXPECT_NE(t.answer.find("All checks agree."), std::string::npos) << t.answer;

        // Losing one lesion's mask is caught, and segmenting it again is the re-check.
        AgentLoop lossy(&registry);
        lossy.start(config, "How many polyps?", spec.file, "oracle", 1, nullptr);
        accepted.items.clear();
        FakeHost h2;
        bool dropped = false;
        h2.tools = [&](const std::string& tool, const json& args) -> json {
            if (tool == "segment" && !dropped && args["boxes"][0] == boxes.back()["box"]) {
                dropped = true;
                return {{"masks", json::array()}};
            }
            return host.tools(tool, args);
        };
        h2.run(lossy);
        int rechecks = 0;
        for (const auto& s : lossy.trace().steps)
            if (s.origin == "recheck") {
                ++rechecks;
                EXPECT_EQ(s.tool, "segment");
                EXPECT_EQ(s.arguments["boxes"][0], boxes.back()["box"]);
            }
        EXPECT_EQ(rechecks, 1) << spec.file;
        EXPECT_NE(lossy.trace().answer.find("All checks agree."), std::string::npos) << lossy.trace().answer;
    }
    EXPECT_GE(images, 2);
}
