// agent_bindings.cpp: the case agent's core (src/agent) exported to JS
// (web/agent/agent_core.js wraps it; web/agent/README.md documents it as
// Contract A). Everything is JSON text in and JSON text out; loops live behind
// integer handles. Text results stay in one result slot (read it right away,
// the next call replaces it). A call that fails returns {"ok":false,"error":...}
// in plain words (or 0 from es_agent_create, with es_agent_last_error()); no
// input, however malformed, aborts the module: every export catches what the
// JSON library throws (bad UTF-8 in a dump, a wrong type) and says so.
#include <emscripten/emscripten.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/agent_loop.h"
#include "agent/agent_memory.h"
#include "agent/agent_trace.h"
#include "agent/tool_registry.h"
#include "json/json_syntax.h"

namespace {

using json = nlohmann::json;

constexpr size_t kMaxInputBytes = 64u << 20;  // one tool output with many full-size masks fits easily
constexpr int kMaxInputNesting = 32;          // as the trace file's lines

std::string g_error;
std::string g_result;

const es::ToolRegistry& registry() {
    static const es::ToolRegistry r = es::ToolRegistry::standard();
    return r;
}

// A loop and the memory it reads (the loop keeps a pointer to it).
struct Agent {
    es::AgentMemory memory;
    bool has_memory = false;
    std::unique_ptr<es::AgentLoop> loop;
};
std::map<int, std::unique_ptr<Agent>> g_agents;
int g_next = 1;

const char* result(const json& j) {
    try {
        g_result = j.dump();
    } catch (const json::exception&) {
        // Text that is not valid UTF-8 somewhere in the value: replace it rather than fail.
        g_result = j.dump(-1, ' ', false, json::error_handler_t::replace);
    }
    return g_result.c_str();
}
const char* result_text(std::string s) {
    g_result = std::move(s);
    return g_result.c_str();
}
const char* failure(const std::string& error) { return result(json{{"ok", false}, {"error", error}}); }
const char* success(json j = json::object()) {
    j["ok"] = true;
    return result(j);
}

std::string text(const char* s) { return s ? std::string(s) : std::string(); }

// Parses JSON from JS without letting a hostile text recurse or exhaust memory.
// `what` names the input in the message ("the tool output").
bool parse_input(const char* s, const std::string& what, json* out, std::string* error) {
    const std::string t = text(s);
    if (t.size() > kMaxInputBytes) {
        *error = what + " is larger than 64 MB; it is not used.";
        return false;
    }
    if (es::json_nesting_depth(t, kMaxInputNesting + 1) > kMaxInputNesting) {
        *error = what + " is nested more than 32 levels deep; it is not used.";
        return false;
    }
    const es::JsonSyntax syntax = es::check_json_syntax(t);
    if (!syntax.ok) {
        *error = what + " is " + syntax.describe() + "; it is not used.";
        return false;
    }
    *out = json::parse(t, nullptr, false);
    if (out->is_discarded()) {
        *error = what + " is not valid JSON; it is not used.";
        return false;
    }
    return true;
}

Agent* agent(int h, std::string* error) {
    auto it = g_agents.find(h);
    if (it == g_agents.end()) {
        *error = "There is no agent run with handle " + std::to_string(h) + " (it was never started or was closed).";
        return nullptr;
    }
    return it->second.get();
}

// AgentConfig from {"mode","max_rounds","reflect","use_memory","label_set",
// "describe_question","memory_chars","trace_chars","output_chars",
// "min_margin","min_part_area"}; unknown keys are ignored (a newer host).
bool config_from_json(const json& j, es::AgentConfig* c, std::string* error) {
    if (j.is_null()) return true;
    if (!j.is_object()) {
        *error = "The agent's settings must be a JSON object.";
        return false;
    }
    auto bad = [&](const std::string& key, const std::string& want) {
        *error = "The setting \"" + key + "\" must be " + want + ".";
        return false;
    };
    if (j.contains("mode")) {
        const json& m = j["mode"];
        if (m == "planned") c->mode = es::AgentMode::Planned;
        else if (m == "protocol") c->mode = es::AgentMode::Protocol;
        else return bad("mode", "\"planned\" or \"protocol\"");
    }
    if (j.contains("max_rounds")) {
        const json& v = j["max_rounds"];
        if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 100)
            return bad("max_rounds", "a whole number from 1 to 100");
        c->max_rounds = int(v.get<long long>());
    }
    for (const char* key : {"reflect", "use_memory"}) {
        if (!j.contains(key)) continue;
        if (!j[key].is_boolean()) return bad(key, "true or false");
        (std::string(key) == "reflect" ? c->reflect : c->use_memory) = j[key].get<bool>();
    }
    for (const char* key : {"label_set", "describe_question"}) {
        if (!j.contains(key)) continue;
        if (!j[key].is_string() || j[key].get<std::string>().empty() || j[key].get<std::string>().size() > 300)
            return bad(key, "text of 1 to 300 characters");
        (std::string(key) == "label_set" ? c->label_set : c->describe_question) = j[key].get<std::string>();
    }
    for (const char* key : {"memory_chars", "trace_chars", "output_chars"}) {
        if (!j.contains(key)) continue;
        const json& v = j[key];
        if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 1000000)
            return bad(key, "a whole number from 0 to 1000000");
        const size_t n = size_t(v.get<long long>());
        const std::string k = key;
        (k == "memory_chars" ? c->memory_chars : k == "trace_chars" ? c->trace_chars : c->output_chars) = n;
    }
    if (j.contains("min_margin")) {
        const json& v = j["min_margin"];
        if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1) return bad("min_margin", "a number from 0 to 1");
        c->checks.min_margin = v.get<double>();
    }
    if (j.contains("min_part_area")) {
        const json& v = j["min_part_area"];
        if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > 100000000)
            return bad("min_part_area", "a whole number of pixels, 0 or more");
        c->checks.min_part_area = size_t(v.get<long long>());
    }
    return true;
}

