// panel_agent.cpp: the side panel's Agent tab (issue 14). From the top: where
// the agent runs and on which model (a test model said plainly); the question
// and the run's settings with Run / Stop / Continue; what it is doing now;
// its answer; the trace, one row per step as it runs (tool, who chose it,
// status, time, checks), a step opening to its arguments, output, checks,
// reflection and model, with Reject, Edit output and Add to annotations /
// report; the traces saved with this case (Open, Replay); the long-term
// memory (enable, edit, remove, add). A selected step's boxes and masks are
// drawn on the viewer (agent_step_view.cpp). Everything shown comes from the
// state JS pushes (agent_ui.h); every button is an action to JS or, for
// accepting, a change C++ makes to the annotations or the report.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "agent_ui.h"
#include "annotation_ui.h"
#include "app.h"
#include "assistant_ui.h"
#include "text_fit.h"

namespace esui {

using nlohmann::json;

namespace {

const ImVec4 kWarnColor(1.0f, 0.8f, 0.3f, 1.0f);
const ImVec4 kErrorColor(1.0f, 0.45f, 0.4f, 1.0f);
const ImVec4 kPassColor(0.45f, 0.85f, 0.45f, 1.0f);
const ImVec4 kEditedColor(0.45f, 0.75f, 1.0f, 1.0f);
const ImVec4 kAiColor(1.0f, 0.78f, 0.30f, 1.0f);

int resize_callback(ImGuiInputTextCallbackData* d) {
    if (d->EventFlag == ImGuiInputTextFlags_CallbackResize) {
        auto* s = static_cast<std::string*>(d->UserData);
        s->resize(size_t(d->BufTextLen));
        d->Buf = s->data();
    }
    return 0;
}

bool input_text(const char* id, std::string& s, ImGuiInputTextFlags flags = 0) {
    return ImGui::InputText(id, s.data(), s.capacity() + 1, flags | ImGuiInputTextFlags_CallbackResize, resize_callback, &s);
}

bool input_multiline(const char* id, std::string& s, float lines, ImGuiInputTextFlags flags = 0) {
    const float h = ImGui::GetTextLineHeight() * lines + ImGui::GetStyle().FramePadding.y * 2;
    return ImGui::InputTextMultiline(id, s.data(), s.capacity() + 1, ImVec2(-1, h),
                                     flags | ImGuiInputTextFlags_CallbackResize, resize_callback, &s);
}

// The hint an empty multi-line box shows (InputTextMultiline has none in 1.86).
void hint_over_last_item(const std::string& value, const char* hint) {
    if (!value.empty() || ImGui::IsItemActive()) return;
    const ImVec2 p = ImGui::GetItemRectMin();
    const ImGuiStyle& st = ImGui::GetStyle();
    ImGui::GetWindowDrawList()->AddText(ImVec2(p.x + st.FramePadding.x, p.y + st.FramePadding.y),
                                        ImGui::GetColorU32(ImGuiCol_TextDisabled), hint);
}

void wrapped(const std::string& text, const ImVec4* colour = nullptr) {
    if (colour) ImGui::PushStyleColor(ImGuiCol_Text, *colour);
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(text.c_str());
    ImGui::PopTextWrapPos();
    if (colour) ImGui::PopStyleColor();
}

void wrapped_disabled(const std::string& text) {
    const ImVec4 c = ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled);
    wrapped(text, &c);
}

void tooltip(const char* text) {
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled)) ImGui::SetTooltip("%s", text);
}

// Puts the next button on the same line when it fits there.
void flow(const char* label) {
    const ImGuiStyle& st = ImGui::GetStyle();
    const float w = ImGui::CalcTextSize(label, nullptr, true).x + st.FramePadding.x * 2;
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    if (ImGui::GetItemRectMax().x + st.ItemSpacing.x + w <= right) ImGui::SameLine();
}

std::string widget(int step, const char* what) { return "agent_step_" + std::to_string(step) + "_" + what; }

const char* origin_name(const std::string& o) {
    if (o == "model") return "model";
    if (o == "protocol") return "protocol";
    if (o == "recheck") return "re-check";
    if (o == "user") return "clinician";
    return o.empty() ? "?" : o.c_str();
}

std::string backend_name(const std::string& b) {
    if (b == "in-browser") return "this browser";
    if (b == "server") return "the inference server";
    if (b == "endpoint") return "an OpenAI-compatible endpoint";
    return b.empty() ? "?" : b;
}

double step_ms(const json& s) {
    const double a = jnum(s, "started_ms"), b = jnum(s, "finished_ms");
    return a > 0 && b >= a ? b - a : -1;
}

std::string fmt_ms(double ms) {
    char t[32];
    if (ms < 0) return "";
    if (ms < 1000) std::snprintf(t, sizeof t, "%.0f ms", ms);
    else std::snprintf(t, sizeof t, "%.1f s", ms / 1000.0);
    return t;
}

