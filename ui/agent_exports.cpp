// agent_exports.cpp: the functions web/agent/app_agent.js calls to show the
// case agent in the Agent tab (es_agent_ui_*), and the way back to JS
// (agent_action -> Module.agent.action(name, args_json)). The state is read
// defensively: text that is not a JSON object leaves the previous state in
// place and puts one error line at the top of the tab; fields of the wrong
// type read as empty (jstr, jarr, ...), so nothing JS sends can crash the app.
#include <emscripten/emscripten.h>
#include <nlohmann/json.hpp>

#include <string>

#include "agent_ui.h"
#include "app.h"

namespace esui {

using nlohmann::json;

AgentUi& agent_ui() {
    static AgentUi ui;
    return ui;
}

bool agent_available() {
    return EM_ASM_INT({ return (Module.agent && typeof Module.agent.action === 'function') ? 1 : 0; }) != 0;
}

int agent_action(const char* name, json args) {
    AgentUi& ui = agent_ui();
    const int id = ui.next_action_id++;
    if (!args.is_object()) args = json::object();
    args["action_id"] = id;
    json sent = {{"name", name}, {"args", args}, {"delivered", false}};
    const std::string s = jdump(args);
    const bool delivered = EM_ASM_INT({
        if (!(Module.agent && typeof Module.agent.action === 'function')) return 0;
        Module.agent.action(UTF8ToString($0), UTF8ToString($1));
        return 1;
    }, name, s.c_str()) != 0;
    sent["delivered"] = delivered;
    ui.sent.push_back(std::move(sent));
    if (ui.sent.size() > 40) ui.sent.erase(ui.sent.begin());
    if (!delivered)
        app().messages.error("The agent is not available in this app: its part in the browser did not start.",
                             std::string("Module.agent is missing; action ") + name + " was not sent.");
    app().wake();
    return delivered ? id : 0;
}

}  // namespace esui

namespace {

using nlohmann::json;
using esui::agent_ui;

const char* out(const std::string& s) {
    static std::string keep;
    keep = s;
    return keep.c_str();
}

// The run settings the state reports, as one comparable text.
std::string settings_of(const json& s) {
    const json& h = esui::jfield(s, "header");
    json k = {{"question", esui::jstr(s, "question", esui::jstr(h, "question"))},
              {"mode", esui::jstr(s, "mode", esui::jstr(h, "mode"))},
              {"seed", esui::jfield(s, "seed").is_null() ? esui::jfield(h, "seed") : esui::jfield(s, "seed")},
              {"max_rounds", esui::jint(s, "max_rounds", esui::jint(h, "max_rounds", 0))},
              {"reflect", esui::jfield(s, "reflect")},
              {"use_memory", esui::jfield(s, "use_memory")}};
    return esui::jdump(k);
}

std::string seed_text(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
    if (v.is_number_integer() && v.get<int64_t>() >= 0) return std::to_string(v.get<int64_t>());
    return "";
}

}  // namespace

