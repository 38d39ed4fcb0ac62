// case_ui.h: what the Case menu (panel_case.cpp) shows. The cases themselves
// live in the browser (web/annotation/case_session.js keeps them in
// IndexedDB); JS sends the list and the current case with es_app_set_cases
// after every change, and the menu's actions go back to JS (Module.cases).
#pragma once
#include <string>
#include <vector>

namespace esui {

class App;

struct CaseEntry {
    std::string id;
    std::string name;
    int images = 0;
    std::string modified;  // as JS formats it for the user
};

struct CaseUi {
    std::string current_id;      // "" before JS has sent the list
    std::string current_name;
    bool read_only = false;      // the demo case: never written over
    std::vector<CaseEntry> cases;  // saved cases, most recently changed first
    std::string storage;         // "persistent" / "best-effort" / "" (unknown)
    // Menu state (this frame's widgets only).
    char rename[128] = {};
    bool renaming = false;
    bool confirm_delete = false;
};

CaseUi& case_ui();

// Menu action for web/annotation/case_session.js ("new", "switch", "rename", ...).
void case_js_action(const char* name, const std::string& arg = "");

}  // namespace esui
