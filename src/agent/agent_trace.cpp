#include "agent/agent_trace.h"

#include <algorithm>

#include "json/json_syntax.h"

namespace es {

using json = nlohmann::json;

namespace {

constexpr size_t kMaxLineBytes = 16u << 20;  // a step with full-size masks as RLE fits easily
constexpr int kMaxLineNesting = 32;
constexpr size_t kMaxSteps = 10000;

bool get_string(const json& j, const char* key, std::string* out, std::string* error, bool required = false) {
    if (!j.contains(key)) {
        if (required) *error = std::string("\"") + key + "\" is missing";
        return !required;
    }
    if (!j[key].is_string()) {
        *error = std::string("\"") + key + "\" must be text";
        return false;
    }
    *out = j[key].get<std::string>();
    return true;
}

bool get_number(const json& j, const char* key, double* out, std::string* error) {
    if (!j.contains(key)) return true;
    if (!j[key].is_number()) {
        *error = std::string("\"") + key + "\" must be a number";
        return false;
    }
    *out = j[key].get<double>();
    return true;
}

json check_to_json(const AgentCheck& c) {
    json j = {{"id", c.id}, {"level", check_level_name(c.level)}, {"message", c.message}};
    if (!c.recheck_tool.empty()) j["recheck"] = {{"tool", c.recheck_tool}, {"arguments", c.recheck_arguments}};
    return j;
}

bool check_from_json(const json& j, AgentCheck* c, std::string* error) {
    if (!j.is_object()) {
        *error = "a check must be an object";
        return false;
    }
    std::string level;
    if (!get_string(j, "id", &c->id, error, true) || !get_string(j, "level", &level, error, true) ||
        !get_string(j, "message", &c->message, error))
        return false;
    if (level == "pass") c->level = CheckLevel::Pass;
    else if (level == "warn") c->level = CheckLevel::Warn;
    else {
        *error = "a check's level must be \"pass\" or \"warn\"";
        return false;
    }
    if (j.contains("recheck")) {
        const json& r = j["recheck"];
        if (!r.is_object() || !get_string(r, "tool", &c->recheck_tool, error, true)) {
            if (error->empty()) *error = "a check's \"recheck\" must be {tool, arguments}";
            return false;
        }
        c->recheck_arguments = r.value("arguments", json::object());
        if (!c->recheck_arguments.is_object()) {
            *error = "a re-check's arguments must be an object";
            return false;
        }
    }
    return true;
}

}  // namespace

const char* step_status_name(StepStatus s) {
    switch (s) {
        case StepStatus::Ok: return "ok";
        case StepStatus::Rejected: return "rejected";
        case StepStatus::Edited: return "edited";
    }
    return "ok";
}

bool step_status_from_name(const std::string& s, StepStatus* out) {
    if (s == "ok") *out = StepStatus::Ok;
    else if (s == "rejected") *out = StepStatus::Rejected;
    else if (s == "edited") *out = StepStatus::Edited;
    else return false;
    return true;
}

const char* check_level_name(CheckLevel l) { return l == CheckLevel::Warn ? "warn" : "pass"; }

bool AgentCheck::operator==(const AgentCheck& o) const {
    return id == o.id && level == o.level && message == o.message && recheck_tool == o.recheck_tool &&
           recheck_arguments == o.recheck_arguments;
}

json trace_step_to_json(const TraceStep& s) {
    json checks = json::array();
    for (const auto& c : s.checks) checks.push_back(check_to_json(c));
    json j = {{"type", "step"},       {"index", s.index},         {"round", s.round},
              {"origin", s.origin},   {"tool", s.tool},           {"arguments", s.arguments},
              {"output", s.output},   {"checks", checks},         {"reflection", s.reflection},
              {"started_ms", s.started_ms}, {"finished_ms", s.finished_ms}, {"model", s.model},
              {"status", step_status_name(s.status)}};
    if (!s.error.empty()) j["error"] = s.error;
    if (!s.recheck_of.empty()) j["recheck_of"] = s.recheck_of;
    if (s.status == StepStatus::Edited) j["original_output"] = s.original_output;
    if (!s.note.empty()) j["note"] = s.note;
    return j;
}

bool trace_step_from_json(const json& j, TraceStep* s, std::string* error) {
    *s = TraceStep();
    if (!j.is_object()) {
        *error = "a step must be an object";
        return false;
    }
    if (!j.contains("index") || !j["index"].is_number_integer() || j["index"].get<long long>() < 0 ||
        j["index"].get<long long>() >= (long long)kMaxSteps) {
        *error = "\"index\" must be a whole number from 0 to 9999";
        return false;
    }
    s->index = j["index"].get<int>();
    if (j.contains("round")) {
        if (!j["round"].is_number_integer() || j["round"].get<long long>() < 0 || j["round"].get<long long>() > 1000) {
            *error = "\"round\" must be a whole number from 0 to 1000";
            return false;
        }
        s->round = j["round"].get<int>();
    }
    std::string status = "ok";
    if (!get_string(j, "tool", &s->tool, error, true) || !get_string(j, "origin", &s->origin, error) ||
        !get_string(j, "recheck_of", &s->recheck_of, error) ||
        !get_string(j, "reflection", &s->reflection, error) || !get_string(j, "model", &s->model, error) ||
        !get_string(j, "error", &s->error, error) || !get_string(j, "note", &s->note, error) ||
        !get_string(j, "status", &status, error) || !get_number(j, "started_ms", &s->started_ms, error) ||
        !get_number(j, "finished_ms", &s->finished_ms, error))
        return false;
    if (!step_status_from_name(status, &s->status)) {
        *error = "\"status\" must be \"ok\", \"rejected\" or \"edited\"";
        return false;
    }
    s->arguments = j.value("arguments", json::object());
    if (!s->arguments.is_object()) {
        *error = "\"arguments\" must be an object";
        return false;
    }
    s->output = j.value("output", json());
    s->original_output = j.value("original_output", json());
    if (j.contains("checks")) {
        if (!j["checks"].is_array()) {
            *error = "\"checks\" must be a list";
            return false;
        }
        for (const auto& c : j["checks"]) {
            AgentCheck check;
            if (!check_from_json(c, &check, error)) return false;
            s->checks.push_back(std::move(check));
        }
    }
    return true;
}

std::string trace_to_jsonl(const AgentTrace& t) {
    json header = {{"type", "header"}, {"version", 1},          {"question", t.question}, {"image", t.image},
                   {"model", t.model}, {"mode", t.mode},        {"seed", t.seed},         {"max_rounds", t.max_rounds},
                   {"answer", t.answer}};
    std::string out = header.dump() + "\n";
    for (const auto& s : t.steps) out += trace_step_to_json(s).dump() + "\n";
    for (const auto& l : t.unreadable_lines) out += l + "\n";
    return out;
}

TraceLoadResult trace_from_jsonl(const std::string& text, AgentTrace* t) {
    *t = AgentTrace();
    TraceLoadResult r;
    size_t pos = 0;
    int line_no = 0;
    auto refuse = [&](const std::string& line, const std::string& why) {
        r.problems.push_back("line " + std::to_string(line_no) + ": " + why + "; the line is kept as it was and not used.");
        t->unreadable_lines.push_back(line);
    };
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        if (line.size() > kMaxLineBytes) {
            refuse(line, "it is longer than 16 MB");
            continue;
        }
        if (json_nesting_depth(line, kMaxLineNesting + 1) > kMaxLineNesting) {
            refuse(line, "it is nested more than 32 levels deep");
            continue;
        }
        const JsonSyntax syntax = check_json_syntax(line);
        if (!syntax.ok) {
            refuse(line, "it is " + syntax.describe());
            continue;
        }
        const json j = json::parse(line, nullptr, false);
        const std::string type = j.is_object() && j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>() : "";
        std::string error;
        if (type == "header") {
            if (r.ok) {
                refuse(line, "a second header");
                continue;
            }
            AgentTrace h;
            long long rounds = 3;
            if (j.contains("max_rounds")) {
                if (!j["max_rounds"].is_number_integer() || j["max_rounds"].get<long long>() < 1 ||
                    j["max_rounds"].get<long long>() > 100) {
                    refuse(line, "\"max_rounds\" must be a whole number from 1 to 100");
                    continue;
                }
                rounds = j["max_rounds"].get<long long>();
            }
            if (!get_string(j, "question", &h.question, &error) || !get_string(j, "image", &h.image, &error) ||
                !get_string(j, "model", &h.model, &error) || !get_string(j, "mode", &h.mode, &error) ||
                !get_string(j, "answer", &h.answer, &error)) {
                refuse(line, "the header is not readable: " + error);
                continue;
            }
            if (j.contains("seed")) {
                if (!j["seed"].is_number_unsigned()) {
                    refuse(line, "the header's \"seed\" must be a whole number of 0 or more");
                    continue;
                }
                h.seed = j["seed"].get<uint64_t>();
            }
            t->question = h.question;
            t->image = h.image;
            t->model = h.model;
            t->mode = h.mode;
            t->answer = h.answer;
            t->seed = h.seed;
            t->max_rounds = int(rounds);
            r.ok = true;
        } else if (type == "step") {
            TraceStep s;
            if (!trace_step_from_json(j, &s, &error)) {
                refuse(line, "the step is not readable: " + error);
                continue;
            }
            if (s.index != int(t->steps.size())) {
                refuse(line, "step " + std::to_string(s.index) + " is out of order (step " +
                                 std::to_string(t->steps.size()) + " was expected)");
                continue;
            }
            t->steps.push_back(std::move(s));
        } else {
            refuse(line, "it is not a trace line (\"type\" must be \"header\" or \"step\")");
        }
    }
    if (!r.ok) r.problems.push_back("The file has no trace header: it is not an agent trace, or its first line is damaged.");
    return r;
}