json config_to_json(const es::AgentConfig& c) {
    return {{"mode", es::agent_mode_name(c.mode)},
            {"max_rounds", c.max_rounds},
            {"reflect", c.reflect},
            {"use_memory", c.use_memory},
            {"label_set", c.label_set},
            {"describe_question", c.describe_question},
            {"memory_chars", c.memory_chars},
            {"trace_chars", c.trace_chars},
            {"output_chars", c.output_chars},
            {"min_margin", c.checks.min_margin},
            {"min_part_area", c.checks.min_part_area}};
}

// A memory from its saved JSON ("" = empty). A bad file is refused as a whole.
bool memory_from_text(const char* s, es::AgentMemory* m, std::vector<std::string>* skipped, std::string* error) {
    const std::string t = text(s);
    if (t.find_first_not_of(" \t\r\n") == std::string::npos) return true;
    return m->from_json(t, error, skipped);
}

// {"seed": ...} may be a whole number or its decimal text (JS numbers stop at 2^53).
bool seed_from_text(const std::string& s, uint64_t* seed, std::string* error) {
    if (s.empty()) {
        *seed = 0;
        return true;
    }
    if (s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos) {
        *error = "The seed must be a whole number of 0 or more (digits only).";
        return false;
    }
    *seed = std::strtoull(s.c_str(), nullptr, 10);
    if (s.size() == 20 && s > "18446744073709551615") {
        *error = "The seed is larger than 18446744073709551615.";
        return false;
    }
    return true;
}

// The trace as one JSON object: {header:{...}, steps:[...]} (steps as the
// JSON-lines file writes them), for the panel.
json trace_json(const es::AgentTrace& t) {
    json steps = json::array();
    for (const auto& s : t.steps) steps.push_back(es::trace_step_to_json(s));
    return {{"header",
             {{"question", t.question}, {"image", t.image}, {"model", t.model}, {"mode", t.mode},
              {"seed", std::to_string(t.seed)}, {"max_rounds", t.max_rounds}, {"answer", t.answer}}},
            {"steps", steps}};
}

json request_json(const es::AgentRequest& r) {
    json j = {{"kind", es::agent_request_kind_name(r.kind)}, {"ticket", r.ticket}, {"step", r.step}};
    switch (r.kind) {
        case es::AgentRequestKind::Plan:
            j["prompt"] = r.prompt;
            j["action_schema"] = r.action_schema;
            j["allowed_tools"] = r.allowed_tools;
            break;
        case es::AgentRequestKind::RunTool:
            j["tool"] = r.tool;
            j["arguments"] = r.arguments;
            break;
        case es::AgentRequestKind::Reflect: j["prompt"] = r.prompt; break;
        case es::AgentRequestKind::Finished: j["answer"] = r.answer; break;
        default: break;
    }
    return j;
}

