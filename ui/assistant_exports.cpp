// assistant_exports.cpp: the functions web/assistant/app_assistant.js calls
// (state snapshots, the image in view), and the way back (actions).
#include <emscripten/emscripten.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

#include "app.h"
#include "assistant_ui.h"
#include "compare_ui.h"

namespace esui {

AssistantUi& assistant_ui() {
    static AssistantUi ui;
    return ui;
}

void assistant_action(const char* name, const nlohmann::json& args) {
    const std::string a = args.dump();
    EM_ASM({
        if (Module.assistant && Module.assistant.action) Module.assistant.action(UTF8ToString($0), UTF8ToString($1));
    }, name, a.c_str());
}

std::string format_bytes(double n) {
    char buf[64];
    if (n >= 1024.0 * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.2f GiB", n / (1024.0 * 1024 * 1024));
    else if (n >= 1024.0 * 1024) std::snprintf(buf, sizeof buf, "%.1f MiB", n / (1024.0 * 1024));
    else if (n >= 1024.0) std::snprintf(buf, sizeof buf, "%.1f KiB", n / 1024.0);
    else std::snprintf(buf, sizeof buf, "%.0f B", n);
    return buf;
}

}  // namespace esui

extern "C" {

// A new snapshot of the assistant's state (JSON, see app_assistant.js `S`).
EMSCRIPTEN_KEEPALIVE void es_assistant_ui_state(const char* json) {
    auto j = nlohmann::json::parse(json ? json : "", nullptr, false);
    if (j.is_discarded() || !j.is_object()) return;
    esui::AssistantUi& ui = esui::assistant_ui();
    ui.state = std::move(j);
    ui.connected = true;
    esui::compare_ui().observe_assistant(esui::app(), ui.state);  // the Compare tab keeps each image's model outputs
    esui::app().redraw();
}

// The image in view, for the model: JSON {key, name, width, height, rgba}
// (rgba: heap address of width*height*4 bytes, valid until the image is
// closed) or null. key = "<case>|<name>|<w>x<h>" names its saved conversation.
EMSCRIPTEN_KEEPALIVE const char* es_assistant_current_image() {
    static std::string out;
    const esui::App& a = esui::app();
    const esui::ViewerImage* img = a.current_image();
    if (!img) {
        out = "null";
        return out.c_str();
    }
    nlohmann::json j;
    j["key"] = a.case_name + "|" + img->name + "|" + std::to_string(img->pixels.width) + "x" +
               std::to_string(img->pixels.height);
    j["name"] = img->name;
    j["width"] = img->pixels.width;
    j["height"] = img->pixels.height;
    j["rgba"] = reinterpret_cast<uintptr_t>(img->pixels.rgba.data());
    out = j.dump();
    return out.c_str();
}

}  // extern "C"