std::string trace_difference(const AgentTrace& a, const AgentTrace& b) {
    if (a.question != b.question) return "the questions differ";
    for (size_t i = 0; i < std::min(a.steps.size(), b.steps.size()); ++i) {
        const TraceStep& x = a.steps[i];
        const TraceStep& y = b.steps[i];
        const std::string at = "step " + std::to_string(i + 1) + " (" + x.tool + ")";
        if (x.tool != y.tool) return at + ": the tools differ (" + x.tool + " / " + y.tool + ")";
        if (x.origin != y.origin || x.recheck_of != y.recheck_of)
            return at + ": one came from " + x.origin + ", the other from " + y.origin;
        if (x.arguments != y.arguments) return at + ": the arguments differ";
        if (x.output != y.output) return at + ": the outputs differ";
        if (x.error != y.error) return at + ": the errors differ";
        if (!(x.checks == y.checks)) return at + ": the evaluator's checks differ";
        if (x.reflection != y.reflection) return at + ": the reflections differ";
        if (x.status != y.status) return at + ": the statuses differ";
    }
    if (a.steps.size() != b.steps.size())
        return "the runs have " + std::to_string(a.steps.size()) + " and " + std::to_string(b.steps.size()) + " steps";
    if (a.answer != b.answer) return "the answers differ";
    return "";
}

}  // namespace es