bool names_from_json(const json& j, std::vector<std::string>* names, std::string* error) {
    if (j.is_null()) return true;
    if (!j.is_array()) {
        *error = "The allowed tools must be a list of tool names.";
        return false;
    }
    for (const auto& n : j) {
        if (!n.is_string()) {
            *error = "The allowed tools must be a list of tool names.";
            return false;
        }
        names->push_back(n.get<std::string>());
    }
    return true;
}

bool number_field(const json& j, const char* key, double* out) {
    if (!j.contains(key)) return true;
    if (!j[key].is_number()) return false;
    *out = j[key].get<double>();
    return true;
}

const char* memory_result(const es::AgentMemory& m, json extra = json::object()) {
    extra["memory"] = m.to_json();
    return success(extra);
}

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE const char* es_agent_last_error() { return g_error.c_str(); }

// {"tools":[{name, description, input_schema, output_schema}], "action_schema": {...},
//  "default_config": {...AgentConfig}}
EMSCRIPTEN_KEEPALIVE const char* es_agent_registry() {
    try {
        json tools = json::array();
        for (const auto& t : registry().tools())
            tools.push_back({{"name", t.name},
                             {"description", t.description},
                             {"input_schema", t.input_schema},
                             {"output_schema", t.output_schema}});
        return success({{"tools", tools},
                        {"action_schema", registry().action_schema()},
                        {"default_config", config_to_json(es::AgentConfig())}});
    } catch (const std::exception& e) {
        return failure(std::string("The tool list could not be written: ") + e.what());
    }
}

// allowed_tools_json: a list of names, or "" / null for every tool.
// -> {"ok":true,"call":{"tool","arguments"}} | {"ok":false,"error"}
EMSCRIPTEN_KEEPALIVE const char* es_agent_parse_action(const char* action_text, const char* allowed_tools_json) {
    try {
        std::vector<std::string> names;
        std::string error;
        if (!text(allowed_tools_json).empty()) {
            json allowed;
            if (!parse_input(allowed_tools_json, "The list of allowed tools", &allowed, &error) ||
                !names_from_json(allowed, &names, &error))
                return failure(error);
        }
        const std::string t = text(action_text);
        if (t.size() > kMaxInputBytes) return failure("The tool call is larger than 64 MB; it is not used.");
        es::ToolCall call;
        if (!registry().parse_action(t, &call, &error, names)) return failure(error);
        return success({{"call", {{"tool", call.tool}, {"arguments", call.arguments}}}});
    } catch (const std::exception& e) {
        return failure(std::string("The tool call could not be read: ") + e.what());
    }
}

// which: "arguments" | "output". -> {"ok":true} | {"ok":false,"error"}
EMSCRIPTEN_KEEPALIVE const char* es_agent_validate(const char* tool, const char* which, const char* value_json) {
    try {
        std::string error;
        json value;
        if (!parse_input(value_json, "The value to check", &value, &error)) return failure(error);
        const bool output = text(which) == "output";
        const bool ok = output ? registry().validate_output(text(tool), es::round_json_numbers(value), &error)
                               : registry().validate_arguments(text(tool), value, &error);
        return ok ? success() : failure(error);
    } catch (const std::exception& e) {
        return failure(std::string("The value could not be checked: ") + e.what());
    }
}

// Starts a run. config_json: AgentConfig fields (see config_from_json);
// seed: decimal text; memory_json: the saved memory ("" = none).
// Returns a handle, or 0 with es_agent_last_error().
EMSCRIPTEN_KEEPALIVE int es_agent_create(const char* config_json, const char* question, const char* image_key,
                                         const char* model_id, const char* seed, const char* memory_json) {
    try {
        es::AgentConfig config;
        json cfg;
        std::string error;
        if (!text(config_json).empty()) {
            if (!parse_input(config_json, "The agent's settings", &cfg, &error) || !config_from_json(cfg, &config, &error)) {
                g_error = error;
                return 0;
            }
        }
        const std::string q = text(question);
        if (q.find_first_not_of(" \t\r\n") == std::string::npos) {
            g_error = "The question is empty: type what the agent should find out about the image.";
            return 0;
        }
        if (q.size() > 4000) {
            g_error = "The question is longer than 4000 characters: shorten it.";
            return 0;
        }
        uint64_t s = 0;
        if (!seed_from_text(text(seed), &s, &error)) {
            g_error = error;
            return 0;
        }
        auto a = std::make_unique<Agent>();
        std::vector<std::string> skipped;
        if (!memory_from_text(memory_json, &a->memory, &skipped, &error)) {
            g_error = "The agent's memory could not be read: " + error;
            return 0;
        }
        a->loop = std::make_unique<es::AgentLoop>(&registry());
        a->loop->start(config, q, text(image_key), text(model_id), s, &a->memory);
        const int h = g_next++;
        g_agents[h] = std::move(a);
        return h;
    } catch (const std::exception& e) {
        g_error = std::string("The run could not be started: ") + e.what();
        return 0;
    }
}