extern "C" {

// The agent's state, after every change (web/agent/app_agent.js):
// {running, backend, model, test_model, mode, question, seed, max_rounds,
//  reflect, use_memory, request: {kind, step, tool} | null, error,
//  action_result: {action_id, name, step, ok, error} (the answer to the last
//  action that can be refused, e.g. an edit whose output does not match the
//  tool's schema), header: {question, image, model, mode, seed, max_rounds,
//  answer}, steps: [...], memory: [...], saved, traces: [...]}.
// Text that is not a JSON object is refused with one line in the Agent tab;
// the previous state stays.
EMSCRIPTEN_KEEPALIVE void es_agent_ui_set_state(const char* state_json) {
    esui::AgentUi& ui = agent_ui();
    json j = json::parse(state_json ? state_json : "", nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        ui.state_error = "The agent sent a state the panel cannot read; the trace shown may be out of date.";
        ui.state_error_details = j.is_discarded() ? "es_agent_ui_set_state: not JSON" : "es_agent_ui_set_state: not a JSON object";
        esui::app().wake();
        return;
    }
    ui.state_error.clear();
    ui.state_error_details.clear();
    // Other settings than last time (a saved trace was opened, a run started
    // elsewhere): the form shows them, so what Run would do is what is shown.
    const std::string settings = settings_of(j);
    if (settings != ui.last_settings) {
        ui.last_settings = settings;
        const json& h = esui::jfield(j, "header");
        const std::string q = esui::jstr(j, "question", esui::jstr(h, "question"));
        if (!q.empty()) ui.question = q;
        const std::string mode = esui::jstr(j, "mode", esui::jstr(h, "mode"));
        if (mode == "planned" || mode == "protocol") ui.mode = mode;
        const int rounds = esui::jint(j, "max_rounds", esui::jint(h, "max_rounds", 0));
        if (rounds >= 1 && rounds <= 8) ui.max_rounds = rounds;
        if (esui::jfield(j, "reflect").is_boolean()) ui.reflect = esui::jbool(j, "reflect");
        if (esui::jfield(j, "use_memory").is_boolean()) ui.use_memory = esui::jbool(j, "use_memory");
        const std::string seed = seed_text(esui::jfield(j, "seed").is_null() ? esui::jfield(h, "seed") : esui::jfield(j, "seed"));
        if (!seed.empty()) ui.seed = seed;
    }
    // The answer to an edit: accepted closes the editor; refused keeps it open with the reason.
    const json& result = esui::jfield(j, "action_result");
    const std::string result_text = esui::jdump(result);
    const bool new_result = result_text != ui.last_result;
    ui.last_result = result_text;
    const bool answers_edit = result.is_object() && esui::jstr(result, "name") == "edit" &&
                              (esui::jfield(result, "action_id").is_number()
                                   ? esui::jint(result, "action_id") == ui.edit_action_id
                                   : new_result && esui::jint(result, "step", -1) == ui.editing);
    if (ui.edit_sent && answers_edit) {
        ui.edit_sent = false;
        if (esui::jbool(result, "ok")) ui.editing = -1;
    }
    ui.state = std::move(j);
    ui.have_state = true;
    ui.state_version++;
    ui.masks.clear();
    const int steps = int(esui::agent_steps(ui).size());
    if (ui.selected >= steps) ui.selected = -1;
    if (ui.editing >= steps) ui.editing = -1;
    if (ui.rejecting >= steps) ui.rejecting = -1;
    if (ui.editing >= 0) {
        const esui::AgentUi& cu = ui;
        if (const json* st = esui::agent_step(cu, ui.editing))
            if (esui::jstr(*st, "status") == "edited" && !ui.edit_sent) ui.editing = -1;
    }
    esui::app().wake();
}

// For tests: what the panel holds and shows: {have_state, state_error,
// available, selected, editing, rejecting, form, drawn: {boxes, masks, note},
// sent: [{name, args, delivered}], steps, answer, state}.
EMSCRIPTEN_KEEPALIVE const char* es_agent_ui_state() {
    const esui::AgentUi& ui = agent_ui();
    json j;
    j["have_state"] = ui.have_state;
    j["state_error"] = ui.state_error;
    j["available"] = esui::agent_available();
    j["selected"] = ui.selected;
    j["editing"] = ui.editing;
    j["edit_error"] = ui.edit_local_error;
    j["rejecting"] = ui.rejecting;
    json open = json::array();
    for (const auto& [k, v] : ui.open)
        if (v) open.push_back(k);
    j["open"] = open;
    j["form"] = {{"question", ui.question}, {"mode", ui.mode}, {"max_rounds", ui.max_rounds},
                 {"reflect", ui.reflect}, {"use_memory", ui.use_memory}, {"seed", ui.seed}};
    j["drawn"] = {{"boxes", ui.drawn_boxes}, {"masks", ui.drawn_masks}, {"note", ui.overlay_note}};
    j["sent"] = ui.sent;
    j["steps"] = esui::agent_steps(ui).size();
    j["answer"] = esui::jstr(esui::jfield(ui.state, "header"), "answer");
    j["state"] = ui.state;
    return out(esui::jdump(j));
}

}  // extern "C"
