// agent_checks.h: the agent's evaluator. After each tool it checks the results
// so far against each other and says, in plain words, what agrees and what
// does not, with the tool call that would settle a disagreement:
//   - boxes_vs_masks: boxes found by `ground` vs separate parts of the masks
//     that `segment` gave for them (mask connected components, as
//     annotation/lesion_count counts a mask's parts);
//   - count_vs_boxes: `count_lesions` vs the boxes found;
//   - label_vs_description: the top `classify` label vs the text of
//     `describe_image`/`describe_region` (named, contradicted by a negation or
//     by another label of the set, or not mentioned);
//   - probability_margin: the top two classes closer than a margin.
// Only steps that ran and were not rejected count; an edited output counts as
// edited. Checks whose tools have not run yet are not reported.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "agent/agent_trace.h"

namespace es {

struct AgentCheckConfig {
    double min_margin = 0.15;     // top-1 minus top-2 probability below this: warn
    size_t min_part_area = 16;    // mask parts smaller than this (pixels) are specks, not lesions
};

std::vector<AgentCheck> run_agent_checks(const std::vector<TraceStep>& steps, const AgentCheckConfig& config);

// Does `text` name `label` (case-insensitive, whole words, "_" read as a
// space, a plural "s" allowed)? *negated: named right after "no", "not",
// "without", "absence of", "free of" or "negative for".
bool text_names_label(const std::string& text, const std::string& label, bool* negated);

}  // namespace es