int warnings_of(const json& s) {
    int n = 0;
    for (const json& c : jarr(s, "checks")) n += jstr(c, "status", jstr(c, "level")) == "warn";
    return n;
}

// The request the loop waits on: {kind, step, tool}.
const json& request_of(const AgentUi& ui) { return jfield(ui.state, "request"); }

bool running(const AgentUi& ui) { return jbool(ui.state, "running"); }

// Running and this step is the one whose tool runs now.
bool step_running(const AgentUi& ui, int index, const json& s) {
    if (!running(ui)) return false;
    const json& r = request_of(ui);
    if (jstr(r, "kind") == "run_tool" && jint(r, "step", -1) == index) return true;
    return jfield(s, "output").is_null() && jstr(s, "error").empty() && jnum(s, "finished_ms") <= 0 &&
           index == int(agent_steps(ui).size()) - 1;
}

// "AI suggestion" over the agent's outputs; a test model's named as such (the
// agent's own model, which need not be the assistant's).
void ai_label(App& a, const AgentUi& ui, const char* name) {
    ImGui::PushStyleColor(ImGuiCol_Text, kAiColor);
    ImGui::TextWrapped("%s", jbool(ui.state, "test_model") ? "AI suggestion from a TEST MODEL (random weights) - meaningless"
                                                           : "AI suggestion - not a diagnosis");
    ImGui::PopStyleColor();
    a.record_widget(name);
}

// ---- top: where it runs, the form, the buttons, what it does now ----

void draw_backend(App& a, AgentUi& ui) {
    const json& s = ui.state;
    const std::string model = jstr(s, "model");
    std::string line = "Runs on " + backend_name(jstr(s, "backend"));
    if (!model.empty()) line += ": " + model;
    if (jstr(s, "backend").empty() && model.empty()) line = "No model chosen yet (Assistant tab, Models).";
    ImGui::TextDisabled("CASE AGENT");
    wrapped_disabled(line);
    a.record_widget("agent_backend");
    if (jbool(s, "test_model")) {
        // As the other AI panels show it (draw_test_model_warning), from the agent's own state.
        ImGui::PushStyleColor(ImGuiCol_ChildBg, ImVec4(0.45f, 0.10f, 0.08f, 1.0f));
        ImGui::BeginChild("agent_test_model_warning", ImVec2(0, ImGui::GetTextLineHeightWithSpacing() * 2.6f), false,
                          ImGuiWindowFlags_NoScrollbar);
        ImGui::PushTextWrapPos(0);
        ImGui::TextUnformatted("Test model with random weights: the agent's plans, answers, boxes and masks are meaningless. "
                               "Load a real model in Models.");
        ImGui::PopTextWrapPos();
        ImGui::EndChild();
        ImGui::PopStyleColor();
        a.record_widget("agent_test_model_warning");
    }
}

