// panel_chat.cpp: the conversation about the image in view (Assistant window,
// Chat tab): questions and streamed answers, Stop, editing an earlier question,
// a new chat, generation settings; boxes found in answers are drawn on the
// viewer and can be accepted as annotations; a region drawn on the viewer can
// be asked about ("what is in this region?"). Every answer and box is marked
// as an AI suggestion (dashed boxes, "AI:" labels, a legend), and a test
// model's output as meaningless.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "app.h"
#include "assistant_ui.h"
#include "json_read.h"
#include "viewer_boxes.h"
#include "annotation_ui.h"  // the annotation layer: accepted boxes become undoable box annotations

namespace esui {

using nlohmann::json;

static bool is_busy(const json& s) { return s.contains("busy") && !s["busy"].is_null(); }

static ImU32 kBoxColour = IM_COL32(255, 210, 60, 255);
static ImU32 kAcceptedColour = IM_COL32(80, 230, 120, 255);
static ImU32 kRegionColour = IM_COL32(90, 200, 255, 255);
static const ImVec4 kAiLabelColour(1.0f, 0.78f, 0.35f, 1.0f);
static const char* kAiSuggestion = "AI suggestion - not a diagnosis";

bool assistant_test_model(const json& s) {
    return s.contains("model") && s["model"].is_object() && s["model"].value("test_model", false);
}

bool assistant_on_server(const json& s, const char* task) {
    return s.contains("backend") && s["backend"].is_object() && s["backend"].value(task, std::string()) == "server";
}

bool assistant_ready_for(const json& s, const char* task) {
    if (s.contains("ready") && s["ready"].is_object() && s["ready"].contains(task)) return s["ready"].value(task, false);
    return s.value("status", std::string()) == "ready";
}

std::string assistant_server_label(const json& s) {
    if (!s.contains("remote") || !s["remote"].is_object()) return "the server";
    const json& r = s["remote"];
    const std::string origin = jstr(r, "origin"), model = jstr(r, "model");
    if (origin.empty()) return "the server (no address set)";
    return model.empty() ? origin : model + " on " + origin;
}

void draw_test_model_warning(App& a, const char* widget) {
    const json& s = assistant_ui().state;
    const std::string text = s.value("testModelWarning", std::string(
        "Test model with random weights: its answers are meaningless. Load a real model in Models."));
    ImGui::PushStyleColor(ImGuiCol_ChildBg, ImVec4(0.45f, 0.10f, 0.08f, 1.0f));
    ImGui::BeginChild(widget, ImVec2(0, ImGui::GetTextLineHeightWithSpacing() * 2.6f), false,
                      ImGuiWindowFlags_NoScrollbar);
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(text.c_str());
    ImGui::PopTextWrapPos();
    ImGui::EndChild();
    ImGui::PopStyleColor();
    a.record_widget(widget);
    if (ImGui::IsItemHovered()) {
        const std::string d = s["model"].value("test_model_description", std::string());
        ImGui::SetTooltip("%s", d.empty() ? "The package marks itself as a test model." : d.c_str());
    }
}

void draw_ai_label(App& a, const char* widget, bool from_server) {
    ImGui::PushStyleColor(ImGuiCol_Text, kAiLabelColour);
    // A server's model says it is a random-weights test model in /v1/models ("endoscribe": {"test_model": true}).
    const json& s = assistant_ui().state;
    const bool test = from_server ? jbool(jfield(s, "remote"), "test_model")
                                  : assistant_test_model(s);
    ImGui::TextUnformatted(test ? "AI suggestion from a TEST MODEL - meaningless" : kAiSuggestion);
    ImGui::PopStyleColor();
    a.record_widget(widget);
}

void draw_assistant_overlay(App& a) {
    AssistantUi& ui = assistant_ui();
    const json& s = ui.state;
    if (!a.current_image()) return;
    ImDrawList* dl = ImGui::GetBackgroundDrawList();
    const Rect& v = a.viewer_rect;
    dl->PushClipRect(ImVec2(v.x, v.y), ImVec2(v.x + v.w, v.y + v.h), true);
    const bool same_image = s.contains("image") && s["image"].is_object() &&
                            s["image"].value("key", std::string()) == ui.last_image_key;
    // The chat's answers come from the loaded model unless the chat runs on a server.
    const bool test_answers = assistant_test_model(s) && !assistant_on_server(s, "chat");
    const std::string ai = test_answers ? "AI (test model, meaningless): " : "AI: ";
    int ai_boxes = 0;
    if (same_image) {
        for (const auto& t : s.value("turns", json::array())) {
            if (t.contains("region") && t["region"].is_object()) {
                const json& r = t["region"];
                draw_viewer_box(dl, a, jnum(r, "x1"), jnum(r, "y1"), jnum(r, "x2"), jnum(r, "y2"), kRegionColour, "asked region");
            }
            for (const auto& b : t.value("boxes", json::array())) {
                const std::string label = b.value("label", std::string());
                draw_viewer_box(dl, a, jnum(b, "x1"), jnum(b, "y1"), jnum(b, "x2"), jnum(b, "y2"), kBoxColour,
                            ai + (label.empty() ? "suggested box" : label), true);
                ai_boxes++;
            }
        }
        for (const auto& b : s.value("accepted", json::array())) {
            const std::string label = b.value("label", std::string());
            draw_viewer_box(dl, a, jnum(b, "x1"), jnum(b, "y1"), jnum(b, "x2"), jnum(b, "y2"), kAcceptedColour,
                            "AI, accepted: " + (label.empty() ? std::string("box") : label));
            ai_boxes++;
        }
    }
    if (ai_boxes > 0) {
        // Legend in the viewer's lower left corner: what the dashed boxes are.
        const std::string legend = test_answers
            ? "Dashed boxes: AI suggestions from a TEST MODEL (random weights) - meaningless"
            : "Dashed boxes: AI suggestions - not a diagnosis; check them against the image";
        const ImVec2 ts = ImGui::CalcTextSize(legend.c_str());
        const ImVec2 p0(v.x + 8, v.y + v.h - ts.y - 16), p1(v.x + 8 + ts.x + 44, v.y + v.h - 6);
        dl->AddRectFilled(p0, p1, IM_COL32(0, 0, 0, 200), 3.0f);
        draw_dashed_line(dl, ImVec2(p0.x + 6, (p0.y + p1.y) / 2), ImVec2(p0.x + 32, (p0.y + p1.y) / 2), kBoxColour, 2.0f);
        dl->AddText(ImVec2(p0.x + 38, p0.y + 5), IM_COL32(235, 235, 235, 255), legend.c_str());
        a.widgets["ai_box_legend"] = {p0.x, p0.y, p1.x - p0.x, p1.y - p0.y};
    }
    if (ui.region_dragging || ui.region_ready)
        draw_viewer_box(dl, a, std::min(ui.region_x0, ui.region_x1), std::min(ui.region_y0, ui.region_y1),
                        std::max(ui.region_x0, ui.region_x1), std::max(ui.region_y0, ui.region_y1), kRegionColour, "region");
    dl->PopClipRect();

    // Region drawing: an invisible window over the viewer takes the mouse
    // (so the drag draws instead of panning) while the mode is on.
    if (!ui.region_mode) return;
    const ViewerImage* img = a.current_image();
    ImGui::SetNextWindowPos(ImVec2(v.x, v.y));
    ImGui::SetNextWindowSize(ImVec2(v.w, v.h));
    ImGui::Begin("##region_catcher", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoBackground | ImGuiWindowFlags_NoSavedSettings |
                     ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoMove);
    ImGui::SetCursorScreenPos(ImVec2(v.x, v.y));
    ImGui::InvisibleButton("##region", ImVec2(std::max(1.0f, v.w), std::max(1.0f, v.h)));
    ImGui::SetMouseCursor(ImGuiMouseCursor_Hand);
    const ImVec2 m = ImGui::GetIO().MousePos;
    auto clamp_x = [&](double x) { return std::clamp(x, 0.0, double(img->pixels.width)); };
    auto clamp_y = [&](double y) { return std::clamp(y, 0.0, double(img->pixels.height)); };
    if (ImGui::IsItemActivated()) {
        ui.region_dragging = true;
        ui.region_ready = false;
        ui.region_x0 = ui.region_x1 = clamp_x(a.view.to_image_x(m.x));
        ui.region_y0 = ui.region_y1 = clamp_y(a.view.to_image_y(m.y));
    }
    if (ui.region_dragging && ImGui::IsItemActive()) {
        ui.region_x1 = clamp_x(a.view.to_image_x(m.x));
        ui.region_y1 = clamp_y(a.view.to_image_y(m.y));
        a.wake();
    }
    if (ui.region_dragging && ImGui::IsItemDeactivated()) {
        ui.region_dragging = false;
        ui.region_ready = std::abs(ui.region_x1 - ui.region_x0) >= 2 && std::abs(ui.region_y1 - ui.region_y0) >= 2;
        if (ui.region_ready) ui.region_mode = false;  // drawn: back to panning
    }
    ImGui::End();
}

// An answer's box accepted as an annotation: into the annotation layer (undo,
// labels, saved with the case) on the image in view; with no image in view it
// is kept with the conversation by the JS side.
static void accept_box(App& a, int turn, int index, const json& bx) {
    if (ViewerImage* v = a.current_image()) {
        AnnotationUi& ann = annotation_ui();
        es::ImageAnnotations& img = ann.ensure_image(v->name, v->pixels.width, v->pixels.height);
        es::Annotation an;
        an.kind = es::AnnotationKind::Box;
        an.label = ann.label;
        an.opacity = ann.default_opacity;
        an.source = "assistant";
        const double x1 = std::clamp(jnum(bx, "x1"), 0.0, double(v->pixels.width));
        const double y1 = std::clamp(jnum(bx, "y1"), 0.0, double(v->pixels.height));
        const double x2 = std::clamp(jnum(bx, "x2"), 0.0, double(v->pixels.width));
        const double y2 = std::clamp(jnum(bx, "y2"), 0.0, double(v->pixels.height));
        an.box = {std::min(x1, x2), std::min(y1, y2), std::abs(x2 - x1), std::abs(y2 - y1)};
        an.id = img.next_id;
        std::string error;
        if (!es::validate_annotation(an, img.width, img.height, &error)) {
            a.messages.error("The suggested box could not be added as an annotation: it does not fit this image.", error);
            return;
        }
        ann.apply(a, es::AnnotationCommand::add(img.image, std::move(an), "Accept assistant box"));
        return;
    }
    assistant_action("accept_box", {{"turn", turn}, {"index", index}});
}

static const char* reason_text(const std::string& r) {
    if (r == "cancelled") return "(stopped)";
    if (r == "max_tokens" || r == "length") return "(length limit reached)";
    if (r == "error") return "(failed)";
    if (r == "context") return "(stopped: context full)";  // the message under it says more
    return nullptr;
}

static void draw_turns(App& a, AssistantUi& ui, const json& s) {
    const json turns = s.value("turns", json::array());
    const bool busy = is_busy(s);
    size_t chars = 0;
    for (size_t i = 0; i < turns.size(); i++) {
        const json& t = turns[i];
        ImGui::PushID(int(i));
        if (!busy && t.value("done", false)) {
            if (ImGui::SmallButton("Edit")) {
                ui.editing_turn = int(i);
                std::snprintf(ui.edit_text, sizeof ui.edit_text, "%s", t.value("question", std::string()).c_str());
            }
            a.record_widget(("asst_edit_" + std::to_string(i)).c_str());
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("Change this question and ask again");
            ImGui::SameLine();
        }
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.55f, 0.8f, 1.0f, 1.0f));
        ImGui::TextWrapped("You: %s", t.value("question", std::string()).c_str());
        ImGui::PopStyleColor();
        if (ui.editing_turn == int(i)) {
            ImGui::SetNextItemWidth(-1);
            const bool enter = ImGui::InputText("##edit", ui.edit_text, sizeof ui.edit_text,
                                                ImGuiInputTextFlags_EnterReturnsTrue);
            const bool again = ImGui::Button("Ask again");
            a.record_widget("asst_edit_ask");
            if (again || enter) {
                assistant_action("edit", {{"turn", int(i)}, {"question", ui.edit_text}});
                ui.editing_turn = -1;
                ui.scroll_to_bottom = true;
            }
            ImGui::SameLine();
            if (ImGui::Button("Cancel")) ui.editing_turn = -1;
            ImGui::TextDisabled("Later questions are dropped; the history before it is kept.");
        }
        // Older turns set aside for this question (the model no longer sees them).
        if (t.contains("context_notice") && t["context_notice"].is_string()) {
            const std::string notice = t["context_notice"].get<std::string>();
            chars += notice.size();  // new text at the bottom: scroll to it
            ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
            ImGui::TextWrapped("%s", notice.c_str());
            ImGui::PopStyleColor();
            a.record_widget(("asst_context_notice_" + std::to_string(i)).c_str());
        }
        const std::string answer = t.value("answer", std::string());
        chars += answer.size();
        const bool done = t.value("done", false);
        draw_ai_label(a, ("asst_answer_ai_" + std::to_string(i)).c_str(), t.contains("server"));
        ImGui::TextWrapped("%s%s", answer.c_str(), done ? "" : " _");
        if (done && t.contains("reason") && t["reason"].is_string())
            if (const char* r = reason_text(t["reason"].get<std::string>())) ImGui::TextDisabled("%s", r);
        if (done && t.contains("context_message") && t["context_message"].is_string()) {
            const std::string message = t["context_message"].get<std::string>();
            chars += message.size();  // arrives when the answer ends: scroll to it
            ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
            ImGui::TextWrapped("%s", message.c_str());
            ImGui::PopStyleColor();
            a.record_widget(("asst_context_message_" + std::to_string(i)).c_str());
        }
        const json boxes = t.value("boxes", json::array());
        for (size_t b = 0; b < boxes.size(); b++) {
            ImGui::PushID(int(b));
            const json& bx = boxes[b];
            ImGui::TextDisabled("AI box %d: [%.0f, %.0f, %.0f, %.0f] px", int(b + 1), jnum(bx, "x1"), jnum(bx, "y1"),
                                jnum(bx, "x2"), jnum(bx, "y2"));
            ImGui::SameLine();
            if (ImGui::SmallButton("Accept as annotation")) accept_box(a, int(i), int(b), bx);
            a.record_widget(("asst_accept_box_" + std::to_string(i) + "_" + std::to_string(b)).c_str());
            if (ImGui::IsItemHovered())
                ImGui::SetTooltip("Adds it to your annotations, marked as from an AI suggestion; check it first.");
            ImGui::PopID();
        }
        ImGui::Spacing();
        ImGui::PopID();
    }
    if (chars != ui.last_answer_chars) {
        ui.last_answer_chars = chars;
        ui.scroll_to_bottom = true;
    }
    if (ui.scroll_to_bottom) {
        ImGui::SetScrollHereY(1.0f);
        ui.scroll_to_bottom = false;
    }
}