EMSCRIPTEN_KEEPALIVE void es_agent_free(int h) { g_agents.erase(h); }

// The request standing now (see request_json): {"ok":true,"request":{kind, ticket, step, ...},
// "running": bool}.
EMSCRIPTEN_KEEPALIVE const char* es_agent_next(int h) {
    try {
        std::string error;
        Agent* a = agent(h, &error);
        if (!a) return failure(error);
        return success({{"request", request_json(a->loop->next())}, {"running", a->loop->running()}});
    } catch (const std::exception& e) {
        return failure(std::string("The next request could not be written: ") + e.what());
    }
}

// answer_json: {ticket, action} | {ticket, output, started_ms, finished_ms} |
// {ticket, error, started_ms, finished_ms} | {ticket, reflection}.
// -> {"ok":true} | {"ok":false,"error"} (the request then still stands).
EMSCRIPTEN_KEEPALIVE const char* es_agent_answer(int h, const char* answer_json) {
    try {
        std::string error;
        Agent* a = agent(h, &error);
        if (!a) return failure(error);
        json ans;
        if (!parse_input(answer_json, "The answer", &ans, &error)) return failure(error);
        if (!ans.is_object()) return failure("The answer must be a JSON object with a \"ticket\".");
        if (!ans.contains("ticket") || !ans["ticket"].is_number_unsigned())
            return failure("The answer has no \"ticket\" (a whole number from the request it answers).");
        const uint64_t ticket = ans["ticket"].get<uint64_t>();
        double started = 0, finished = 0;
        if (!number_field(ans, "started_ms", &started) || !number_field(ans, "finished_ms", &finished))
            return failure("\"started_ms\" and \"finished_ms\" must be numbers (milliseconds).");
        es::AgentLoop& loop = *a->loop;
        bool ok = false;
        if (ans.contains("action")) {
            if (!ans["action"].is_string()) return failure("\"action\" must be the model's text (a JSON call as text).");
            ok = loop.on_action(ticket, ans["action"].get<std::string>(), &error);
        } else if (ans.contains("output")) {
            ok = loop.on_tool_output(ticket, ans["output"], started, finished, &error);
        } else if (ans.contains("error")) {
            if (!ans["error"].is_string()) return failure("\"error\" must be text saying why the tool failed.");
            ok = loop.on_tool_error(ticket, ans["error"].get<std::string>(), started, finished, &error);
        } else if (ans.contains("reflection")) {
            if (!ans["reflection"].is_string()) return failure("\"reflection\" must be text.");
            ok = loop.on_reflection(ticket, ans["reflection"].get<std::string>(), &error);
        } else {
            return failure("The answer must carry \"action\", \"output\", \"error\" or \"reflection\".");
        }
        return ok ? success() : failure(error);
    } catch (const std::exception& e) {
        return failure(std::string("The answer could not be used: ") + e.what());
    }
}

EMSCRIPTEN_KEEPALIVE const char* es_agent_stop(int h) {
    std::string error;
    Agent* a = agent(h, &error);
    if (!a) return failure(error);
    a->loop->stop();
    return success();
}

// step: 0-based index. The steps after it are dropped; the run continues.
EMSCRIPTEN_KEEPALIVE const char* es_agent_reject_step(int h, int step, const char* note) {
    try {
        std::string error;
        Agent* a = agent(h, &error);
        if (!a) return failure(error);
        if (text(note).size() > 2000) return failure("The note is longer than 2000 characters: shorten it.");
        return a->loop->reject_step(step, text(note), &error) ? success() : failure(error);
    } catch (const std::exception& e) {
        return failure(std::string("The step could not be rejected: ") + e.what());
    }
}