void draw_form(App& a, AgentUi& ui, bool available) {
    const bool busy = running(ui);
    ImGui::BeginDisabled(busy);
    input_multiline("##agent_question", ui.question, 2.6f);
    a.record_widget("agent_question");
    hint_over_last_item(ui.question, ui.mode == "protocol" ? "Question (optional): what should the report answer?"
                                                           : "Ask about the image in view");
    // The box does not wrap: a question wider than it is shown whole under it.
    if (!ImGui::IsItemActive() && ImGui::CalcTextSize(ui.question.c_str()).x > ImGui::GetItemRectSize().x - 12)
        wrapped_disabled(ui.question);
    const char* modes[] = {"Free question (the model plans)", "Clinical protocol (fixed steps)"};
    int mode = ui.mode == "planned" ? 0 : 1;
    ImGui::SetNextItemWidth(-70);
    if (ImGui::Combo("Plan", &mode, modes, 2)) ui.mode = mode == 0 ? "planned" : "protocol";
    a.record_widget("agent_mode");
    tooltip("Free question: the model chooses each tool from the question, the trace so far and its memory.\n"
            "Clinical protocol: classify, ground, segment each finding, count, describe, draft the report,\n"
            "whatever the model would plan (for weak models and audits).");
    ImGui::SetNextItemWidth(-70);
    ImGui::SliderInt("Rounds", &ui.max_rounds, 1, 8);
    ui.max_rounds = std::clamp(ui.max_rounds, 1, 8);
    a.record_widget("agent_rounds");
    tooltip("Free question: at most this many tool calls, then the model must answer.\n"
            "Protocol: at most this many re-checks the evaluator may add.");
    ImGui::Checkbox("Reflection", &ui.reflect);
    a.record_widget("agent_reflect");
    tooltip("After each tool the model writes a short reflection on the result.");
    ImGui::SameLine();
    ImGui::Checkbox("Memory", &ui.use_memory);
    a.record_widget("agent_use_memory");
    tooltip("The planning prompt includes the enabled long-term memory entries (below).");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(std::max(50.0f, ImGui::GetContentRegionAvail().x - ImGui::CalcTextSize("Seed").x - 8));
    input_text("Seed", ui.seed, ImGuiInputTextFlags_CharsDecimal);
    a.record_widget("agent_seed");
    tooltip("The same model, image, question and seed give the same trace (replay).");
    ImGui::EndDisabled();

    // Why Run cannot start ("" = it can).
    std::string why;
    if (!available) why = "The agent is not available in this app.";
    else if (busy) why = "";
    else if (!a.current_image()) why = "Open an image first.";
    else if (ui.mode == "planned" && ui.question.find_first_not_of(" \t\r\n") == std::string::npos) why = "Type a question first.";
    else if (ui.seed.empty() || ui.seed.size() > 19) why = "Set a seed (a whole number).";
    else why = jstr(ui.state, "blocked");  // JS: e.g. no model loaded
    if (busy) {
        if (ImGui::Button("Stop")) agent_action("stop");
        a.record_widget("agent_stop");
        tooltip("Stops after the current request; the steps so far stay. Reject or edit a step, then Continue.");
    } else {
        ImGui::BeginDisabled(!why.empty());
        if (ImGui::Button("Run")) {
            agent_action("start", {{"question", ui.question}, {"mode", ui.mode}, {"max_rounds", ui.max_rounds},
                                   {"reflect", ui.reflect}, {"use_memory", ui.use_memory}, {"seed", ui.seed}});
            ui.selected = -1;
        }
        ImGui::EndDisabled();
        a.record_widget("agent_run");
        tooltip("Starts a new run on the image in view (a new trace, saved with the case).");
        const bool can_continue = available && !agent_steps(ui).empty() &&
                                  jstr(jfield(ui.state, "header"), "answer").empty();
        ImGui::SameLine();
        ImGui::BeginDisabled(!can_continue);
        if (ImGui::Button("Continue")) agent_action("continue");
        ImGui::EndDisabled();
        a.record_widget("agent_continue");
        tooltip(can_continue ? "Goes on from the last kept step (after a stop, a reject or an edit)."
                             : "Nothing to continue: the run has its answer, or there is no run.");
    }
    if (!why.empty() && !busy) {
        ImGui::SameLine();
        ImGui::PushTextWrapPos(0);
        ImGui::TextDisabled("%s", why.c_str());
        ImGui::PopTextWrapPos();
        a.record_widget("agent_run_reason");
    }
}

void draw_now(App& a, AgentUi& ui) {
    const json& r = request_of(ui);
    const std::string kind = jstr(r, "kind");
    const int step = jint(r, "step", -1) + 1;
    std::string text;
    if (running(ui)) {
        if (kind == "plan") text = "Step " + std::to_string(step) + ": the model is choosing the next tool...";
        else if (kind == "run_tool") text = "Step " + std::to_string(step) + ": running " + jstr(r, "tool") + "...";
        else if (kind == "reflect") text = "Step " + std::to_string(step) + ": the model is writing its reflection...";
        else text = "Running...";
        const float t = float(ImGui::GetTime());
        char overlay[200];
        std::snprintf(overlay, sizeof overlay, "%s", text.c_str());
        // No fraction is known: a bar that sweeps, so a run that is alive looks alive.
        ImGui::ProgressBar(0.5f + 0.5f * std::sin(t * 2.4f), ImVec2(-1, 0), overlay);
        a.record_widget("agent_progress");
        a.wake();
    } else if (kind == "finished") {
        ImGui::TextDisabled("Finished.");
        a.record_widget("agent_status");
    } else if (kind == "stopped") {
        wrapped_disabled("Stopped. Reject or edit a step and Continue, or Run again.");
        a.record_widget("agent_status");
    }
    const std::string error = jstr(ui.state, "error");
    if (!error.empty()) {
        wrapped(error, &kErrorColor);
        a.record_widget("agent_error");
    }
}

void draw_answer(App& a, AgentUi& ui) {
    const std::string answer = jstr(jfield(ui.state, "header"), "answer");
    if (answer.empty()) return;
    ImGui::Separator();
    ImGui::TextDisabled("ANSWER");
    const std::string question = jstr(jfield(ui.state, "header"), "question");
    if (!question.empty()) wrapped_disabled("Q: " + question);
    ai_label(a, ui, "agent_answer_ai");
    wrapped(answer);
    a.record_widget("agent_answer");
}

// ---- one step ----

void draw_checks(App& a, int index, const json& s) {
    const json& checks = jarr(s, "checks");
    if (checks.empty()) return;
    ImGui::TextDisabled("Checks");
    for (const json& c : checks) {
        const bool warn = jstr(c, "status", jstr(c, "level")) == "warn";
        ImGui::PushStyleColor(ImGuiCol_Text, warn ? kWarnColor : kPassColor);
        ImGui::TextUnformatted(warn ? "WARN" : "pass");
        ImGui::PopStyleColor();
        ImGui::SameLine();
        std::string text = jstr(c, "message");
        if (text.empty()) text = jstr(c, "id");
        if (warn) wrapped(text, &kWarnColor);
        else wrapped(text);
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", jstr(c, "id").c_str());
        const json& recheck = jfield(c, "recheck");
        if (warn && recheck.is_object() && !jstr(recheck, "tool").empty())
            wrapped_disabled("   would settle it: " + jstr(recheck, "tool") + " " + jdump(jfield(recheck, "arguments")));
    }
    a.record_widget(widget(index, "checks").c_str());
}

