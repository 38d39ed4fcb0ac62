#include "agent/agent_loop.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "report/report_draft.h"

namespace es {

using json = nlohmann::json;

namespace {

// The protocol's stages, in order.
const std::vector<std::string>& protocol_stages() {
    static const std::vector<std::string> s = {"classify",       "ground",         "segment", "count_lesions",
                                               "describe_image", "fill_report_fields", kFinishTool};
    return s;
}

int stage_of(const std::string& tool) {
    const auto& s = protocol_stages();
    const auto it = std::find(s.begin(), s.end(), tool);
    return it == s.end() ? -1 : int(it - s.begin());
}

bool usable(const TraceStep& s) { return s.status != StepStatus::Rejected && !s.output.is_null() && s.error.empty(); }

int latest_usable(const std::vector<TraceStep>& steps, const std::string& tool) {
    for (int i = int(steps.size()) - 1; i >= 0; --i)
        if (steps[i].tool == tool && usable(steps[i])) return i;
    return -1;
}

// The top class of the latest usable classify step, with its probability.
bool top_class(const std::vector<TraceStep>& steps, std::string* label, double* p) {
    const int c = latest_usable(steps, "classify");
    if (c < 0) return false;
    bool found = false;
    for (const auto& l : steps[c].output.value("labels", json::array()))
        if (l.contains("label") && l.contains("probability") && (!found || l["probability"].get<double>() > *p)) {
            *label = l["label"].get<std::string>();
            *p = l["probability"].get<double>();
            found = true;
        }
    return found;
}

std::string cut(const std::string& s, size_t n) { return draft_bound_text(s, n) + (s.size() > n ? " ..." : ""); }

std::string percent(double p) {
    char b[32];
    std::snprintf(b, sizeof b, "%.0f%%", p * 100);
    return b;
}

std::string join_choices(const std::vector<std::string>& choices) {
    std::string s;
    for (const auto& c : choices) s += (s.empty() ? "" : ", ") + c;
    return s;
}

// finish's answer in an action schema (one alternative, or a oneOf) narrowed to an enum of the choices.
void narrow_finish_answer(json& schema, const std::vector<std::string>& choices) {
    json& alternatives = schema.contains("oneOf") ? schema["oneOf"] : schema;
    const auto narrow = [&](json& a) {
        if (a["properties"]["tool"].value("const", "") == kFinishTool)
            a["properties"]["arguments"]["properties"]["answer"] = {{"enum", choices}};
    };
    if (alternatives.is_array()) for (json& a : alternatives) narrow(a);
    else narrow(alternatives);
}

}  // namespace

const char* agent_mode_name(AgentMode m) { return m == AgentMode::Protocol ? "protocol" : "planned"; }

const char* agent_request_kind_name(AgentRequestKind k) {
    switch (k) {
        case AgentRequestKind::Plan: return "plan";
        case AgentRequestKind::RunTool: return "run_tool";
        case AgentRequestKind::Reflect: return "reflect";
        case AgentRequestKind::Finished: return "finished";
        case AgentRequestKind::Stopped: return "stopped";
        case AgentRequestKind::Idle: return "idle";
    }
    return "idle";
}

void AgentLoop::start(const AgentConfig& config, const std::string& question, const std::string& image,
                      const std::string& model, uint64_t seed, const AgentMemory* memory) {
    config_ = config;
    config_.max_rounds = std::max(1, config_.max_rounds);
    memory_ = memory;
    trace_ = AgentTrace();
    trace_.question = question;
    trace_.image = image;
    trace_.model = model;
    trace_.mode = agent_mode_name(config_.mode);
    trace_.seed = seed;
    trace_.max_rounds = config_.max_rounds;
    advance();
}

bool AgentLoop::running() const {
    return request_.kind == AgentRequestKind::Plan || request_.kind == AgentRequestKind::RunTool ||
           request_.kind == AgentRequestKind::Reflect;
}

bool AgentLoop::check_ticket(uint64_t ticket, AgentRequestKind kind, std::string* error) const {
    if (request_.kind == AgentRequestKind::Stopped) {
        if (error) *error = "The run was stopped, so this result is not used.";
        return false;
    }
    if (ticket != request_.ticket || request_.kind != kind) {
        if (error) *error = "This result answers a request that no longer stands (the run moved on or a step was changed); it is not used.";
        return false;
    }
    return true;
}

int AgentLoop::model_rounds_used() const {
    int n = 0;
    for (const auto& s : trace_.steps)
        if (s.origin == "model" && s.tool != kFinishTool) ++n;
    return n;
}

void AgentLoop::request_plan() {
    AgentRequest r;
    r.kind = AgentRequestKind::Plan;
    r.ticket = ++tickets_;
    if (model_rounds_used() >= config_.max_rounds) {
        r.allowed_tools = {kFinishTool};
    } else {
        for (const auto& t : registry_->tools()) r.allowed_tools.push_back(t.name);
    }
    r.action_schema = registry_->action_schema(r.allowed_tools);
    if (!config_.answer_choices.empty()) narrow_finish_answer(r.action_schema, config_.answer_choices);
    request_ = r;
    request_.prompt = planning_prompt();
}

void AgentLoop::request_tool(int step) {
    AgentRequest r;
    r.kind = AgentRequestKind::RunTool;
    r.ticket = ++tickets_;
    r.step = step;
    r.tool = trace_.steps[step].tool;
    r.arguments = trace_.steps[step].arguments;
    request_ = r;
}

void AgentLoop::finish(const std::string& answer, const std::string& origin) {
    TraceStep s;
    s.index = int(trace_.steps.size());
    s.origin = origin;
    s.tool = kFinishTool;
    s.arguments = {{"answer", answer}};
    s.output = json::object();
    s.model = origin == "model" ? trace_.model : "";
    s.round = origin == "model" ? model_rounds_used() + 1 : 0;
    trace_.steps.push_back(s);
    trace_.answer = answer;
    AgentRequest r;
    r.kind = AgentRequestKind::Finished;
    r.ticket = ++tickets_;
    r.answer = answer;
    request_ = r;
}

void AgentLoop::advance() {
    if (config_.mode == AgentMode::Planned) {
        request_plan();
        return;
    }
    // Protocol: the next call follows from the trace alone.
    for (;;) {
        ToolCall call;
        std::string origin, recheck_of;
        if (!protocol_next(&call, &origin, &recheck_of) || call.tool == kFinishTool) {
            finish(protocol_answer(), "protocol");
            return;
        }
        TraceStep s;
        s.index = int(trace_.steps.size());
        s.origin = origin;
        s.recheck_of = recheck_of;
        s.tool = call.tool;
        s.arguments = call.arguments;
        if (origin == "recheck") {
            int n = 0;
            for (const auto& t : trace_.steps) n += t.origin == "recheck";
            s.round = n + 1;
        }
        std::string error;
        if (!registry_->validate_arguments(call.tool, call.arguments, &error)) {
            // Not reachable from the standard registry; recorded rather than run.
            s.error = error;
            trace_.steps.push_back(s);
            continue;
        }
        trace_.steps.push_back(s);
        request_tool(s.index);
        return;
    }
}

bool AgentLoop::protocol_next(ToolCall* call, std::string* origin, std::string* recheck_of) const {
    const auto& steps = trace_.steps;
    const auto& stages = protocol_stages();
    int last_stage = -1;
    for (const auto& s : steps)
        if (s.origin == "protocol") last_stage = stage_of(s.tool);
    *origin = "protocol";

    auto segment_pending = [&](ToolCall* c) {
        const int g = latest_usable(steps, "ground");
        if (g < 0) return false;
        const json boxes = steps[g].output.value("boxes", json::array());
        size_t done = 0;
        for (size_t i = size_t(g) + 1; i < steps.size(); ++i)
            if (steps[i].tool == "segment" && steps[i].origin == "protocol") ++done;
        if (done >= boxes.size()) return false;
        c->tool = "segment";
        c->arguments = {{"boxes", json::array({boxes[done]["box"]})}};
        return true;
    };

    if (last_stage < 0) {
        call->tool = stages[0];
        call->arguments = {{"label_set", config_.label_set}};
        return true;
    }
    if (stages[last_stage] == "segment" && segment_pending(call)) return true;

    // The stage is complete: act on the evaluator's warnings, once per check.
    std::set<std::string> rechecked;
    for (const auto& s : steps)
        if (s.origin == "recheck") rechecked.insert(s.recheck_of);
    if (int(rechecked.size()) < config_.max_rounds) {
        for (const auto& c : run_agent_checks(steps, config_.checks)) {
            if (c.level != CheckLevel::Warn || c.recheck_tool.empty() || rechecked.count(c.id) ||
                !registry_->find(c.recheck_tool))
                continue;
            // The clinician's edit of that tool's output stands: no re-check overrides it.
            if (std::any_of(steps.begin(), steps.end(), [&](const TraceStep& s) {
                    return s.status == StepStatus::Edited && s.tool == c.recheck_tool;
                }))
                continue;
            call->tool = c.recheck_tool;
            call->arguments = c.recheck_arguments;
            *origin = "recheck";
            *recheck_of = c.id;
            return true;
        }
    }

    for (int stage = last_stage + 1; stage < int(stages.size()); ++stage) {
        const std::string& tool = stages[stage];
        if (tool == "ground") {
            std::string label = "lesion";
            double p = 0;
            top_class(steps, &label, &p);
            call->tool = tool;
            call->arguments = {{"text", label}};
            return true;
        }
        if (tool == "segment") {
            if (segment_pending(call)) return true;
            continue;  // nothing found: nothing to segment
        }
        call->tool = tool;
        if (tool == "count_lesions" || tool == "fill_report_fields") call->arguments = json::object();
        else if (tool == "describe_image") call->arguments = {{"question", config_.describe_question}};
        else call->arguments = json::object();
        return true;
    }
    return false;
}

std::string AgentLoop::protocol_answer() const {
    const auto& steps = trace_.steps;
    std::string a;
    std::string label;
    double p = 0;
    if (top_class(steps, &label, &p)) a += "Most likely class: " + label + " (" + percent(p) + "). ";
    const int g = latest_usable(steps, "ground");
    if (g >= 0) a += "Boxes found: " + std::to_string(steps[g].output.value("boxes", json::array()).size()) + ". ";
    const int c = latest_usable(steps, "count_lesions");
    if (c >= 0) a += "Lesions counted: " + std::to_string(steps[c].output.value("count", 0)) + ". ";
    const int d = latest_usable(steps, "describe_image");
    if (d >= 0) a += "Description: " + cut(steps[d].output.value("text", std::string()), 600) + " ";
    int warnings = 0;
    std::string first;
    for (const auto& check : run_agent_checks(steps, config_.checks))
        if (check.level == CheckLevel::Warn && warnings++ == 0) first = check.message;
    if (warnings) a += "Unresolved checks: " + std::to_string(warnings) + " (" + first + ")";
    else a += "All checks agree.";
    a = draft_bound_text(a, 2000);
    return a.empty() ? "No result." : a;
}

bool AgentLoop::on_action(uint64_t ticket, const std::string& text, std::string* error) {
    if (!check_ticket(ticket, AgentRequestKind::Plan, error)) return false;
    ToolCall call;
    if (!registry_->parse_action(text, &call, error, request_.allowed_tools)) return false;
    if (call.tool == kFinishTool) {
        const std::string answer = call.arguments.value("answer", std::string());
        const auto& choices = config_.answer_choices;
        if (!choices.empty() && std::find(choices.begin(), choices.end(), answer) == choices.end()) {
            if (error) *error = "The answer \"" + answer + "\" is not one of the choices (" + join_choices(choices) + "); ask the model again.";
            return false;
        }
        finish(answer, "model");
        return true;
    }
    TraceStep s;
    s.index = int(trace_.steps.size());
    s.round = model_rounds_used() + 1;
    s.origin = "model";
    s.tool = call.tool;
    s.arguments = call.arguments;
    s.model = trace_.model;
    trace_.steps.push_back(s);
    request_tool(s.index);
    return true;
}

bool AgentLoop::on_tool_output(uint64_t ticket, const json& output, double started_ms, double finished_ms,
                               std::string* error) {
    if (!check_ticket(ticket, AgentRequestKind::RunTool, error)) return false;
    TraceStep& s = trace_.steps[request_.step];
    s.started_ms = started_ms;
    s.finished_ms = finished_ms;
    const json rounded = round_json_numbers(output);
    std::string why;
    if (registry_->validate_output(s.tool, rounded, &why)) s.output = rounded;
    else s.error = why;
    after_tool(s.index);
    return true;
}

bool AgentLoop::on_tool_error(uint64_t ticket, const std::string& message, double started_ms, double finished_ms,
                              std::string* error) {
    if (!check_ticket(ticket, AgentRequestKind::RunTool, error)) return false;
    TraceStep& s = trace_.steps[request_.step];
    s.started_ms = started_ms;
    s.finished_ms = finished_ms;
    s.error = message.empty() ? "The tool failed without saying why." : message;
    after_tool(s.index);
    return true;
}

void AgentLoop::after_tool(int step) {
    std::vector<TraceStep> upto(trace_.steps.begin(), trace_.steps.begin() + step + 1);
    trace_.steps[step].checks = run_agent_checks(upto, config_.checks);
    if (config_.reflect) {
        AgentRequest r;
        r.kind = AgentRequestKind::Reflect;
        r.ticket = ++tickets_;
        r.step = step;
        r.prompt = reflection_prompt(step);
        request_ = r;
        return;
    }
    advance();
}

bool AgentLoop::on_reflection(uint64_t ticket, const std::string& text, std::string* error) {
    if (!check_ticket(ticket, AgentRequestKind::Reflect, error)) return false;
    trace_.steps[request_.step].reflection = draft_bound_text(text, 1000);
    advance();
    return true;
}

void AgentLoop::stop() {
    if (!running()) return;
    AgentRequest r;
    r.kind = AgentRequestKind::Stopped;
    r.ticket = ++tickets_;
    request_ = r;
}

bool AgentLoop::change_step(int step, std::string* error) {
    if (request_.kind == AgentRequestKind::Idle) {
        if (error) *error = "No run has started.";
        return false;
    }
    if (step < 0 || step >= int(trace_.steps.size())) {
        if (error) *error = "There is no step " + std::to_string(step + 1) + " in this run.";
        return false;
    }
    const TraceStep& s = trace_.steps[step];
    if (s.tool == kFinishTool) {
        if (error) *error = "The answer is not a tool's output: reject or edit the step before it to continue the run.";
        return false;
    }
    if (s.output.is_null() && s.error.empty()) {
        if (error) *error = "Step " + std::to_string(step + 1) + " has not finished yet: wait for it, or stop the run.";
        return false;
    }
    trace_.steps.resize(size_t(step) + 1);
    trace_.answer.clear();
    return true;
}

bool AgentLoop::reject_step(int step, const std::string& note, std::string* error) {
    if (!change_step(step, error)) return false;
    TraceStep& s = trace_.steps[step];
    s.status = StepStatus::Rejected;
    s.note = note;
    s.reflection.clear();
    s.checks = run_agent_checks(trace_.steps, config_.checks);
    advance();
    return true;
}

bool AgentLoop::edit_step(int step, const json& output, const std::string& note, std::string* error) {
    if (step >= 0 && step < int(trace_.steps.size())) {
        const json rounded = round_json_numbers(output);
        if (!registry_->validate_output(trace_.steps[step].tool, rounded, error)) return false;
        if (!change_step(step, error)) return false;
        TraceStep& s = trace_.steps[step];
        if (s.status != StepStatus::Edited) s.original_output = s.output;
        s.output = rounded;
        s.error.clear();
        s.status = StepStatus::Edited;
        s.note = note;
        s.reflection.clear();
        after_tool(step);
        return true;
    }
    return change_step(step, error);
}

std::string AgentLoop::step_summary(const TraceStep& s) const {
    std::string line = std::to_string(s.index + 1) + ". " + s.tool + " " + cut(s.arguments.dump(), config_.output_chars);
    if (s.status == StepStatus::Rejected) {
        line += " -> rejected by the clinician" + (s.note.empty() ? std::string() : ": " + s.note);
        return line + "\n";
    }
    if (!s.error.empty()) line += " -> failed: " + s.error;
    else if (s.tool == "segment" && s.output.is_object()) {
        const json masks = s.output.value("masks", json::array());
        line += " -> " + std::to_string(masks.size()) + " mask(s)";
        for (const auto& m : masks)
            if (m.contains("box")) line += " " + m["box"].dump();
    } else if (!s.output.is_null()) {
        line += " -> " + cut(s.output.dump(), config_.output_chars);
    }
    if (s.status == StepStatus::Edited) line += " (edited by the clinician" + (s.note.empty() ? std::string() : ": " + s.note) + ")";
    for (const auto& c : s.checks)
        if (c.level == CheckLevel::Warn) line += "\n   check: " + c.message;
    if (!s.reflection.empty()) line += "\n   reflection: " + s.reflection;
    return line + "\n";
}

std::string AgentLoop::planning_prompt() const {
    std::string p =
        "You examine one endoscopy image with tools, one call at a time, and end with finish and your answer.\n"
        "Question: " + trace_.question + "\n\nTools:\n" + registry_->describe_for_prompt(request_.allowed_tools);
    if (config_.use_memory && memory_) {
        const std::string m = memory_->for_prompt(config_.memory_chars);
        if (!m.empty()) p += "\nLessons from earlier cases:\n" + m;
    }
    // The most recent steps that fit the budget.
    std::vector<std::string> lines;
    size_t used = 0;
    bool left_out = false;
    for (int i = int(trace_.steps.size()) - 1; i >= 0; --i) {
        const std::string l = step_summary(trace_.steps[i]);
        if (used + l.size() > config_.trace_chars) {
            left_out = true;
            break;
        }
        used += l.size();
        lines.push_back(l);
    }
    p += "\nSteps so far:\n";
    if (lines.empty()) p += "(none)\n";
    if (left_out) p += "(earlier steps left out)\n";
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) p += *it;
    const int left = config_.max_rounds - model_rounds_used();
    if (left > 0)
        p += "\nTool calls left: " + std::to_string(left) +
             ". Reply with one JSON object {\"tool\": ..., \"arguments\": {...}}. Call finish when you can answer.\n";
    else
        p += "\nNo tool calls are left. Reply with {\"tool\": \"finish\", \"arguments\": {\"answer\": ...}}.\n";
    // In the closing instruction, which a planner that shortens the prompt keeps whole.
    if (!config_.answer_choices.empty()) p += "finish's answer is one of: " + join_choices(config_.answer_choices) + ".\n";
    return p;
}

