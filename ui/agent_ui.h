// agent_ui.h: the Agent tab (issue 14): the case agent's trace as it runs,
// the clinician's corrections, and acceptance of its outputs. The agent runs
// in JS (web/agent/app_agent.js over the core's loop, src/agent/): it pushes
// its whole state here after every change (es_agent_ui_set_state,
// agent_exports.cpp); the panel only reads it, so the frame loop never waits
// on a model or a tool. User actions go back with agent_action() to
// Module.agent.action(name, args_json).
//
// Accepting a step's output is done here, because C++ owns the annotations
// and the report: boxes and masks become annotations (one undoable step),
// text and drafted fields become AI values in the report (unaccepted, marked
// with the model, like Draft with AI); JS is then told `accepted`.
//
// Files: panel_agent.cpp (the tab), agent_step_view.cpp (a step's arguments
// and output in readable form, its boxes and masks on the viewer),
// agent_accept.cpp (into annotations / the report), agent_exports.cpp
// (es_agent_ui_* and the way back to JS).
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "json_read.h"
#include "mask/mask.h"

namespace esui {

class App;


// A step's masks decoded from COCO RLE (cached until the next state).
struct AgentStepMasks {
    std::vector<es::Mask> masks;  // one per output mask that could be read
    std::vector<uint64_t> areas;  // pixels, per output mask (0 for an unreadable one)
    std::vector<std::string> problems;  // plain words, one per mask that could not be read
};

struct AgentUi {
    // The last state from JS (Contract D in /work/notes/agent_contract.md and
    // web/agent/README.md): {running, backend, model, test_model, mode,
    // question, seed, max_rounds, reflect, use_memory, request, error,
    // action_result, header, steps, memory, saved, traces}.
    nlohmann::json state = nlohmann::json::object();
    bool have_state = false;
    std::string state_error;  // the last state could not be read (plain words); the previous one is kept
    std::string state_error_details;
    unsigned state_version = 0;  // counts accepted states (caches follow it)

    // The form (the next run's settings); follows the state when JS reports other settings (a trace opened).
    std::string question;
    std::string mode = "protocol";  // "planned" | "protocol"
    int max_rounds = 3;
    bool reflect = true;
    bool use_memory = true;
    std::string seed = "1";
    std::string last_settings;  // the state's settings last copied into the form

    // The trace.
    int selected = -1;  // step whose boxes and masks are drawn on the viewer (-1: none)
    std::map<int, bool> open;     // steps expanded (index -> open)
    std::map<int, bool> raw;      // steps showing raw JSON
    int rejecting = -1;           // step whose reject note is being written
    std::string reject_note;
    int editing = -1;             // step whose output is being edited
    std::string edit_text;        // JSON text (or the plain text of a text output)
    bool edit_plain_text = false; // edit_text is the text of {"text": ...}
    std::string edit_note;
    std::string edit_local_error; // not JSON: said before anything is sent
    bool edit_sent = false;       // waiting for JS's answer to the edit
    int edit_action_id = 0;       // the action_id the edit was sent with
    std::string last_result;      // the last action_result seen (a repeated one is not a new answer)
    std::map<int, int> report_target;  // step -> index into the text targets (impression, finding notes)

    // Memory editing: entry id -> the text being edited.
    std::map<uint64_t, std::string> memory_edits;
    std::string memory_new;
    uint64_t memory_removing = 0;  // asked to confirm

    // Decoded masks per step (cleared with every new state).
    std::map<int, AgentStepMasks> masks;
    unsigned masks_version = 0;

    // What the viewer showed for the selected step this frame (for tests).
    int drawn_boxes = 0, drawn_masks = 0;
    std::string overlay_note;  // why nothing is drawn ("" when drawn or nothing selected)

    // Actions sent to JS, newest last (kept short; for tests and the log).
    // Every action's args carry "action_id"; JS echoes it in action_result.
    std::vector<nlohmann::json> sent;
    int next_action_id = 1;
};

AgentUi& agent_ui();

// The side panel's Agent tab (panel_agent.cpp).
void draw_agent_tab(App& a);

// Sends an action to JS: Module.agent.action(name, args_json). False when
// Module.agent is absent (an app built without the agent's JS).
// Returns the action_id given to it (added to args), 0 when not delivered.
int agent_action(const char* name, nlohmann::json args = nlohmann::json::object());
bool agent_available();  // Module.agent.action exists

// agent_step_view.cpp
const nlohmann::json& agent_steps(const AgentUi& ui);
const nlohmann::json* agent_step(const AgentUi& ui, int index);
// The output the loop uses (null while running or when rejected).
const nlohmann::json& agent_step_output(const nlohmann::json& step);
// The trace's image key ("case|name|WxH") and its image name.
std::string agent_trace_image_key(const AgentUi& ui);
std::string agent_image_name_of_key(const std::string& key);
int agent_trace_image_index(const App& a, const AgentUi& ui);  // the open image the trace is about, -1 when not open
// The key App images are known by to the assistant and the agent.
std::string agent_image_key(const App& a, int image_index);
const AgentStepMasks& agent_step_masks(AgentUi& ui, int index, int width, int height);
// A box [x1, y1, x2, y2] from JSON (array of 4 numbers); false when it is not one.
bool agent_box(const nlohmann::json& j, double out[4]);
std::string agent_step_summary(const nlohmann::json& step);  // one line: "polyps 61%", "2 boxes", ...
void draw_step_arguments(App& a, AgentUi& ui, const nlohmann::json& step);
void draw_step_output(App& a, AgentUi& ui, const nlohmann::json& step);
void draw_agent_overlay(App& a, AgentUi& ui);  // the selected step on the viewer

// agent_accept.cpp
// What a step's output can become: boxes/masks -> annotations, text/fields -> report.
int agent_annotation_candidates(App& a, AgentUi& ui, int step, int* already);  // not yet annotations
std::string agent_step_label(App& a, const AgentUi& ui, int step, bool* matched);  // label id for its annotations
bool agent_accept_annotations(App& a, AgentUi& ui, int step);
bool agent_step_has_report_text(const nlohmann::json& step);    // describe_image / describe_region / compare_images
bool agent_step_has_report_fields(const nlohmann::json& step);  // fill_report_fields
int agent_report_field_candidates(App& a, AgentUi& ui, int step);  // its values for fields that are still empty
std::vector<std::pair<std::string, std::string>> agent_report_text_targets(App& a);  // {key, shown}
bool agent_accept_report(App& a, AgentUi& ui, int step, const std::string& target);

}  // namespace esui