EMSCRIPTEN_KEEPALIVE const char* es_agent_edit_step(int h, int step, const char* output_json, const char* note) {
    try {
        std::string error;
        Agent* a = agent(h, &error);
        if (!a) return failure(error);
        json output;
        if (!parse_input(output_json, "The edited output", &output, &error)) return failure(error);
        if (text(note).size() > 2000) return failure("The note is longer than 2000 characters: shorten it.");
        return a->loop->edit_step(step, output, text(note), &error) ? success() : failure(error);
    } catch (const std::exception& e) {
        return failure(std::string("The step could not be edited: ") + e.what());
    }
}

// The trace as JSON lines (the file saved with the case). "" for a bad handle.
EMSCRIPTEN_KEEPALIVE const char* es_agent_trace(int h) {
    try {
        std::string error;
        Agent* a = agent(h, &error);
        if (!a) {
            g_error = error;
            return result_text("");
        }
        return result_text(es::trace_to_jsonl(a->loop->trace()));
    } catch (const std::exception& e) {
        g_error = std::string("The trace could not be written: ") + e.what();
        return result_text("");
    }
}

// Everything the panel shows: {"ok":true,"request":{...},"running",
// "trace":{header, steps}, "config":{...}}.
EMSCRIPTEN_KEEPALIVE const char* es_agent_state(int h) {
    try {
        std::string error;
        Agent* a = agent(h, &error);
        if (!a) return failure(error);
        return success({{"request", request_json(a->loop->next())},
                        {"running", a->loop->running()},
                        {"trace", trace_json(a->loop->trace())},
                        {"config", config_to_json(a->loop->config())}});
    } catch (const std::exception& e) {
        return failure(std::string("The run's state could not be written: ") + e.what());
    }
}

// -> {"ok": <a header was read>, "trace":{header, steps}, "problems":[...],
//     "unreadable":[lines kept as they were]}
EMSCRIPTEN_KEEPALIVE const char* es_agent_trace_parse(const char* jsonl) {
    try {
        es::AgentTrace t;
        const es::TraceLoadResult r = es::trace_from_jsonl(text(jsonl), &t);
        json out = {{"trace", trace_json(t)}, {"problems", r.problems}, {"unreadable", t.unreadable_lines}};
        if (!r.ok) {
            out["ok"] = false;
            out["error"] = r.problems.empty() ? "The file is not an agent trace." : r.problems.back();
            return result(out);
        }
        return success(out);
    } catch (const std::exception& e) {
        return failure(std::string("The trace could not be read: ") + e.what());
    }
}

// Drives a fresh loop with the recorded trace (replay_trace) and compares.
// -> {"ok":true,"trace_jsonl","difference":"" when the same,"error":"" or where
//     the replay could not follow}
EMSCRIPTEN_KEEPALIVE const char* es_agent_replay(const char* jsonl, const char* config_json, const char* memory_json) {
    try {
        es::AgentTrace recorded;
        const es::TraceLoadResult r = es::trace_from_jsonl(text(jsonl), &recorded);
        if (!r.ok) return failure(r.problems.empty() ? "The file is not an agent trace." : r.problems.back());
        es::AgentConfig config;
        std::string error;
        if (!text(config_json).empty()) {
            json cfg;
            if (!parse_input(config_json, "The agent's settings", &cfg, &error) || !config_from_json(cfg, &config, &error))
                return failure(error);
        }
        es::AgentMemory memory;
        std::vector<std::string> skipped;
        if (!memory_from_text(memory_json, &memory, &skipped, &error))
            return failure("The agent's memory could not be read: " + error);
        std::string replay_error;
        const es::AgentTrace replayed = es::replay_trace(recorded, registry(), config, &memory, &replay_error);
        std::string difference = es::trace_difference(recorded, replayed);
        if (difference.empty() && !replay_error.empty()) difference = replay_error;
        return success({{"trace_jsonl", es::trace_to_jsonl(replayed)},
                        {"trace", trace_json(replayed)},
                        {"difference", difference},
                        {"error", replay_error},
                        {"problems", r.problems}});
    } catch (const std::exception& e) {
        return failure(std::string("The trace could not be replayed: ") + e.what());
    }
}

