// input_queue.h: browser input events queued between frames and handed to
// ImGui 1.86 one button/key transition per frame, so a press and release that
// arrive within the same frame (a fast click, a synthetic key press) still
// register as a click. (ImGui 1.87+ does this itself.)
#pragma once
#include <deque>
#include <string>

namespace esui {

struct InputEvent {
    enum Type { MouseMove, MouseButton, Wheel, Key, Text, Modifiers } type = MouseMove;
    float x = 0, y = 0;        // MouseMove: position; Wheel: wheel x/y in ImGui units
    int code = 0;              // MouseButton: 0..4; Key: DOM keyCode
    bool down = false;         // MouseButton / Key
    bool ctrl = false, shift = false, alt = false, super = false;  // Modifiers
    std::string text;          // Text: UTF-8
};

class InputQueue {
public:
    void push(InputEvent e) { events_.push_back(std::move(e)); }
    // Applies events to ImGui's IO until one would make a second transition
    // of the same button or key in this frame.
    void apply_to_imgui();
    bool empty() const { return events_.empty(); }
private:
    std::deque<InputEvent> events_;
};

}  // namespace esui