void draw_reject(App& a, AgentUi& ui, int index) {
    ImGui::TextDisabled("Why is it wrong? (kept in the trace)");
    ImGui::SetNextItemWidth(-1);
    input_text("##reject_note", ui.reject_note);
    a.record_widget(widget(index, "reject_note").c_str());
    if (ImGui::Button("Reject step")) {
        agent_action("reject", {{"step", index}, {"note", ui.reject_note}});
        ui.rejecting = -1;
        ui.reject_note.clear();
    }
    a.record_widget(widget(index, "reject_confirm").c_str());
    tooltip("The steps after it are dropped; Continue plans again from here without this output.");
    ImGui::SameLine();
    if (ImGui::Button("Cancel##reject")) ui.rejecting = -1;
}

void draw_editor(App& a, AgentUi& ui, int index) {
    ImGui::TextDisabled(ui.edit_plain_text ? "The corrected text" : "The corrected output (JSON, as the tool gives it)");
    input_multiline("##edit_text", ui.edit_text, ui.edit_plain_text ? 5.0f : 9.0f);
    a.record_widget(widget(index, "edit_text").c_str());
    ImGui::SetNextItemWidth(-1);
    input_text("##edit_note", ui.edit_note);
    a.record_widget(widget(index, "edit_note").c_str());
    hint_over_last_item(ui.edit_note, "Why (kept in the trace)");
    const json& result = jfield(ui.state, "action_result");
    std::string problem = ui.edit_local_error;
    if (problem.empty() && !ui.edit_sent && result.is_object() && jstr(result, "name") == "edit" &&
        jint(result, "step", -1) == index && !jbool(result, "ok"))
        problem = jstr(result, "error", "The agent refused the edit.");
    if (!problem.empty()) {
        wrapped(problem, &kErrorColor);
        a.record_widget(widget(index, "edit_error").c_str());
    }
    ImGui::BeginDisabled(ui.edit_sent);
    if (ImGui::Button(ui.edit_sent ? "Checking..." : "Save edit")) {
        json output;
        if (ui.edit_plain_text) {
            output = {{"text", ui.edit_text}};
            ui.edit_local_error.clear();
        } else {
            output = json::parse(ui.edit_text, nullptr, false);
            ui.edit_local_error = output.is_discarded() ? "That is not valid JSON: check the brackets, commas and quotes." : "";
        }
        if (ui.edit_local_error.empty()) {
            ui.edit_action_id = agent_action("edit", {{"step", index}, {"output", jdump(output)}, {"note", ui.edit_note}});
            ui.edit_sent = ui.edit_action_id != 0;
        }
    }
    ImGui::EndDisabled();
    a.record_widget(widget(index, "edit_save").c_str());
    tooltip("The agent checks it against the tool's output schema; the steps after it are dropped, and Continue goes on from the edit.");
    ImGui::SameLine();
    if (ImGui::Button("Cancel##edit")) {
        ui.editing = -1;
        ui.edit_sent = false;
        ui.edit_local_error.clear();
    }
}

void start_edit(AgentUi& ui, int index, const json& s) {
    ui.editing = index;
    ui.rejecting = -1;
    ui.edit_sent = false;
    ui.edit_local_error.clear();
    ui.edit_note.clear();
    const json& out = jfield(s, "output");
    ui.edit_plain_text = out.is_object() && out.size() == 1 && jfield(out, "text").is_string();
    ui.edit_text = ui.edit_plain_text ? jstr(out, "text") : jdump(out, 1);
}

