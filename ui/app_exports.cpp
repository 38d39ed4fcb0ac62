// app_exports.cpp: the functions web/loader.js calls (file picker, drag and
// drop, the demo case, and the read-only automation hook window.endoscribe).
#include <emscripten/emscripten.h>
#include <imgui.h>
#include <imgui_internal.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <string>

#include "annotation_ui.h"
#include "app.h"
#include "assistant_ui.h"
#include "case_ui.h"
#include "gpu_texture.h"

using esui::app;

namespace esui {
void paste_from_browser(const char* text);
}

extern "C" {

// Opens one file's bytes; returns the image index or -1 (an error naming the
// file is then shown). `select` shows it at once.
EMSCRIPTEN_KEEPALIVE int es_app_open_image(const char* name, const uint8_t* data, int size, int select) {
    return app().open_image(name ? name : "(unnamed)", data, size_t(size > 0 ? size : 0), select != 0);
}

// Errors and notices found on the JS side (web/messages.js) join the same list:
// kind "error" or "notice", plain words for the user, technical details behind
// the Details toggle.
EMSCRIPTEN_KEEPALIVE void es_app_report_message(const char* kind, const char* text, const char* details) {
    const bool notice = kind && std::string(kind) == "notice";
    if (notice) app().messages.notice(text ? text : "", details ? details : "");
    else app().messages.error(text ? text : "", details ? details : "");
    app().wake();
}

EMSCRIPTEN_KEEPALIVE void es_app_select_image(int index) { app().select(index); }

// Validates a case.json with the core (src/case/case.h) and makes it the current
// case. Returns JSON: {"ok": true, "title": ..., "files": [image paths]} or
// {"ok": false, "error": ...}; on error nothing changes and the error is shown.
EMSCRIPTEN_KEEPALIVE const char* es_app_open_case(const char* json_text, const char* source_name) {
    static std::string out;
    es::CaseParseResult r = es::case_from_json(json_text ? json_text : "");
    nlohmann::json j;
    if (!r.ok) {
        const std::string msg = std::string("\"") + (source_name ? source_name : "case.json") + "\" " + r.reason +
                                ", so it was not opened. Nothing else changed.";
        app().messages.error(msg, r.error);
        app().wake();
        j = {{"ok", false}, {"error", msg}, {"details", r.error}};
    } else {
        auto files = nlohmann::json::array();
        for (const auto& img : r.value.images) files.push_back(img.file);
        app().current_case = r.value;
        app().case_name = r.value.title.empty() ? r.value.id : r.value.title;
        app().wake();
        j = {{"ok", true}, {"title", app().case_name}, {"files", files}};
    }
    out = j.dump();
    return out.c_str();
}

// Closes every image and its annotations (a new or another case opens next);
// what was saved stays saved.
EMSCRIPTEN_KEEPALIVE void es_app_close_case() {
    esui::App& a = app();
    esui::AnnotationUi& ui = esui::annotation_ui();
    esui::segment_clear(ui);
    for (auto& [key, t] : ui.textures) esui::destroy_gpu_texture(t.texture);
    ui.textures.clear();
    ui.images.clear();
    ui.history.clear();
    ui.selected = 0;
    ui.polygon.clear();
    ui.dragging = false;
    ui.preview_active = false;
    a.images.clear();
    a.current = -1;
    a.current_case = es::Case();
    a.case_name.clear();
    a.auto_fit = true;
    a.wake();
}

// The Case menu's content (case_ui.h), from web/annotation/case_session.js:
// {"current": {"id", "name", "read_only"}, "cases": [{"id", "name", "images",
// "modified"}], "storage": "persistent" | "best-effort" | ""}.
EMSCRIPTEN_KEEPALIVE void es_app_set_cases(const char* json_text) {
    nlohmann::json j = nlohmann::json::parse(json_text ? json_text : "", nullptr, false);
    if (j.is_discarded() || !j.is_object()) return;
    esui::CaseUi& c = esui::case_ui();
    const nlohmann::json cur = j.value("current", nlohmann::json::object());
    c.current_id = cur.is_object() ? cur.value("id", "") : "";
    c.current_name = cur.is_object() ? cur.value("name", "") : "";
    c.read_only = cur.is_object() && cur.value("read_only", false);
    c.storage = j.value("storage", "");
    c.cases.clear();
    if (j.contains("cases") && j["cases"].is_array())
        for (const auto& e : j["cases"]) {
            if (!e.is_object()) continue;
            c.cases.push_back({e.value("id", ""), e.value("name", ""), e.value("images", 0), e.value("modified", "")});
        }
    app().case_name = c.current_name;
    app().wake();
}

// What a reload brings back besides the annotations: the current image (by
// name), zoom/offset and auto-fit, levels.
EMSCRIPTEN_KEEPALIVE const char* es_app_view_state() {
    static std::string out;
    const esui::App& a = app();
    const esui::ViewerImage* v = a.current_image();
    out = nlohmann::json{{"current", v ? v->name : std::string()}, {"scale", a.view.scale},
                         {"offset_x", a.view.offset_x}, {"offset_y", a.view.offset_y}, {"auto_fit", a.auto_fit},
                         {"levels", {{"brightness", a.levels.brightness}, {"contrast", a.levels.contrast},
                                     {"gamma", a.levels.gamma}}}}
              .dump();
    return out.c_str();
}

// Restores es_app_view_state()'s form; unknown or bad parts are skipped.
EMSCRIPTEN_KEEPALIVE void es_app_set_view_state(const char* json_text) {
    nlohmann::json j = nlohmann::json::parse(json_text ? json_text : "", nullptr, false);
    if (j.is_discarded() || !j.is_object()) return;
    esui::App& a = app();
    const std::string current = j.value("current", "");
    for (size_t i = 0; i < a.images.size(); ++i)
        if (a.images[i]->name == current) a.select(int(i));
    if (j.contains("levels") && j["levels"].is_object()) {
        const auto& l = j["levels"];
        a.levels.brightness = std::clamp(l.value("brightness", 0.0f), es::Levels::kMinBrightness, es::Levels::kMaxBrightness);
        a.levels.contrast = std::clamp(l.value("contrast", 1.0f), es::Levels::kMinContrast, es::Levels::kMaxContrast);
        a.levels.gamma = std::clamp(l.value("gamma", 1.0f), es::Levels::kMinGamma, es::Levels::kMaxGamma);
    }
    const double scale = j.value("scale", 0.0);
    if (!j.value("auto_fit", true) && std::isfinite(scale) && scale >= esui::ViewTransform::kMinScale &&
        scale <= esui::ViewTransform::kMaxScale) {
        a.view.scale = scale;
        a.view.offset_x = j.value("offset_x", 0.0);
        a.view.offset_y = j.value("offset_y", 0.0);
        a.auto_fit = false;
    }
    a.wake();
}

// A browser paste event's text: pasted into the ImGui field being edited.
EMSCRIPTEN_KEEPALIVE void es_app_paste(const char* text) { esui::paste_from_browser(text); }

// Testing aid (?max_texture=N): treat N as the GPU's texture limit.
EMSCRIPTEN_KEEPALIVE void es_app_set_texture_limit_override(int n) { app().texture_limit_override = n; }

// The viewer's state as JSON (documented in web/loader.js, window.endoscribe).
EMSCRIPTEN_KEEPALIVE const char* es_app_state_json() {
    static std::string out;
    const esui::App& a = app();
    nlohmann::json j;
    j["frame"] = a.frame_count;
    j["case"] = a.case_name;
    j["canvas"] = {{"css_width", a.css_width}, {"css_height", a.css_height}, {"dpr", a.dpr},
                   {"width", a.fb_width}, {"height", a.fb_height}};
    j["viewer_rect"] = {a.viewer_rect.x, a.viewer_rect.y, a.viewer_rect.w, a.viewer_rect.h};
    j["view"] = {{"scale", a.view.scale}, {"offset_x", a.view.offset_x}, {"offset_y", a.view.offset_y},
                 {"auto_fit", a.auto_fit}};
    j["levels"] = {{"brightness", a.levels.brightness}, {"contrast", a.levels.contrast}, {"gamma", a.levels.gamma}};
    j["max_texture_dimension"] = a.max_texture_dimension;
    j["current"] = a.current;
    auto images = nlohmann::json::array();
    for (const auto& img : a.images) {
        images.push_back({{"name", img->name}, {"format", img->format}, {"width", img->pixels.width},
                          {"height", img->pixels.height}, {"texture_width", img->texture->width},
                          {"texture_height", img->texture->height}, {"downscaled", img->downscaled}});
    }
    j["images"] = images;
    auto errors = nlohmann::json::array(), notices = nlohmann::json::array();
    for (const auto& m : a.messages.all) (m.kind == esui::Message::Error ? errors : notices).push_back(m.text);
    j["errors"] = errors;
    j["notices"] = notices;
    // Every message with its details, newest last (the banners show the undismissed ones).
    auto messages = nlohmann::json::array();
    for (const auto& m : a.messages.all)
        messages.push_back({{"kind", m.kind == esui::Message::Error ? "error" : "notice"}, {"text", m.text},
                            {"details", m.details}, {"count", m.count}, {"dismissed", m.dismissed},
                            {"details_shown", m.show_details}, {"banner", m.banner}});
    j["messages"] = messages;
    // What the assistant panels mark its output as: the loaded package a random-weights test model?
    const nlohmann::json& as = esui::assistant_ui().state;
    j["assistant"] = {{"test_model", esui::assistant_test_model(as)},
                      {"model", as.contains("model") && as["model"].is_object() ? as["model"].value("name", "") : ""}};
    j["cursor"] = a.cursor.valid ? nlohmann::json{{"x", a.cursor.x}, {"y", a.cursor.y}, {"r", a.cursor.r},
                                                  {"g", a.cursor.g}, {"b", a.cursor.b}, {"a", a.cursor.a}}
                                 : nlohmann::json(nullptr);
    auto widgets = nlohmann::json::object();
    for (const auto& [name, r] : a.widgets) widgets[name] = {r.x, r.y, r.w, r.h};
    j["widgets"] = widgets;
    // Visible ImGui windows (panels, banners, floating tools), so tests can
    // aim at parts of the viewer nothing covers.
    auto windows = nlohmann::json::array();
    if (ImGuiContext* g = ImGui::GetCurrentContext()) {
        for (ImGuiWindow* w : g->Windows) {
            if (!w->Active || w->Hidden || (w->Flags & ImGuiWindowFlags_ChildWindow)) continue;
            windows.push_back({{"name", w->Name}, {"rect", {w->Pos.x, w->Pos.y, w->Size.x, w->Size.y}}});
        }
    }
    j["windows"] = windows;
    out = j.dump();
    return out.c_str();
}

}  // extern "C"
