// messages.h: errors and notices shown to the user. Errors stay until
// dismissed; everything is also kept in the log in the side panel.
#pragma once
#include <string>
#include <vector>

namespace esui {

struct Message {
    enum Kind { Error, Notice } kind = Notice;
    std::string text;
    bool dismissed = false;
    double shown_at = -1;  // seconds (ImGui time) when first shown; notices leave the banner after a while
};

struct Messages {
    std::vector<Message> all;
    static constexpr double kNoticeSeconds = 12.0;  // errors stay until dismissed
    void error(std::string text) { all.push_back({Message::Error, std::move(text), false, -1}); }
    void notice(std::string text) { all.push_back({Message::Notice, std::move(text), false, -1}); }
};

}  // namespace esui