void draw_step_actions(App& a, AgentUi& ui, int index, const json& s) {
    const std::string tool = jstr(s, "tool");
    const bool busy = running(ui);
    const bool changeable = tool != "finish" && !step_running(ui, index, s);
    const bool has_output = !jfield(s, "output").is_null();
    const std::string status = jstr(s, "status", "ok");

    // Reject / Edit.
    ImGui::BeginDisabled(busy || !changeable || status == "rejected");
    if (ImGui::Button("Reject...")) {
        ui.rejecting = ui.rejecting == index ? -1 : index;
        ui.editing = -1;
        ui.reject_note.clear();
    }
    ImGui::EndDisabled();
    a.record_widget(widget(index, "reject").c_str());
    tooltip(busy ? "Stop the run first." : status == "rejected" ? "Already rejected." :
            !changeable ? "The final answer cannot be rejected: reject the step it relied on." :
            "Mark this output as wrong; the run goes on without it.");
    flow("Edit output...");
    ImGui::BeginDisabled(busy || !changeable || !has_output);
    if (ImGui::Button("Edit output...")) {
        if (ui.editing == index) ui.editing = -1;
        else start_edit(ui, index, s);
    }
    ImGui::EndDisabled();
    a.record_widget(widget(index, "edit").c_str());
    tooltip(busy ? "Stop the run first." : !has_output ? "This step has no output to edit." :
            "Correct the output; later steps use your version (the original is kept).");

    // Into the annotations.
    if ((tool == "ground" || tool == "segment") && status != "rejected" && has_output) {
        int already = 0;
        const int fresh = agent_annotation_candidates(a, ui, index, &already);
        bool matched = false;
        const std::string label = annotation_ui().label_name(agent_step_label(a, ui, index, &matched));
        char text[96];
        if (fresh > 0) std::snprintf(text, sizeof text, "Add %d to annotations", fresh);
        else std::snprintf(text, sizeof text, already > 0 ? "In the annotations" : "Nothing to add");
        flow(text);
        ImGui::BeginDisabled(fresh == 0);
        if (ImGui::Button(text)) agent_accept_annotations(a, ui, index);
        ImGui::EndDisabled();
        a.record_widget(widget(index, "accept_annotations").c_str());
        const std::string tip = fresh == 0 && already > 0
            ? "Its " + std::string(tool == "ground" ? "boxes are" : "masks are") + " already annotations on the image."
            : "Adds them to your annotations as \"" + label + "\"" +
                  (matched ? "" : " (no label set has the step's word: the label chosen in the Image tab)") +
                  ", marked as from the AI; one step to undo.";
        tooltip(tip.c_str());
    }
    // Into the report.
    if (status != "rejected" && agent_step_has_report_text(s)) {
        const auto targets = agent_report_text_targets(a);
        int& t = ui.report_target[index];
        if (t < 0 || t >= int(targets.size())) t = 0;
        flow("Add to report as");
        if (ImGui::Button("Add to report as")) agent_accept_report(a, ui, index, targets[size_t(t)].first);
        a.record_widget(widget(index, "accept_report").c_str());
        tooltip("Puts the text into the chosen part of the report as an AI value (marked until you accept it there).\n"
                "A part that holds your own text is not changed.");
        ImGui::SameLine();
        if (ImGui::GetContentRegionAvail().x < 130) ImGui::NewLine();
        ImGui::SetNextItemWidth(-1);
        if (ImGui::BeginCombo("##report_target", targets[size_t(t)].second.c_str())) {
            for (int i = 0; i < int(targets.size()); ++i)
                if (ImGui::Selectable(targets[size_t(i)].second.c_str(), i == t)) t = i;
            ImGui::EndCombo();
        }
        a.record_widget(widget(index, "report_target").c_str());
    } else if (status != "rejected" && agent_step_has_report_fields(s)) {
        const int fresh = agent_report_field_candidates(a, ui, index);
        char text[96];
        if (fresh > 0) std::snprintf(text, sizeof text, "Add %d field%s to report", fresh, fresh == 1 ? "" : "s");
        else std::snprintf(text, sizeof text, "Fields filled already");
        flow(text);
        ImGui::BeginDisabled(fresh == 0);
        if (ImGui::Button(text)) agent_accept_report(a, ui, index, "fields");
        ImGui::EndDisabled();
        a.record_widget(widget(index, "accept_report").c_str());
        tooltip("Fills the report's EMPTY fields with these values as AI values (each marked until you accept it\n"
                "in the Report tab); values outside the vocabulary or the field's limits are refused.");
    }
    if (ui.rejecting == index) draw_reject(a, ui, index);
    if (ui.editing == index) draw_editor(a, ui, index);
}

