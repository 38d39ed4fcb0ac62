// compare_exports.cpp: es_compare_* for web/annotation/app_annotation.js (the
// Compare tab's import of annotator B), the case session (saving and restoring
// the tab's work with the case) and tests (the figures as shown).
#include <emscripten/emscripten.h>
#include <nlohmann/json.hpp>

#include <string>

#include "app.h"
#include "compare_ui.h"

using esui::app;
using esui::compare_ui;

namespace {
std::string g_out;
const char* out(std::string s) {
    g_out = std::move(s);
    return g_out.c_str();
}
}  // namespace

extern "C" {

// Annotator B's version of the open case from a file's text (COCO export, case
// bundle or annotation document); 1, or 0 with a message shown and
// es_compare_last_error() (nothing changes).
EMSCRIPTEN_KEEPALIVE int es_compare_import_second(const char* text, const char* file_name) {
    return compare_ui().import_second(app(), text ? text : "", file_name ? file_name : "") ? 1 : 0;
}

EMSCRIPTEN_KEEPALIVE const char* es_compare_last_error() { return compare_ui().last_error.c_str(); }

// The Compare tab's work to save with the case (src/case/compare_work.h):
// the model outputs seen and annotator B.
EMSCRIPTEN_KEEPALIVE const char* es_compare_work() { return out(compare_ui().work_json()); }

// Restores saved work (the case session, after the case's images and
// annotations); 1, or 0 with es_compare_last_error() (nothing changes).
EMSCRIPTEN_KEEPALIVE int es_compare_load_work(const char* text) {
    const int ok = compare_ui().load_work(text ? text : "") ? 1 : 0;
    app().redraw();
    return ok;
}

// Another case opens: the work belonged to the one before.
EMSCRIPTEN_KEEPALIVE void es_compare_clear() { compare_ui().clear_work(); }

// The figures (the JSON the export downloads), recomputed now, plus "shown":
// the figure lines as the tab drew them in its last frame.
EMSCRIPTEN_KEEPALIVE const char* es_compare_state() {
    esui::CompareUi& ui = compare_ui();
    ui.refresh(app());
    nlohmann::json j = ui.figures(app());
    j["shown"] = ui.shown;
    j["selected"] = ui.selected;
    j["outlines"] = {{"image", ui.outline_image}, {"a", ui.outline_a.size()}, {"b", ui.outline_b.size()}};
    return out(j.dump());
}

}  // extern "C"
