// platform_html5.cpp: browser input -> the app. Mouse and keyboard go to
// ImGui through the input queue; wheel and drag over the image go straight to
// the view transform with the event's exact position, so zoom keeps the point
// under the cursor fixed and pan follows the pointer pixel for pixel.
#include <emscripten/emscripten.h>
#include <emscripten/html5.h>
#include <imgui.h>

#include <cmath>
#include <cstring>
#include <string>

#include "app.h"

namespace esui {

static InputEvent g_modifiers;  // the last modifier state the browser reported

static void push_modifiers(bool ctrl, bool shift, bool alt, bool meta) {
    InputEvent& e = g_modifiers;
    e.type = InputEvent::Modifiers;
    e.ctrl = ctrl;
    e.shift = shift;
    e.alt = alt;
    e.super = meta;
    app().input.push(e);
}

// Ctrl+V reaches ImGui only through the browser's paste event (see
// paste_from_browser), so the text is always there before ImGui asks for it.
static bool is_paste_key(const EmscriptenKeyboardEvent* k) {
    return (k->ctrlKey || k->metaKey) && k->keyCode == 86;
}

static EM_BOOL on_mouse(int type, const EmscriptenMouseEvent* m, void*) {
    App& a = app();
    const float x = float(m->clientX), y = float(m->clientY);  // the canvas fills the window at (0, 0)
    push_modifiers(m->ctrlKey, m->shiftKey, m->altKey, m->metaKey);
    if (type == EMSCRIPTEN_EVENT_MOUSEMOVE) {
        if (a.panning) {
            a.on_viewer_drag(x - a.pan_last_x, y - a.pan_last_y);
            a.pan_last_x = x;
            a.pan_last_y = y;
        }
        InputEvent e;
        e.type = InputEvent::MouseMove;
        e.x = x;
        e.y = y;
        a.input.push(e);
        return EM_FALSE;
    }
    // DOM buttons: 0 left, 1 middle, 2 right; ImGui: 0 left, 1 right, 2 middle.
    const int button = m->button == 1 ? 2 : m->button == 2 ? 1 : m->button;
    const bool down = type == EMSCRIPTEN_EVENT_MOUSEDOWN;
    // The middle button always pans; the left one unless an annotation tool draws with it.
    if (down && ((button == 0 && !a.left_drag_annotates) || button == 2) && a.viewer_hit(x, y) && a.current_image()) {
        a.panning = true;
        a.pan_last_x = x;
        a.pan_last_y = y;
    }
    if (!down) a.panning = false;
    InputEvent mv;
    mv.type = InputEvent::MouseMove;
    mv.x = x;
    mv.y = y;
    a.input.push(mv);
    InputEvent e;
    e.type = InputEvent::MouseButton;
    e.code = button;
    e.down = down;
    a.input.push(e);
    return EM_FALSE;
}

static EM_BOOL on_wheel(int, const EmscriptenWheelEvent* w, void*) {
    App& a = app();
    const float x = float(w->mouse.clientX), y = float(w->mouse.clientY);
    double scale = 1.0;  // to pixels
    if (w->deltaMode == DOM_DELTA_LINE) scale = 40.0;
    else if (w->deltaMode == DOM_DELTA_PAGE) scale = 800.0;
    const double dy = w->deltaY * scale, dx = w->deltaX * scale;
    if (a.viewer_hit(x, y) && a.current_image()) {
        // A mouse notch is ~100 px: x1.25. A touchpad pinch arrives as
        // ctrl+wheel with small deltas and should feel continuous.
        const double per_px = w->mouse.ctrlKey ? 0.01 : 0.0022314;  // ln(1.25)/100
        a.on_viewer_wheel(std::exp(-dy * per_px), x, y);
        if (dx != 0 && !w->mouse.ctrlKey) a.on_viewer_drag(float(-dx), 0);
    } else {
        InputEvent e;
        e.type = InputEvent::Wheel;
        e.x = float(-dx / 100.0);
        e.y = float(-dy / 100.0);
        a.input.push(e);
    }
    return EM_TRUE;  // no page scroll and no browser zoom on ctrl+wheel
}

static EM_BOOL on_key(int type, const EmscriptenKeyboardEvent* k, void*) {
    App& a = app();
    const bool down = type == EMSCRIPTEN_EVENT_KEYDOWN;
    push_modifiers(k->ctrlKey, k->shiftKey, k->altKey, k->metaKey);
    if (is_paste_key(k)) return EM_FALSE;  // let the paste event fire
    InputEvent e;
    e.type = InputEvent::Key;
    e.code = int(k->keyCode);
    e.down = down;
    a.input.push(e);
    // Printable characters: `key` is the character itself (one code point).
    const size_t len = std::strlen(k->key);
    const unsigned char c0 = static_cast<unsigned char>(k->key[0]);
    const size_t cp_len = c0 < 0x80 ? 1 : (c0 >> 5) == 6 ? 2 : (c0 >> 4) == 14 ? 3 : (c0 >> 3) == 30 ? 4 : 0;
    // Ctrl+Alt is AltGr on many keyboards (e.g. '@' on a German layout): still text.
    const bool shortcut = (k->ctrlKey && !k->altKey) || k->metaKey;
    const bool printable = down && len > 0 && len == cp_len && !shortcut;
    if (printable) {
        InputEvent t;
        t.type = InputEvent::Text;
        t.text = k->key;
        a.input.push(t);
    }
    // Let the browser keep its own shortcuts (reload, devtools) unless ImGui is
    // editing text; always keep Tab and Backspace inside the app.
    const ImGuiIO& io = ImGui::GetIO();
    // Ctrl/Cmd + C, X, V must reach the browser so its copy/paste events fire.
    if ((k->ctrlKey || k->metaKey) && (k->keyCode == 67 || k->keyCode == 86 || k->keyCode == 88)) return EM_FALSE;
    if (k->keyCode == 9 || k->keyCode == 8) return EM_TRUE;
    if (io.WantTextInput) return EM_TRUE;
    return EM_FALSE;
}

static EM_BOOL on_blur(int, const EmscriptenFocusEvent*, void*) {
    // Keys released while the window had no focus never arrive: release all.
    ImGuiIO& io = ImGui::GetIO();
    for (bool& k : io.KeysDown) k = false;
    app().panning = false;
    return EM_FALSE;
}

// Clipboard: ImGui reads what the browser's last paste event carried, and
// writes through navigator.clipboard.
static std::string g_clipboard;

static const char* get_clipboard(void*) { return g_clipboard.c_str(); }

static void set_clipboard(void*, const char* text) {
    g_clipboard = text ? text : "";
    EM_ASM({ if (navigator.clipboard) navigator.clipboard.writeText(UTF8ToString($0)).catch(function () {}); }, g_clipboard.c_str());
}

// A browser paste event: store its text and replay Ctrl+V for ImGui.
void paste_from_browser(const char* text) {
    g_clipboard = text ? text : "";
    App& a = app();
    InputEvent ctrl = g_modifiers;
    ctrl.type = InputEvent::Modifiers;
    ctrl.ctrl = true;
    ctrl.super = false;
    a.input.push(ctrl);
    InputEvent v;
    v.type = InputEvent::Key;
    v.code = 86;
    v.down = true;
    a.input.push(v);
    v.down = false;
    a.input.push(v);
    InputEvent restore = g_modifiers;
    restore.type = InputEvent::Modifiers;
    a.input.push(restore);
    a.wake();
}

void install_html5_input() {
    ImGuiIO& io = ImGui::GetIO();
    io.GetClipboardTextFn = get_clipboard;
    io.SetClipboardTextFn = set_clipboard;
    emscripten_set_mousedown_callback("#canvas", nullptr, EM_TRUE, on_mouse);
    emscripten_set_mouseup_callback(EMSCRIPTEN_EVENT_TARGET_DOCUMENT, nullptr, EM_TRUE, on_mouse);
    emscripten_set_mousemove_callback(EMSCRIPTEN_EVENT_TARGET_DOCUMENT, nullptr, EM_TRUE, on_mouse);
    emscripten_set_wheel_callback("#canvas", nullptr, EM_TRUE, on_wheel);
    emscripten_set_keydown_callback(EMSCRIPTEN_EVENT_TARGET_WINDOW, nullptr, EM_TRUE, on_key);
    emscripten_set_keyup_callback(EMSCRIPTEN_EVENT_TARGET_WINDOW, nullptr, EM_TRUE, on_key);
    emscripten_set_blur_callback(EMSCRIPTEN_EVENT_TARGET_WINDOW, nullptr, EM_TRUE, on_blur);
}

void js_open_file_picker() {
    EM_ASM({ if (Module.openFilePicker) Module.openFilePicker(); });
}

void js_set_cursor(const char* css_cursor) {
    static std::string last;
    if (last == css_cursor) return;
    last = css_cursor;
    EM_ASM({ if (Module.setCursor) Module.setCursor(UTF8ToString($0)); }, css_cursor);
}

}  // namespace esui
