// input_queue.cpp: see input_queue.h.
#include "input_queue.h"

#include <imgui.h>
#include <set>

namespace esui {

void InputQueue::apply_to_imgui() {
    ImGuiIO& io = ImGui::GetIO();
    std::set<int> changed_buttons, changed_keys;
    while (!events_.empty()) {
        const InputEvent& e = events_.front();
        switch (e.type) {
        case InputEvent::MouseMove:
            // Moving after a button changed this frame would hide where it was pressed.
            if (!changed_buttons.empty()) return;
            io.MousePos = ImVec2(e.x, e.y);
            break;
        case InputEvent::MouseButton:
            if (e.code < 0 || e.code >= 5) break;
            if (changed_buttons.count(e.code)) return;
            changed_buttons.insert(e.code);
            io.MouseDown[e.code] = e.down;
            break;
        case InputEvent::Wheel:
            io.MouseWheelH += e.x;
            io.MouseWheel += e.y;
            break;
        case InputEvent::Key:
            if (e.code < 0 || e.code >= 512) break;
            if (changed_keys.count(e.code)) return;
            changed_keys.insert(e.code);
            io.KeysDown[e.code] = e.down;
            break;
        case InputEvent::Text:
            io.AddInputCharactersUTF8(e.text.c_str());
            break;
        case InputEvent::Modifiers:
            io.KeyCtrl = e.ctrl;
            io.KeyShift = e.shift;
            io.KeyAlt = e.alt;
            io.KeySuper = e.super;
            break;
        }
        events_.pop_front();
    }
}

}  // namespace esui
