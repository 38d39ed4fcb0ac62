// assistant_ui.h: what the assistant panels (panel_models.cpp, panel_chat.cpp)
// show and edit. The assistant itself runs in JS (web/assistant/app_assistant.js):
// it pushes a JSON snapshot of its state through es_assistant_ui_state
// (assistant_exports.cpp) whenever something changes (each streamed token
// too), and the panels send user actions back with assistant_action(). The
// frame loop only reads the last snapshot: it never waits on inference.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

namespace esui {

class App;

struct AssistantUi {
    nlohmann::json state = nlohmann::json::object();  // last snapshot from JS
    bool connected = false;                          // JS side running

    // Panel-owned inputs.
    char question[1024] = "";
    char edit_text[1024] = "";
    int editing_turn = -1;
    char url[512] = "";
    char sam_url[512] = "";  // the Segment tool's SAM model (Models tab)
    char remote_address[256] = "";  // the inference server (Models tab, "Run on")
    char remote_token[600] = "";    // cleared as soon as it is handed to JS
    bool remote_address_loaded = false;
    int label_set = 0;
    bool scroll_to_bottom = false;
    size_t last_answer_chars = 0;
    std::string last_image_key;  // to tell JS when the image in view changes

    // Region drawing ("what is in this region?").
    bool region_mode = false;
    bool region_dragging = false;
    double region_x0 = 0, region_y0 = 0, region_x1 = 0, region_y1 = 0;  // image pixels
    bool region_ready = false;
};

AssistantUi& assistant_ui();

// Sends an action to the JS side: Module.assistant.action(name, args_json).
void assistant_action(const char* name, const nlohmann::json& args = nlohmann::json::object());

// Panels.
void draw_assistant(App& a);          // per frame (panel_assistant.cpp); draw_assistant_tab (app.h): Chat / Classify / Models
void draw_models_tab(App& a);         // panel_models.cpp
void draw_chat_tab(App& a);           // panel_chat.cpp
void draw_classify_tab(App& a);       // panel_classify.cpp
void draw_assistant_overlay(App& a);  // boxes and the region on the viewer (panel_chat.cpp)

// Helpers for panels.
std::string format_bytes(double n);

// Honest AI (panel_chat.cpp): everything a model produces is marked as an AI
// suggestion; the built-in random-weights test model is named as such
// wherever its output appears.
bool assistant_test_model(const nlohmann::json& state);      // the loaded package says "test_model": true
// Where a task (chat, classify, segment, draft) runs: web/remote/backend.js.
bool assistant_on_server(const nlohmann::json& state, const char* task);  // the user chose the server for it
bool assistant_ready_for(const nlohmann::json& state, const char* task);  // it can run where it is set to
std::string assistant_server_label(const nlohmann::json& state);           // "model on http://host:port"
void draw_test_model_warning(App& a, const char* widget);    // the prominent warning, recorded as `widget`
// from_server: the output came from an inference server, not the loaded (maybe test) model.
void draw_ai_label(App& a, const char* widget, bool from_server = false);  // "AI suggestion - not a diagnosis"

}  // namespace esui