void draw_step_body(App& a, AgentUi& ui, int index, const json& s) {
    ImGui::Indent(6);
    const std::string model = jstr(s, "model");
    const std::string origin = jstr(s, "origin");
    std::string who = origin == "protocol" ? "Fixed protocol step" : origin == "user" ? "Added by the clinician" : "";
    if (!model.empty()) who = (origin == "recheck" ? "Re-check planned by " : "Planned by ") + model;
    else if (origin == "recheck") who = "Re-check added by the evaluator";
    if (jint(s, "round") > 0) who += " (round " + std::to_string(jint(s, "round")) + ")";
    if (!jstr(s, "recheck_of").empty()) who += ", settling \"" + jstr(s, "recheck_of") + "\"";
    if (!who.empty()) wrapped_disabled(who);

    ImGui::TextDisabled("Arguments");
    ImGui::Indent(8);
    draw_step_arguments(a, ui, s);
    ImGui::Unindent(8);

    const std::string status = jstr(s, "status", "ok");
    if (status == "rejected") {
        wrapped("Rejected by the clinician" + (jstr(s, "note").empty() ? std::string(".") : ": " + jstr(s, "note")), &kErrorColor);
        if (ImGui::TreeNode("The rejected output")) {
            const ImVec4 c = ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled);
            ImGui::PushStyleColor(ImGuiCol_Text, c);
            draw_step_output(a, ui, s);
            ImGui::PopStyleColor();
            ImGui::TreePop();
        }
    } else {
        ImGui::TextDisabled(jstr(s, "tool") == "finish" ? "Answer" : "Output");
        ImGui::Indent(8);
        if (!jstr(s, "error").empty()) wrapped("The tool failed: " + jstr(s, "error"), &kErrorColor);
        else if (step_running(ui, index, s)) ImGui::TextDisabled("Running...");
        else draw_step_output(a, ui, s);
        ImGui::Unindent(8);
        if (status == "edited") {
            wrapped("Edited by the clinician" + (jstr(s, "note").empty() ? std::string(".") : ": " + jstr(s, "note")), &kEditedColor);
            if (ImGui::TreeNode("The tool's original output")) {
                json original = s;
                original["output"] = jfield(s, "original_output");
                original["status"] = "ok";
                draw_step_output(a, ui, original);
                ImGui::TreePop();
            }
        }
    }
    draw_checks(a, index, s);
    const std::string reflection = jstr(s, "reflection");
    if (!reflection.empty()) {
        ImGui::TextDisabled("Reflection");
        ImGui::Indent(8);
        wrapped(reflection, &kAiColor);
        ImGui::Unindent(8);
        a.record_widget(widget(index, "reflection").c_str());
    }
    bool& raw = ui.raw[index];
    ImGui::Checkbox("Raw JSON", &raw);
    a.record_widget(widget(index, "raw").c_str());
    if (raw) {
        std::string text = jdump(s, 1);
        ImGui::InputTextMultiline("##raw", text.data(), text.size() + 1,
                                  ImVec2(-1, ImGui::GetTextLineHeight() * 10), ImGuiInputTextFlags_ReadOnly);
        a.record_widget(widget(index, "raw_text").c_str());
    }
    draw_step_actions(a, ui, index, s);
    ImGui::Unindent(6);
    ImGui::Spacing();
}

void draw_step(App& a, AgentUi& ui, int index, const json& s) {
    ImGui::PushID(index);
    const std::string tool = jstr(s, "tool", "?");
    const std::string status = jstr(s, "status", "ok");
    const bool now_running = step_running(ui, index, s);
    const bool selected = ui.selected == index;
    bool& open = ui.open[index];
    char label[160];
    std::snprintf(label, sizeof label, "%d  %s", index + 1, tool.c_str());
    ImGuiTreeNodeFlags flags = ImGuiTreeNodeFlags_OpenOnArrow | ImGuiTreeNodeFlags_SpanAvailWidth |
                               ImGuiTreeNodeFlags_FramePadding;
    if (selected) flags |= ImGuiTreeNodeFlags_Selected;
    ImGui::SetNextItemOpen(open);
    const bool coloured = status == "rejected" || status == "edited";
    if (coloured) ImGui::PushStyleColor(ImGuiCol_Text, status == "rejected" ? kErrorColor : kEditedColor);
    const bool node = ImGui::TreeNodeEx("##step", flags, "%s", label);
    if (coloured) ImGui::PopStyleColor();
    const bool toggled = ImGui::IsItemToggledOpen();
    open = node;
    if (ImGui::IsItemClicked() && !toggled) {
        ui.selected = selected ? -1 : index;
        if (!selected) open = true;  // shown from the next frame
    }
    a.record_widget(("agent_step_" + std::to_string(index)).c_str());
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip(selected ? "Click to hide its boxes and masks on the image." :
                                     "Click to show its boxes and masks on the image (the arrow only opens it).");
    // The line under it: who chose it, status, time, warnings.
    std::string meta = origin_name(jstr(s, "origin"));
    if (now_running) meta += "  running";
    else if (!jstr(s, "error").empty()) meta += "  failed";
    else meta += "  " + (status.empty() ? std::string("ok") : status);
    const std::string ms = fmt_ms(step_ms(s));
    if (!ms.empty()) meta += "  " + ms;
    ImGui::Indent(ImGui::GetTreeNodeToLabelSpacing());
    ImGui::TextDisabled("%s", meta.c_str());
    const int warns = warnings_of(s);
    if (warns > 0) {
        ImGui::SameLine();
        ImGui::PushStyleColor(ImGuiCol_Text, kWarnColor);
        ImGui::Text("%d warning%s", warns, warns == 1 ? "" : "s");
        ImGui::PopStyleColor();
        a.record_widget(widget(index, "warnings").c_str());
    }
    // What it gave, in a few words (the whole output is in the opened step).
    const std::string summary = status == "rejected" ? std::string() : agent_step_summary(s);
    if (!summary.empty()) text_ellipsized(summary.c_str());
    if (now_running) {
        const float t = float(ImGui::GetTime());
        ImGui::ProgressBar(0.5f + 0.5f * std::sin(t * 2.4f), ImVec2(-1, 8), "");
        a.record_widget(widget(index, "progress").c_str());
    }
    ImGui::Unindent(ImGui::GetTreeNodeToLabelSpacing());
    if (node) {
        draw_step_body(a, ui, index, s);
        ImGui::TreePop();
    }
    ImGui::PopID();
}

