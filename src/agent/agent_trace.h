// agent_trace.h: what an agent run did, step by step: the tool, its arguments,
// its output, the evaluator's checks, the reflection, timings, the model, and
// whether the clinician kept, rejected or edited the output. The trace is the
// interface (the Agent panel shows it) and the record: saved with the case as
// JSON lines (a header line, then one line per step), read back refusing bad
// lines with plain words while keeping them (nothing is lost on a re-save),
// and compared with another run's trace for replay.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace es {

enum class StepStatus { Ok, Rejected, Edited };  // JSON: "ok" | "rejected" | "edited"
const char* step_status_name(StepStatus s);
bool step_status_from_name(const std::string& s, StepStatus* out);

enum class CheckLevel { Pass, Warn };  // JSON: "pass" | "warn"
const char* check_level_name(CheckLevel l);

// One evaluator finding about the results so far.
struct AgentCheck {
    std::string id;        // "boxes_vs_masks", "count_vs_boxes", "label_vs_description", "probability_margin"
    CheckLevel level = CheckLevel::Pass;
    std::string message;   // plain words
    // Warn: what would settle it (a tool call in the registry's form); empty tool = none.
    std::string recheck_tool;
    nlohmann::json recheck_arguments = nlohmann::json::object();
    bool operator==(const AgentCheck& o) const;
};

struct TraceStep {
    int index = 0;             // 0-based, in order
    int round = 0;             // planning round (1-based); protocol steps: 0
    std::string origin;        // "model" (planned), "protocol", "recheck", "user"
    std::string recheck_of;    // origin "recheck": the id of the check it settles
    std::string tool;
    nlohmann::json arguments = nlohmann::json::object();
    nlohmann::json output;     // null until the tool ran
    std::string error;         // the tool failed: what the host said (output stays null)
    std::vector<AgentCheck> checks;
    std::string reflection;
    double started_ms = 0, finished_ms = 0;  // host clock
    std::string model;         // the model that planned it ("" for protocol/user steps)
    StepStatus status = StepStatus::Ok;
    nlohmann::json original_output;  // Edited: what the tool gave before the edit
    std::string note;                // Rejected/Edited: the clinician's reason
};

struct AgentTrace {
    // Header
    std::string question;
    std::string image;         // the case's image key
    std::string model;         // model identity (id + revision) for replay
    std::string mode;          // "planned" | "protocol"
    uint64_t seed = 0;
    int max_rounds = 3;
    std::string answer;        // the finish action's answer ("" until finished)
    std::vector<TraceStep> steps;
    // Lines of a loaded file that could not be read: kept as they were so a
    // re-save writes them back (nothing is lost), with why each was refused.
    std::vector<std::string> unreadable_lines;
};

nlohmann::json trace_step_to_json(const TraceStep& step);
bool trace_step_from_json(const nlohmann::json& j, TraceStep* out, std::string* error);

// {"type":"header",...}\n then {"type":"step",...}\n per step, then any
// unreadable lines exactly as they were read.
std::string trace_to_jsonl(const AgentTrace& trace);

struct TraceLoadResult {
    bool ok = false;                  // a header was read
    std::vector<std::string> problems;  // "line 4: ..." in plain words, one per refused line
};
// Reads a JSON-lines trace. Refused lines (not JSON, too long, too deeply
// nested, unknown type, bad fields, steps out of order) are listed in
// `problems` and kept in trace->unreadable_lines; the rest is read.
TraceLoadResult trace_from_jsonl(const std::string& text, AgentTrace* trace);

// Replay: the same model, image, seed and question must give the same steps
// (tools, arguments, outputs, checks, reflections, statuses, answer; timings
// ignored). Returns "" when the same, else the first difference in words.
std::string trace_difference(const AgentTrace& expected, const AgentTrace& actual);

}  // namespace es