std::string AgentLoop::reflection_prompt(int step) const {
    std::string p = "Question: " + trace_.question + "\nYou just ran:\n" + step_summary(trace_.steps[step]);
    p += "\nIn one or two sentences: can this result be trusted, given the checks, and what should be done next?";
    return p;
}

AgentTrace replay_trace(const AgentTrace& recorded, const ToolRegistry& registry, const AgentConfig& config_in,
                        const AgentMemory* memory, std::string* error) {
    AgentConfig config = config_in;
    config.mode = recorded.mode == "protocol" ? AgentMode::Protocol : AgentMode::Planned;
    config.max_rounds = recorded.max_rounds;
    AgentLoop loop(&registry);
    loop.start(config, recorded.question, recorded.image, recorded.model, recorded.seed, memory);
    std::string why;
    auto fail = [&](size_t i, const std::string& what) {
        if (error) *error = "step " + std::to_string(i + 1) + ": " + what;
        return loop.trace();
    };
    for (size_t i = 0; i < recorded.steps.size(); ++i) {
        const TraceStep& rec = recorded.steps[i];
        AgentRequest r = loop.next();
        if (r.kind == AgentRequestKind::Plan) {
            if (!loop.on_action(r.ticket, json{{"tool", rec.tool}, {"arguments", rec.arguments}}.dump(), &why))
                return fail(i, "the recorded call is not valid now: " + why);
            r = loop.next();
        }
        if (rec.output.is_null() && rec.error.empty() && rec.status == StepStatus::Ok) {
            loop.stop();  // the recording was stopped while this step ran
            break;
        }
        if (rec.tool == kFinishTool) {
            if (r.kind != AgentRequestKind::Finished) return fail(i, "the recording finishes here, the loop does not");
            continue;
        }
        if (r.kind != AgentRequestKind::RunTool || r.tool != rec.tool || r.arguments != rec.arguments)
            return fail(i, "the loop asks for " + std::string(agent_request_kind_name(r.kind)) + " " + r.tool + " " +
                               (r.arguments.is_null() ? "" : r.arguments.dump()) + ", the recording has " + rec.tool + " " +
                               rec.arguments.dump());
        const json out = rec.status == StepStatus::Edited ? rec.original_output : rec.output;
        const bool ok = rec.error.empty() || rec.status == StepStatus::Edited
                            ? loop.on_tool_output(r.ticket, out, rec.started_ms, rec.finished_ms, &why)
                            : loop.on_tool_error(r.ticket, rec.error, rec.started_ms, rec.finished_ms, &why);
        if (!ok) return fail(i, why);
        auto reflect = [&]() {
            const AgentRequest q = loop.next();
            if (q.kind == AgentRequestKind::Reflect) loop.on_reflection(q.ticket, rec.reflection, &why);
        };
        if (rec.status != StepStatus::Rejected) reflect();
        else if (loop.next().kind == AgentRequestKind::Reflect) loop.on_reflection(loop.next().ticket, "", &why);
        if (rec.status == StepStatus::Rejected && !loop.reject_step(int(i), rec.note, &why)) return fail(i, why);
        if (rec.status == StepStatus::Edited) {
            if (!loop.edit_step(int(i), rec.output, rec.note, &why)) return fail(i, why);
            reflect();
        }
    }
    if (error) error->clear();
    return loop.trace();
}

}  // namespace es