void draw_trace(App& a, AgentUi& ui) {
    const json& steps = agent_steps(ui);
    ImGui::Separator();
    ImGui::TextDisabled("TRACE");
    ImGui::SameLine();
    if (steps.empty()) {
        ImGui::TextDisabled("no steps yet");
    } else {
        ImGui::TextDisabled("%d step%s%s", int(steps.size()), steps.size() == 1 ? "" : "s",
                            jbool(ui.state, "saved") ? ", saved with the case" : ", not saved yet");
        a.record_widget("agent_trace_count");
    }
    if (steps.empty()) return;
    ai_label(a, ui, "agent_trace_ai");
    // The trace is about one image: say so when another is in view.
    const int at = agent_trace_image_index(a, ui);
    if (at != a.current) {
        const std::string name = agent_image_name_of_key(agent_trace_image_key(ui));
        if (at >= 0) {
            wrapped_disabled("This trace is about " + name + "; its boxes and masks show there.");
            if (ImGui::SmallButton("Show that image")) a.select(at);
            a.record_widget("agent_show_trace_image");
        } else {
            wrapped_disabled("This trace is about " + name + ", which is not open in this case.");
        }
    }
    for (size_t i = 0; i < steps.size(); ++i) {
        if (!steps[i].is_object()) continue;
        draw_step(a, ui, int(i), steps[i]);
    }
    // A request that is not a step yet (planning the next one).
    const json& r = request_of(ui);
    if (running(ui) && jstr(r, "kind") == "plan")
        ImGui::TextDisabled("%d  (the model is choosing...)", int(steps.size()) + 1);
}

// ---- saved traces, memory ----

void draw_saved_traces(App& a, AgentUi& ui) {
    const json& traces = jarr(ui.state, "traces");
    ImGui::Separator();
    ImGui::TextDisabled("SAVED TRACES OF THIS CASE");
    if (traces.empty()) {
        ImGui::TextDisabled("None yet: each run is saved with the case.");
        return;
    }
    const json& replay = jfield(ui.state, "replay");
    const bool busy = running(ui);
    int n = 0;
    for (const json& t : traces) {
        const std::string id = jstr(t, "id", std::to_string(n));
        ImGui::PushID(n++);
        std::string line = jstr(t, "when");
        const std::string image = jstr(t, "image");
        if (!image.empty()) line += (line.empty() ? "" : "  ") + agent_image_name_of_key(image);
        text_ellipsized(line.c_str(), 0, true);
        const std::string q = jstr(t, "question");
        if (!q.empty()) wrapped(q);
        ImGui::BeginDisabled(busy);
        if (ImGui::SmallButton("Open")) agent_action("open_trace", {{"trace_id", id}});
        a.record_widget(("agent_trace_open_" + std::to_string(n - 1)).c_str());
        tooltip("Shows this trace (nothing runs).");
        ImGui::SameLine();
        if (ImGui::SmallButton("Replay")) agent_action("replay", {{"trace_id", id}});
        a.record_widget(("agent_trace_replay_" + std::to_string(n - 1)).c_str());
        tooltip("Runs it again with the same model, image and seed, and says whether the steps come out the same.");
        ImGui::EndDisabled();
        if (replay.is_object() && jstr(replay, "trace_id") == id) {
            const std::string st = jstr(replay, "status");
            ImGui::SameLine();
            if (st == "running") ImGui::TextDisabled("replaying...");
            else if (st == "same") ImGui::TextColored(kPassColor, "replayed: the same trace");
            else if (st == "different" || st == "failed") {
                ImGui::TextColored(kWarnColor, st == "different" ? "replayed: different" : "replay failed");
                const std::string d = jstr(replay, "difference", jstr(replay, "error"));
                if (!d.empty()) wrapped(d, &kWarnColor);
            }
            a.record_widget(("agent_trace_replay_result_" + std::to_string(n - 1)).c_str());
        }
        ImGui::PopID();
    }
}

uint64_t entry_id(const json& e) {
    const json& id = jfield(e, "id");
    if (id.is_number_unsigned()) return id.get<uint64_t>();
    if (id.is_number_integer() && id.get<int64_t>() > 0) return uint64_t(id.get<int64_t>());
    return 0;
}

