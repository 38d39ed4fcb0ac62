// agent_test_support.h: constructed tool results for the agent's tests: a
// host that answers the loop's requests from fixed outputs.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/agent_loop.h"
#include "mask/mask.h"
#include "mask/rle.h"

namespace agent_test {

using json = nlohmann::json;

constexpr int kWidth = 120, kHeight = 90;

// A mask of the test image with the given rectangles filled (x0, y0, x1, y1 exclusive).
inline es::Mask rect_mask(const std::vector<std::array<int, 4>>& rects) {
    es::Mask m(kWidth, kHeight);
    for (const auto& r : rects)
        for (int y = r[1]; y < r[3]; ++y)
            for (int x = r[0]; x < r[2]; ++x) m.at(x, y) = 1;
    return m;
}

inline json mask_json(const es::Mask& m, json box) {
    const es::Rle rle = es::rle_encode(m);
    return {{"box", box}, {"rle", {{"size", {m.height, m.width}}, {"counts", es::rle_to_string(rle)}}}, {"score", 0.9}};
}

inline json box(double x1, double y1, double x2, double y2) { return json::array({x1, y1, x2, y2}); }

inline json classify_output(double polyp, double ulcer, double normal) {
    return {{"labels", json::array({{{"label", "polyp"}, {"probability", polyp}},
                                    {{"label", "ulcer"}, {"probability", ulcer}},
                                    {{"label", "normal mucosa"}, {"probability", normal}}})}};
}

// Three lesions on the test image.
inline const std::vector<json>& lesion_boxes() {
    static const std::vector<json> b = {box(10, 10, 30, 30), box(50, 20, 70, 40), box(90, 50, 110, 70)};
    return b;
}

// Answers every request: tool outputs from `tools` (by tool name, called with
// the arguments), reflections "Reflection on step N.", and, in planned mode,
// actions from `actions` in order.
struct FakeHost {
    std::function<json(const std::string& tool, const json& arguments)> tools;
    std::vector<std::string> actions;
    size_t next_action = 0;
    double clock = 0;
    int requests = 0;

    // Runs until the loop finishes or stops (or `limit` requests).
    void run(es::AgentLoop& loop, int limit = 200) {
        std::string error;
        for (; requests < limit; ++requests) {
            const es::AgentRequest r = loop.next();
            if (r.kind == es::AgentRequestKind::Plan) {
                if (next_action >= actions.size()) return;
                ASSERT_TRUE(loop.on_action(r.ticket, actions[next_action++], &error)) << error;
            } else if (r.kind == es::AgentRequestKind::RunTool) {
                const double t0 = clock;
                clock += 10;
                ASSERT_TRUE(loop.on_tool_output(r.ticket, tools(r.tool, r.arguments), t0, clock, &error)) << error;
            } else if (r.kind == es::AgentRequestKind::Reflect) {
                ASSERT_TRUE(loop.on_reflection(r.ticket, "Reflection on step " + std::to_string(r.step + 1) + ".", &error))
                    << error;
            } else {
                return;
            }
        }
    }
};

// Tool results of a consistent image: polyp first, the first `found` boxes
// found, every box segmented (a mask inside it, unless it is in `unsegmented`),
// `count` lesions counted.
inline std::function<json(const std::string&, const json&)> consistent_tools(size_t found, int count,
                                                                             std::vector<int> unsegmented = {},
                                                                             std::string description = "A sessile polyp in the left half.") {
    return [=](const std::string& tool, const json& args) -> json {
        if (tool == "classify") return classify_output(0.8, 0.15, 0.05);
        if (tool == "ground") {
            json boxes = json::array();
            for (size_t i = 0; i < found; ++i) boxes.push_back({{"box", lesion_boxes()[i]}, {"label", "polyp"}});
            return {{"boxes", boxes}};
        }
        if (tool == "segment") {
            json masks = json::array();
            for (const auto& b : args.value("boxes", json::array())) {
                int which = -1;
                for (size_t i = 0; i < lesion_boxes().size(); ++i)
                    if (lesion_boxes()[i] == b) which = int(i);
                std::vector<std::array<int, 4>> rects;
                if (which >= 0 && std::find(unsegmented.begin(), unsegmented.end(), which) == unsegmented.end())
                    rects.push_back({b[0].get<int>() + 3, b[1].get<int>() + 3, b[2].get<int>() - 3, b[3].get<int>() - 3});
                masks.push_back(mask_json(rect_mask(rects), b));
            }
            return {{"masks", masks}};
        }
        if (tool == "count_lesions") return {{"count", count}, {"mask_parts", count}};
        if (tool == "describe_image" || tool == "describe_region" || tool == "compare_images") return {{"text", description}};
        if (tool == "fill_report_fields")
            return {{"applied", json::array({{{"path", "findings[0].term"}, {"value", "polyp"}, {"probability", 0.7}}})},
                    {"rejected", json::array()}};
        return json::object();
    };
}

inline std::vector<std::string> tools_of(const es::AgentTrace& t) {
    std::vector<std::string> v;
    for (const auto& s : t.steps) v.push_back(s.tool);
    return v;
}

}  // namespace agent_test
