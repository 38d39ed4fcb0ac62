// messages.h: errors and notices shown to the user. Each has plain words for
// a clinician (what happened, what to do) and, apart, the technical details
// (shown behind a "Details" toggle, for whoever has to fix it). Errors stay
// until dismissed; notices leave the banner after a while; everything is also
// kept in the log in the side panel.
#pragma once
#include <string>
#include <vector>

namespace esui {

struct Message {
    enum Kind { Error, Notice } kind = Notice;
    std::string text;      // plain words: what happened, what to do
    bool dismissed = false;
    double shown_at = -1;  // seconds (ImGui time) when last shown; notices leave the banner after a while
    std::string details;   // technical detail (parser position, decoder reason, HTTP status); may be empty
    int count = 1;         // the same message again while it is shown counts here instead of stacking
    bool show_details = false;
    int banner = -1;       // its place among the banners drawn this frame (0 = top), -1 when not drawn;
                           // its controls are recorded as message_close_<index in Messages::all> etc.
};

struct Messages {
    std::vector<Message> all;
    static constexpr double kNoticeSeconds = 12.0;  // errors stay until dismissed
    static constexpr int kMaxBanners = 3;           // more are summed up as "+K more"
    void error(std::string text, std::string details = {}) { add(Message::Error, std::move(text), std::move(details)); }
    void notice(std::string text, std::string details = {}) { add(Message::Notice, std::move(text), std::move(details)); }

    void add(Message::Kind kind, std::string text, std::string details) {
        for (Message& m : all) {
            if (m.dismissed || m.kind != kind || m.text != text || m.details != details) continue;
            m.count++;
            m.shown_at = -1;  // a notice seen again starts its time again
            return;
        }
        Message m;
        m.kind = kind;
        m.text = std::move(text);
        m.details = std::move(details);
        all.push_back(std::move(m));
    }
    int visible() const {
        int n = 0;
        for (const Message& m : all) n += m.dismissed ? 0 : 1;
        return n;
    }
};

}  // namespace esui