void draw_memory(App& a, AgentUi& ui, bool available) {
    const json& memory = jarr(ui.state, "memory");
    ImGui::Separator();
    int enabled = 0;
    for (const json& e : memory) enabled += jbool(e, "enabled", true);
    ImGui::TextDisabled("LONG-TERM MEMORY");
    ImGui::SameLine();
    ImGui::TextDisabled("%d entr%s, %d in use", int(memory.size()), memory.size() == 1 ? "y" : "ies", enabled);
    a.record_widget("agent_memory_count");
    wrapped_disabled(ui.use_memory ? "Reflections from earlier cases; the enabled ones go into the planning prompt."
                                   : "Memory is off for the next run (Memory above): entries are kept but not used.");
    ImGui::BeginDisabled(!available);
    for (const json& e : memory) {
        const uint64_t id = entry_id(e);
        if (id == 0) continue;
        ImGui::PushID(int(id));
        const std::string sid = std::to_string(id);
        bool on = jbool(e, "enabled", true);
        if (ImGui::Checkbox("##enabled", &on)) agent_action("memory_enable", {{"id", id}, {"enabled", on}});
        a.record_widget(("agent_memory_" + sid + "_enabled").c_str());
        tooltip("Used in planning when ticked.");
        ImGui::SameLine();
        const std::string text = jstr(e, "text");
        std::string meta = jstr(e, "created_at");
        if (!jstr(e, "source").empty()) meta += (meta.empty() ? "from " : ", from ") + jstr(e, "source");
        auto it = ui.memory_edits.find(id);
        if (it == ui.memory_edits.end()) {
            if (on) wrapped(text);
            else wrapped_disabled(text);
            a.record_widget(("agent_memory_" + sid + "_shown").c_str());
            if (!meta.empty() && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", meta.c_str());
            ImGui::Indent(ImGui::GetFrameHeight() + ImGui::GetStyle().ItemSpacing.x);
            if (ImGui::SmallButton("Edit")) ui.memory_edits[id] = text;
            a.record_widget(("agent_memory_" + sid + "_edit").c_str());
            ImGui::SameLine();
        } else {
            ImGui::NewLine();
            ImGui::Indent(ImGui::GetFrameHeight() + ImGui::GetStyle().ItemSpacing.x);
            input_multiline("##text", it->second, 3.0f);
            a.record_widget(("agent_memory_" + sid + "_text").c_str());
            ImGui::BeginDisabled(it->second == text);
            if (ImGui::SmallButton("Save")) {
                agent_action("memory_edit", {{"id", id}, {"text", it->second}});
                ui.memory_edits.erase(it);
            }
            ImGui::EndDisabled();
            a.record_widget(("agent_memory_" + sid + "_save").c_str());
            ImGui::SameLine();
            if (ImGui::SmallButton("Cancel")) ui.memory_edits.erase(id);
            ImGui::SameLine();
        }
        if (ui.memory_removing == id) {
            if (ImGui::SmallButton("Remove for good")) {
                agent_action("memory_remove", {{"id", id}});
                ui.memory_removing = 0;
                ui.memory_edits.erase(id);
            }
            a.record_widget(("agent_memory_" + sid + "_remove_confirm").c_str());
            ImGui::SameLine();
            if (ImGui::SmallButton("Keep")) ui.memory_removing = 0;
        } else {
            if (ImGui::SmallButton("Remove")) ui.memory_removing = id;
            a.record_widget(("agent_memory_" + sid + "_remove").c_str());
            tooltip("Deletes the entry (it cannot be brought back). Untick it to keep it unused instead.");
        }
        ImGui::Unindent(ImGui::GetFrameHeight() + ImGui::GetStyle().ItemSpacing.x);
        ImGui::PopID();
    }
    input_multiline("##memory_new", ui.memory_new, 2.0f);
    a.record_widget("agent_memory_new");
    hint_over_last_item(ui.memory_new, "A lesson for later cases");
    const bool empty = ui.memory_new.find_first_not_of(" \t\r\n") == std::string::npos;
    ImGui::BeginDisabled(empty);
    if (ImGui::Button("Add to memory")) {
        agent_action("memory_add", {{"text", ui.memory_new}});
        ui.memory_new.clear();
    }
    ImGui::EndDisabled();
    a.record_widget("agent_memory_add");
    ImGui::EndDisabled();
}

}  // namespace

void draw_agent_tab(App& a) {
    AgentUi& ui = agent_ui();
    const bool available = agent_available();
    if (!ui.state_error.empty()) {
        wrapped(ui.state_error, &kErrorColor);
        a.record_widget("agent_state_error");
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", ui.state_error_details.c_str());
    }
    if (!available) {
        wrapped("The agent is not available in this app: its part in the browser (web/agent) is missing or did not start. "
                "The other tabs work as usual.", &kWarnColor);
        a.record_widget("agent_unavailable");
    } else if (!ui.have_state) {
        ImGui::TextDisabled("The agent is starting...");
    }
    draw_backend(a, ui);
    draw_form(a, ui, available);
    draw_now(a, ui);
    draw_answer(a, ui);
    draw_trace(a, ui);
    draw_saved_traces(a, ui);
    draw_memory(a, ui, available);
    draw_agent_overlay(a, ui);
}

}  // namespace esui
