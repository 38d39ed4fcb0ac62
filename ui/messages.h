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
};

struct Messages {
    std::vector<Message> all;
    void error(std::string text) { all.push_back({Message::Error, std::move(text), false}); }
    void notice(std::string text) { all.push_back({Message::Notice, std::move(text), false}); }
};

}  // namespace esui
