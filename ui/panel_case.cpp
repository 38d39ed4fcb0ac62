// panel_case.cpp: the Case menu at the left of the toolbar: the current case,
// New case, the saved cases to switch to, Rename, Export, Delete (with a
// confirmation that names what goes), Open demo case. It shows what JS sent
// (case_ui.h) and hands every action to JS.
#include <emscripten/emscripten.h>
#include <imgui.h>

#include <cstdio>
#include <cstring>

#include "app.h"
#include "case_ui.h"
#include "layout.h"
#include "text_fit.h"

namespace esui {

CaseUi& case_ui() {
    static CaseUi instance;
    return instance;
}

void case_js_action(const char* name, const std::string& arg) {
    EM_ASM({ if (Module.cases && Module.cases.action) Module.cases.action(UTF8ToString($0), UTF8ToString($1)); },
           name, arg.c_str());
}

static void draw_delete_confirmation(App& a, CaseUi& c) {
    if (c.confirm_delete) {
        ImGui::OpenPopup("Delete case?");
        c.confirm_delete = false;
    }
    ImGui::SetNextWindowPos(ImVec2(a.css_width * 0.5f, a.css_height * 0.4f), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    ImGui::SetNextWindowSize(ImVec2(420, 0));
    if (!ImGui::BeginPopupModal("Delete case?", nullptr, ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoSavedSettings))
        return;
    int images = 0;
    for (const auto& e : c.cases)
        if (e.id == c.current_id) images = e.images;
    ImGui::TextWrapped("Delete the case \"%s\" from this browser?", c.current_name.c_str());
    ImGui::Spacing();
    ImGui::TextWrapped("Its %d image%s, all their annotations, the undo history and the assistant conversations "
                       "are removed. This cannot be undone: export the case first to keep a copy.",
                       images, images == 1 ? "" : "s");
    ImGui::Spacing();
    ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.62f, 0.16f, 0.14f, 1.0f));
    if (ImGui::Button("Delete case")) {
        case_js_action("delete", c.current_id);
        ImGui::CloseCurrentPopup();
    }
    ImGui::PopStyleColor();
    a.record_widget("case_delete_confirm");
    ImGui::SameLine();
    if (ImGui::Button("Cancel") || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) {
        ImGui::CloseCurrentPopup();
        a.wake();
    }
    a.record_widget("case_delete_cancel");
    ImGui::EndPopup();
}

void draw_case_menu(App& a) {
    CaseUi& c = case_ui();
    const std::string name = c.current_name.empty() ? std::string("No case") : c.current_name;
    // The button fits the toolbar's case area; the full name is in the tooltip.
    const float arrow_w = ImGui::CalcTextSize("  v").x + ImGui::GetStyle().FramePadding.x * 2;
    const std::string full = "Case: " + name + (c.read_only ? " (read-only)" : "");
    const std::string label = ellipsize(full.c_str(), kCaseAreaWidth - 12 - arrow_w) + "  v###case_menu_button";
    if (ImGui::Button(label.c_str())) {
        ImGui::OpenPopup("##case_menu");
        std::snprintf(c.rename, sizeof c.rename, "%s", c.current_name.c_str());
        c.renaming = false;
    }
    a.record_widget("case_menu");
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("%s%s\nNew case, saved cases, rename, export, delete", name.c_str(),
                          c.read_only ? "\nThe demo case is read-only: a change to it goes into a new case." : "");
    ImGui::SameLine(0, 16);

    if (ImGui::BeginPopup("##case_menu")) {
        if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) ImGui::CloseCurrentPopup();
        ImGui::TextDisabled("Current case");
        const std::string shown = ellipsize(name.c_str(), 320);
        ImGui::Text("%s%s", shown.c_str(), c.read_only ? "  (demo, read-only)" : "");
        tooltip_if_shortened(name.c_str(), shown);
        ImGui::Separator();
        if (ImGui::Selectable("New case")) case_js_action("new");
        a.record_widget("case_new");

        if (!c.read_only && !c.current_id.empty()) {
            ImGui::SetNextItemWidth(220);
            const bool entered = ImGui::InputText("##case_rename", c.rename, sizeof c.rename,
                                                  ImGuiInputTextFlags_EnterReturnsTrue | ImGuiInputTextFlags_AutoSelectAll);
            a.record_widget("case_rename_field");
            ImGui::SameLine();
            const bool clicked = ImGui::Button("Rename");
            a.record_widget("case_rename");
            if ((entered || clicked) && c.rename[0] && c.current_name != c.rename) case_js_action("rename", c.rename);
        }

        ImGui::Separator();
        ImGui::TextDisabled("Saved cases (%d)", int(c.cases.size()));
        if (c.cases.empty()) ImGui::TextDisabled("  none yet: open images to start one");
        for (size_t i = 0; i < c.cases.size(); ++i) {
            const CaseEntry& e = c.cases[i];
            char line[256];
            std::snprintf(line, sizeof line, "%s  -  %d image%s, %s###case_item_%zu", ellipsize(e.name.c_str(), 220).c_str(), e.images,
                          e.images == 1 ? "" : "s", e.modified.c_str(), i);
            if (ImGui::Selectable(line, e.id == c.current_id) && e.id != c.current_id) case_js_action("switch", e.id);
            const std::string widget = "case_item_" + std::to_string(i);
            a.record_widget(widget.c_str());
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s\nlast changed %s", e.name.c_str(), e.modified.c_str());
        }

        ImGui::Separator();
        const bool has_case = !c.current_id.empty();
        if (!has_case) ImGui::BeginDisabled();
        if (ImGui::Selectable("Export case bundle (.endoscribe.json)")) case_js_action("export_bundle");
        a.record_widget("case_export_bundle");
        if (ImGui::Selectable("Export annotations (COCO JSON)")) case_js_action("export_coco");
        a.record_widget("case_export_coco");
        if (!has_case) ImGui::EndDisabled();
        if (c.read_only || !has_case) ImGui::BeginDisabled();
        if (ImGui::Selectable("Delete case...")) {
            c.confirm_delete = true;
            a.wake();  // the confirmation opens next frame
        }
        a.record_widget("case_delete");
        if (c.read_only || !has_case) ImGui::EndDisabled();
        ImGui::Separator();
        if (ImGui::Selectable("Open demo case (read-only)")) case_js_action("open_demo");
        a.record_widget("case_open_demo");
        if (!c.storage.empty()) {
            ImGui::Separator();
            ImGui::TextDisabled("%s", c.storage == "persistent"
                                          ? "Saved in this browser (persistent storage)"
                                          : "Saved in this browser; it may clear it when space runs low");
        }
        ImGui::EndPopup();
    }
    draw_delete_confirmation(a, c);
}

}  // namespace esui
