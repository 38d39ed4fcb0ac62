// agent_loop.h: the case agent's loop as a state machine that never blocks, in
// the style of assistant/generation.h: the host owns the model and the tools,
// asks next() what to do, does it, and hands the result back. The loop:
//   - Planned mode: the model plans each call from the question, the
//     short-term trace and the long-term memory (a prompt, and the action
//     schema to constrain its output with, so every call parses and
//     validates); at most max_rounds tool calls, then only `finish` is
//     allowed; the run ends only on an explicit `finish` action.
//   - Protocol mode: a fixed clinical plan that does not depend on the
//     model's planning: classify -> ground (the top class) -> segment each box
//     -> count_lesions -> describe_image -> fill_report_fields -> finish (an
//     answer composed from the results). At each stage's end, a warning of
//     the evaluator with a suggested re-check is acted on once per check (at
//     most max_rounds re-checks).
// After each tool the evaluator (agent_checks.h) runs and, when reflection is
// on, the host is asked for the model's reflection on that step. stop() ends
// the run at any moment (a late tool output is refused). reject_step() and
// edit_step() change a step's output, drop the steps after it, and continue
// from there (also after a stop or a finish). Every request carries a ticket
// that its answer must echo, so an answer to a request that no longer stands
// is refused, never applied to the wrong step.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/agent_checks.h"
#include "agent/agent_memory.h"
#include "agent/agent_trace.h"
#include "agent/tool_registry.h"

namespace es {

enum class AgentMode { Planned, Protocol };  // trace: "planned" | "protocol"
const char* agent_mode_name(AgentMode m);

struct AgentConfig {
    AgentMode mode = AgentMode::Planned;
    int max_rounds = 3;             // planned: tool calls before only `finish` is allowed; protocol: re-checks
    bool reflect = true;            // ask for a reflection after each tool
    bool use_memory = true;         // put the long-term memory into the planning prompt
    std::string label_set = "hyperkvasir";  // protocol: the label set classify scores (models/labels/)
    std::string describe_question = "Describe the findings in this image: what, where, how large, their surface.";
    size_t memory_chars = 2000;     // of the planning prompt, at most this much memory
    size_t trace_chars = 6000;      // and this much of the trace (the most recent steps)
    size_t output_chars = 400;      // one output shown in a prompt, at most
    // Non-empty: finish's answer must be one of these (multiple-choice letters in
    // the evaluation), in the action schema (an enum) and when the action is read.
    std::vector<std::string> answer_choices;
    AgentCheckConfig checks;
};

enum class AgentRequestKind {
    Plan,      // generate an action: prompt, constrained by action_schema; answer with on_action()
    RunTool,   // run `tool` with `arguments` for `step`; answer with on_tool_output()/on_tool_error()
    Reflect,   // generate free text from prompt; answer with on_reflection()
    Finished,  // the run ended with `answer`
    Stopped,   // stop() was called
    Idle       // not started
};
const char* agent_request_kind_name(AgentRequestKind k);

struct AgentRequest {
    AgentRequestKind kind = AgentRequestKind::Idle;
    uint64_t ticket = 0;            // echo it in the answer
    int step = -1;                  // RunTool/Reflect: the step concerned
    std::string prompt;             // Plan/Reflect
    nlohmann::json action_schema;   // Plan: the schema to constrain the model's output with
    std::vector<std::string> allowed_tools;  // Plan: the tools the schema allows
    std::string tool;               // RunTool
    nlohmann::json arguments;       // RunTool
    std::string answer;             // Finished
};

class AgentLoop {
public:
    explicit AgentLoop(const ToolRegistry* registry) : registry_(registry) {}

    // `memory` may be null (no long-term memory); it is read, never changed.
    void start(const AgentConfig& config, const std::string& question, const std::string& image, const std::string& model,
               uint64_t seed, const AgentMemory* memory);

    // What the host should do now. Asking again gives the same request.
    AgentRequest next() const { return request_; }

    // The model's action text for a Plan request (parsed and validated
    // against the action schema). False + plain words when it is not a valid
    // call; the Plan request then stands (ask the model again, or stop).
    bool on_action(uint64_t ticket, const std::string& text, std::string* error);
    // The tool's output for a RunTool request (numbers rounded to 6 decimals,
    // validated against the tool's output schema; an invalid output becomes
    // the step's error). Times are the host's clock, in ms.
    bool on_tool_output(uint64_t ticket, const nlohmann::json& output, double started_ms, double finished_ms,
                        std::string* error);
    bool on_tool_error(uint64_t ticket, const std::string& message, double started_ms, double finished_ms,
                       std::string* error);
    bool on_reflection(uint64_t ticket, const std::string& text, std::string* error);

    void stop();
    // The clinician rejects step `step`'s output (it is then ignored by the
    // evaluator, the plan and the prompts) or replaces it; the steps after it
    // are dropped and the run continues from there.
    bool reject_step(int step, const std::string& note, std::string* error);
    bool edit_step(int step, const nlohmann::json& output, const std::string& note, std::string* error);

    const AgentTrace& trace() const { return trace_; }
    const AgentConfig& config() const { return config_; }
    bool running() const;

    // The prompts, for tests and for the panel ("what did the model see?").
    std::string planning_prompt() const;
    std::string reflection_prompt(int step) const;

private:
    const ToolRegistry* registry_;
    AgentConfig config_;
    const AgentMemory* memory_ = nullptr;
    AgentTrace trace_;
    AgentRequest request_;
    uint64_t tickets_ = 0;

    bool check_ticket(uint64_t ticket, AgentRequestKind kind, std::string* error) const;
    void after_tool(int step);
    void advance();              // decides the next request from the trace
    void request_plan();
    void request_tool(int step);
    void finish(const std::string& answer, const std::string& origin);
    bool protocol_next(ToolCall* call, std::string* origin, std::string* recheck_of) const;
    std::string protocol_answer() const;
    std::string step_summary(const TraceStep& s) const;
    int model_rounds_used() const;
    bool change_step(int step, std::string* error);
};

// Drives a new loop with a recorded trace's actions, outputs, reflections and
// the clinician's rejections/edits, and returns the trace it produces: the
// same as the recorded one (trace_difference == "") when the trace is
// consistent with this loop, registry and evaluator. *error says where the
// replay could not follow the recording.
AgentTrace replay_trace(const AgentTrace& recorded, const ToolRegistry& registry, const AgentConfig& config,
                        const AgentMemory* memory, std::string* error);

}  // namespace es