// -> {"ok":true,"difference":"" | first difference in words}
EMSCRIPTEN_KEEPALIVE const char* es_agent_trace_difference(const char* expected_jsonl, const char* actual_jsonl) {
    try {
        es::AgentTrace a, b;
        const es::TraceLoadResult ra = es::trace_from_jsonl(text(expected_jsonl), &a);
        if (!ra.ok) return failure("The first trace cannot be read: " + (ra.problems.empty() ? std::string() : ra.problems.back()));
        const es::TraceLoadResult rb = es::trace_from_jsonl(text(actual_jsonl), &b);
        if (!rb.ok) return failure("The second trace cannot be read: " + (rb.problems.empty() ? std::string() : rb.problems.back()));
        return success({{"difference", es::trace_difference(a, b)}});
    } catch (const std::exception& e) {
        return failure(std::string("The traces could not be compared: ") + e.what());
    }
}

// ---- long-term memory: JS keeps the JSON; each change returns the new one ----
// -> {"ok":true,"memory":{version,next_id,entries},"skipped":[...]}
EMSCRIPTEN_KEEPALIVE const char* es_agent_memory_read(const char* memory_json) {
    try {
        es::AgentMemory m;
        std::vector<std::string> skipped;
        std::string error;
        if (!memory_from_text(memory_json, &m, &skipped, &error)) return failure(error);
        return memory_result(m, {{"skipped", skipped}});
    } catch (const std::exception& e) {
        return failure(std::string("The memory could not be read: ") + e.what());
    }
}

// -> {"ok":true,"memory","id"} | {"ok":false,"error"} (the memory unchanged)
EMSCRIPTEN_KEEPALIVE const char* es_agent_memory_add(const char* memory_json, const char* entry_text,
                                                     const char* created_at, const char* source) {
    try {
        es::AgentMemory m;
        std::vector<std::string> skipped;
        std::string error;
        if (!memory_from_text(memory_json, &m, &skipped, &error)) return failure(error);
        uint64_t id = 0;
        if (!m.add(text(entry_text), text(created_at), text(source), &id, &error)) return failure(error);
        return memory_result(m, {{"id", id}});
    } catch (const std::exception& e) {
        return failure(std::string("The reflection could not be added: ") + e.what());
    }
}

EMSCRIPTEN_KEEPALIVE const char* es_agent_memory_edit(const char* memory_json, double id, const char* entry_text) {
    try {
        es::AgentMemory m;
        std::vector<std::string> skipped;
        std::string error;
        if (!memory_from_text(memory_json, &m, &skipped, &error)) return failure(error);
        if (!(id >= 1) || !m.edit(uint64_t(id), text(entry_text), &error))
            return failure(error.empty() ? "There is no reflection with that id in the memory." : error);
        return memory_result(m);
    } catch (const std::exception& e) {
        return failure(std::string("The reflection could not be changed: ") + e.what());
    }
}

EMSCRIPTEN_KEEPALIVE const char* es_agent_memory_enable(const char* memory_json, double id, int enabled) {
    try {
        es::AgentMemory m;
        std::vector<std::string> skipped;
        std::string error;
        if (!memory_from_text(memory_json, &m, &skipped, &error)) return failure(error);
        if (!(id >= 1) || !m.set_enabled(uint64_t(id), enabled != 0))
            return failure("There is no reflection with that id in the memory.");
        return memory_result(m);
    } catch (const std::exception& e) {
        return failure(std::string("The reflection could not be switched: ") + e.what());
    }
}

EMSCRIPTEN_KEEPALIVE const char* es_agent_memory_remove(const char* memory_json, double id) {
    try {
        es::AgentMemory m;
        std::vector<std::string> skipped;
        std::string error;
        if (!memory_from_text(memory_json, &m, &skipped, &error)) return failure(error);
        if (!(id >= 1) || !m.remove(uint64_t(id))) return failure("There is no reflection with that id in the memory.");
        return memory_result(m);
    } catch (const std::exception& e) {
        return failure(std::string("The reflection could not be removed: ") + e.what());
    }
}

// The memory's share of a planning prompt (enabled entries, most recent first).
// -> {"ok":true,"text"}
EMSCRIPTEN_KEEPALIVE const char* es_agent_memory_prompt(const char* memory_json, int max_chars) {
    try {
        es::AgentMemory m;
        std::vector<std::string> skipped;
        std::string error;
        if (!memory_from_text(memory_json, &m, &skipped, &error)) return failure(error);
        return success({{"text", m.for_prompt(size_t(max_chars > 0 ? max_chars : 0))}});
    } catch (const std::exception& e) {
        return failure(std::string("The memory could not be read: ") + e.what());
    }
}

}  // extern "C"