void draw_chat_tab(App& a) {
    AssistantUi& ui = assistant_ui();
    const json& s = ui.state;
    const bool ready = assistant_ready_for(s, "chat");
    const bool busy = is_busy(s);
    const std::string busy_what = busy && s["busy"].is_string() ? s["busy"].get<std::string>() : std::string();

    if (assistant_on_server(s, "chat")) {
        ImGui::TextDisabled("Server: %s", assistant_server_label(s).c_str());
        a.record_widget("asst_chat_server");
        if (!ready) ImGui::TextWrapped("Set the server's address and pick its model in the Models tab (Run on).");
    } else if (!ready) {
        ImGui::TextWrapped(s.value("status", std::string()) == "loading"
                               ? "Loading the model (Models tab shows progress)..."
                               : "No model loaded: open the Models tab to load one.");
    } else {
        ImGui::TextDisabled("%s - %s", s["model"].value("name", std::string()).c_str(),
                            s["model"].value("ep", std::string()) == "webgpu" ? "WebGPU" : "CPU");
        if (assistant_test_model(s)) draw_test_model_warning(a, "asst_chat_test_model_warning");
    }
    if (!a.current_image()) ImGui::TextDisabled("Open an image to ask about it.");

    // The conversation.
    const float bottom = ImGui::GetFrameHeightWithSpacing() * 3.2f + ImGui::GetTextLineHeightWithSpacing() * 2;
    ImGui::BeginChild("##turns", ImVec2(0, -bottom), true);
    if (s.value("turns", json::array()).empty())
        ImGui::TextDisabled("Ask about the image in view. Follow-up questions continue the conversation.");
    draw_turns(a, ui, s);
    ImGui::EndChild();
    ImGui::PushStyleColor(ImGuiCol_Text, kAiLabelColour);
    ImGui::TextWrapped("%s", assistant_test_model(s) && !assistant_on_server(s, "chat")
                                 ? "Answers come from a test model with random weights: they are meaningless."
                                 : "Answers are AI suggestions, not a diagnosis: check them against the image.");
    ImGui::PopStyleColor();
    a.record_widget("asst_ai_disclaimer");

    // Accepted annotations on this image.
    const json accepted = s.value("accepted", json::array());
    if (!accepted.empty()) ImGui::TextDisabled("%d accepted box annotation(s) on this image", int(accepted.size()));

    // Question line.
    ImGui::SetNextItemWidth(-60);
    const bool enter = ImGui::InputTextWithHint("##question", ui.region_ready ? "What is in this region?" : "Ask about this image",
                                                ui.question, sizeof ui.question, ImGuiInputTextFlags_EnterReturnsTrue);
    a.record_widget("asst_question");
    ImGui::SameLine();
    if (busy_what == "answer") {
        if (ImGui::Button("Stop", ImVec2(-1, 0))) assistant_action("stop");
        a.record_widget("asst_stop");
    } else {
        ImGui::BeginDisabled(busy || !ready);
        if ((ImGui::Button("Ask", ImVec2(-1, 0)) || enter) && !busy && ready) {
            json args = {{"question", ui.question[0] ? ui.question : (ui.region_ready ? "What is in this region?" : "")}};
            if (ui.region_ready)
                args["region"] = {{"x1", std::min(ui.region_x0, ui.region_x1)}, {"y1", std::min(ui.region_y0, ui.region_y1)},
                                  {"x2", std::max(ui.region_x0, ui.region_x1)}, {"y2", std::max(ui.region_y0, ui.region_y1)}};
            assistant_action("ask", args);
            ui.question[0] = 0;
            ui.region_ready = false;
            ui.scroll_to_bottom = true;
        }
        a.record_widget("asst_ask");
        ImGui::EndDisabled();
    }
    ImGui::BeginDisabled(busy);
    if (ImGui::Button(ui.region_mode ? "Drawing region..." : "Region")) {
        ui.region_mode = !ui.region_mode;
        ui.region_ready = false;
    }
    a.record_widget("asst_region");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Drag a box on the image, then ask about that region.");
    ImGui::SameLine();
    if (ImGui::Button("New chat")) assistant_action("new_chat");
    a.record_widget("asst_new_chat");
    ImGui::EndDisabled();
    ImGui::SameLine();
    // Generation settings.
    const json g = s.value("generation", json::object());
    int max_tokens = g.value("max_new_tokens", 64);
    float temperature = g.value("temperature", 0.0f);
    ImGui::SetNextItemWidth(70);
    if (ImGui::DragInt("tokens", &max_tokens, 1, 1, 2048)) assistant_action("set_generation", {{"max_new_tokens", max_tokens}});
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Longest answer, in tokens");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(50);
    if (ImGui::DragFloat("temp", &temperature, 0.01f, 0.0f, 2.0f, "%.2f"))
        assistant_action("set_generation", {{"temperature", temperature}});
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Temperature (0 = greedy)");
}

}  // namespace esui
