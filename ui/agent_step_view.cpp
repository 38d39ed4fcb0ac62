// agent_step_view.cpp: one step of the agent's trace in readable form, and
// the selected step on the viewer. Arguments and outputs are shown by what
// they mean: a classification as its labels sorted by probability with bars,
// boxes as a numbered list in image pixels, masks (COCO RLE, decoded with the
// core's mask/rle.h) as their count and areas, text wrapped, drafted report
// fields as path = value. The raw JSON is one click away (panel_agent.cpp).
// On the viewer the selected step's output boxes are solid, its masks filled,
// the boxes and points it was given dashed; each is labelled with the step.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "agent_ui.h"
#include "annotation_ui.h"
#include "app.h"
#include "mask/rle.h"
#include "text_fit.h"
#include "viewer_boxes.h"

namespace esui {

using nlohmann::json;

namespace {

const ImVec4 kWarnColor(1.0f, 0.8f, 0.3f, 1.0f);
const ImU32 kOutputColour = IM_COL32(255, 200, 40, 255);    // the step's boxes (AI amber, as the chat's)
const ImU32 kMaskColour = IM_COL32(255, 170, 30, 255);
const ImU32 kInputColour = IM_COL32(90, 200, 255, 255);     // what the step was given

std::string fmt_box(const double b[4]) {
    char s[96];
    std::snprintf(s, sizeof s, "x %.0f-%.0f, y %.0f-%.0f (%.0f x %.0f px)", b[0], b[2], b[1], b[3], b[2] - b[0], b[3] - b[1]);
    return s;
}

std::string fmt_count(uint64_t n) {
    std::string d = std::to_string(n), out;
    for (size_t i = 0; i < d.size(); ++i) {
        if (i > 0 && (d.size() - i) % 3 == 0) out += ',';
        out += d[i];
    }
    return out;
}

std::string percent(double p) {
    char s[16];
    if (p > 0 && p < 0.001) return "<0.1%";
    std::snprintf(s, sizeof s, p >= 0.995 || p <= 0 ? "%.0f%%" : "%.1f%%", p * 100.0);
    return s;
}

// A short one-line form of an argument value.
std::string short_value(const json& v) {
    double b[4];
    if (agent_box(v, b)) {
        char s[96];
        std::snprintf(s, sizeof s, "[%.0f, %.0f, %.0f, %.0f]", b[0], b[1], b[2], b[3]);
        return s;
    }
    if (v.is_string()) return "\"" + v.get<std::string>() + "\"";
    std::string d = jdump(v);
    if (d.size() > 160) d = d.substr(0, 157) + "...";
    return d;
}

void wrapped(const std::string& text, bool disabled = false) {
    ImGui::PushTextWrapPos(0);
    if (disabled) ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    ImGui::TextUnformatted(text.c_str());
    if (disabled) ImGui::PopStyleColor();
    ImGui::PopTextWrapPos();
}

void box_on_viewer(ImDrawList* dl, const App& a, const double b[4], ImU32 col, const std::string& label, bool dashed) {
    draw_viewer_box(dl, a, b[0], b[1], b[2], b[3], col, label, dashed);
}

}  // namespace

const json& agent_steps(const AgentUi& ui) { return jarr(ui.state, "steps"); }

const json* agent_step(const AgentUi& ui, int index) {
    const json& steps = agent_steps(ui);
    if (index < 0 || index >= int(steps.size()) || !steps[size_t(index)].is_object()) return nullptr;
    return &steps[size_t(index)];
}

const json& agent_step_output(const json& step) {
    static const json null_value;
    if (jstr(step, "status") == "rejected") return null_value;
    return jfield(step, "output");
}

std::string agent_image_key(const App& a, int i) {
    if (i < 0 || i >= int(a.images.size()) || !a.images[size_t(i)]) return "";
    const ViewerImage& img = *a.images[size_t(i)];
    return a.case_name + "|" + img.name + "|" + std::to_string(img.pixels.width) + "x" + std::to_string(img.pixels.height);
}

std::string agent_trace_image_key(const AgentUi& ui) { return jstr(jfield(ui.state, "header"), "image"); }

int agent_trace_image_index(const App& a, const AgentUi& ui) {
    const std::string key = agent_trace_image_key(ui);
    if (key.empty()) return a.current_image() ? a.current : -1;  // no image named: the one in view
    for (int i = 0; i < int(a.images.size()); ++i)
        if (agent_image_key(a, i) == key) return i;
    // The case was renamed or copied (a change to the read-only demo makes a
    // copy): the same image is the one with the same name and size.
    for (int i = 0; i < int(a.images.size()); ++i) {
        const std::string k = agent_image_key(a, i);
        const std::string tail = k.substr(a.case_name.size());  // "|name|WxH"
        if (key.size() > tail.size() && key.compare(key.size() - tail.size(), tail.size(), tail) == 0) return i;
    }
    return -1;
}

std::string agent_image_name_of_key(const std::string& key) {
    // "case|name|WxH": the name is between the first and the last bar.
    const size_t first = key.find('|'), last = key.rfind('|');
    if (first == std::string::npos || last == first) return key;
    return key.substr(first + 1, last - first - 1);
}

bool agent_box(const json& j, double out[4]) {
    if (!j.is_array() || j.size() != 4) return false;
    for (size_t i = 0; i < 4; ++i) {
        if (!j[i].is_number()) return false;
        out[i] = j[i].get<double>();
        if (!std::isfinite(out[i])) return false;
    }
    return true;
}

const AgentStepMasks& agent_step_masks(AgentUi& ui, int index, int width, int height) {
    auto it = ui.masks.find(index);
    if (it != ui.masks.end()) return it->second;
    AgentStepMasks& m = ui.masks[index];
    const json* step = agent_step(ui, index);
    if (!step) return m;
    const json& masks = jarr(agent_step_output(*step), "masks");
    int n = 0;
    for (const json& item : masks) {
        ++n;
        const json& rle = jfield(item, "rle");
        const json& size = jfield(rle, "size");
        const json& counts = jfield(rle, "counts");
        std::string why;
        es::Rle r;
        es::Mask mask;
        if (!size.is_array() || size.size() != 2 || !size[0].is_number_integer() || !size[1].is_number_integer()) {
            why = "its size is not [height, width]";
        } else {
            const int64_t h = size[0].get<int64_t>(), w = size[1].get<int64_t>();
            if (h <= 0 || w <= 0 || h > 100000 || w > 100000 || h * w > (int64_t(1) << 28)) {
                why = "its size " + std::to_string(h) + " x " + std::to_string(w) + " is not a usable mask size";
            } else if (width > 0 && height > 0 && (w != width || h != height)) {
                why = "it is " + std::to_string(w) + " x " + std::to_string(h) + " pixels, the image " +
                      std::to_string(width) + " x " + std::to_string(height);
            } else if (counts.is_string()) {
                if (!es::rle_from_string(counts.get<std::string>(), int(h), int(w), r, &why)) why = "its RLE cannot be read: " + why;
            } else if (counts.is_array()) {
                r.height = int(h);
                r.width = int(w);
                for (const json& c : counts) {
                    if (!c.is_number_unsigned() && !(c.is_number_integer() && c.get<int64_t>() >= 0)) {
                        why = "its RLE counts are not whole numbers";
                        break;
                    }
                    r.counts.push_back(uint32_t(std::min<uint64_t>(c.get<uint64_t>(), UINT32_MAX)));
                }
                if (why.empty() && !es::rle_validate(r, &why)) why = "its RLE does not cover the mask: " + why;
            } else {
                why = "it has no RLE counts";
            }
            if (why.empty() && !es::rle_decode(r, mask, &why)) why = "its RLE cannot be decoded: " + why;
        }
        if (!why.empty()) {
            m.problems.push_back("Mask " + std::to_string(n) + " is not shown: " + why + ".");
            m.areas.push_back(0);
            m.masks.emplace_back();
            continue;
        }
        m.areas.push_back(es::rle_area(r));
        m.masks.push_back(std::move(mask));
    }
    return m;
}

std::string agent_step_summary(const json& step) {
    const std::string tool = jstr(step, "tool");
    const json& out = jfield(step, "output");
    if (tool == "finish") return jstr(jfield(step, "arguments"), "answer");
    if (!jstr(step, "error").empty()) return "failed: " + jstr(step, "error");
    if (out.is_null()) return "";
    if (tool == "classify") {
        std::string best;
        double p = -1;
        for (const json& l : jarr(out, "labels"))
            if (jnum(l, "probability", -1) > p) p = jnum(l, "probability"), best = jstr(l, "label");
        return best.empty() ? "" : best + " " + percent(p);
    }
    if (jfield(out, "boxes").is_array()) {
        const size_t n = jarr(out, "boxes").size();
        return std::to_string(n) + (n == 1 ? " box" : " boxes");
    }
    if (jfield(out, "masks").is_array()) {
        const size_t n = jarr(out, "masks").size();
        return std::to_string(n) + (n == 1 ? " mask" : " masks");
    }
    if (tool == "count_lesions") return "count " + std::to_string(jint(out, "count"));
    if (tool == "fill_report_fields") return std::to_string(jarr(out, "applied").size()) + " field(s) drafted";
    if (jfield(out, "text").is_string()) return "\"" + jstr(out, "text") + "\"";
    return "";
}

void draw_step_arguments(App&, AgentUi&, const json& step) {
    const json& args = jfield(step, "arguments");
    if (!args.is_object() || args.empty()) {
        ImGui::TextDisabled("No arguments.");
        return;
    }
    for (auto it = args.begin(); it != args.end(); ++it) {
        const json& v = it.value();
        if (it.key() == "boxes" && v.is_array()) {
            ImGui::TextDisabled("boxes: %d", int(v.size()));
            ImGui::Indent();
            int i = 0;
            for (const json& b : v) {
                double bb[4];
                wrapped(std::to_string(++i) + ". " + (agent_box(b, bb) ? fmt_box(bb) : short_value(b)));
            }
            ImGui::Unindent();
        } else if (it.key() == "points" && v.is_array()) {
            ImGui::TextDisabled("points: %d", int(v.size()));
            ImGui::Indent();
            for (const json& p : v) {
                char s[96];
                std::snprintf(s, sizeof s, "(%.0f, %.0f) %s", jnum(p, "x"), jnum(p, "y"),
                              jbool(p, "positive", true) ? "inside" : "outside");
                ImGui::TextUnformatted(s);
            }
            ImGui::Unindent();
        } else {
            double bb[4];
            wrapped(it.key() + ": " + (agent_box(v, bb) ? fmt_box(bb) : short_value(v)));
        }
    }
}

void draw_step_output(App& a, AgentUi& ui, const json& step) {
    const std::string tool = jstr(step, "tool");
    const json& out = jfield(step, "output");
    const int index = jint(step, "index", -1);
    if (tool == "finish") {
        wrapped(jstr(jfield(step, "arguments"), "answer"));
        return;
    }
    if (out.is_null()) {
        ImGui::TextDisabled("%s", jstr(step, "error").empty() ? "No output yet." : "No output.");
        return;
    }
    if (tool == "classify" && jfield(out, "labels").is_array()) {
        std::vector<std::pair<double, std::string>> rows;
        for (const json& l : jarr(out, "labels")) rows.emplace_back(jnum(l, "probability"), jstr(l, "label", "?"));
        std::stable_sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
        const size_t shown = std::min<size_t>(rows.size(), 8);
        // A bar, the probability, the label (shortened in the middle when the panel is narrow).
        const float bar_w = std::clamp(ImGui::GetContentRegionAvail().x * 0.3f, 40.0f, 120.0f);
        const float spacing = ImGui::GetStyle().ItemSpacing.x, percent_w = ImGui::CalcTextSize("100.0%").x;
        for (size_t i = 0; i < shown; ++i) {
            const float x0 = ImGui::GetCursorPosX();
            ImGui::PushStyleColor(ImGuiCol_PlotHistogram, i == 0 ? ImVec4(0.85f, 0.62f, 0.18f, 1.0f) : ImVec4(0.50f, 0.52f, 0.58f, 1.0f));
            ImGui::ProgressBar(float(std::clamp(rows[i].first, 0.0, 1.0)), ImVec2(bar_w, ImGui::GetTextLineHeight()), "");
            ImGui::PopStyleColor();
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s: probability %.4f", rows[i].second.c_str(), rows[i].first);
            ImGui::SameLine();
            const std::string p = percent(rows[i].first);
            ImGui::TextUnformatted(p.c_str());
            ImGui::SameLine(x0 + bar_w + spacing + percent_w + spacing);
            text_ellipsized(rows[i].second.c_str());
        }
        if (rows.size() > shown) {
            std::string rest;
            for (size_t i = shown; i < rows.size(); ++i) rest += (i > shown ? ", " : "") + rows[i].second + " " + percent(rows[i].first);
            wrapped(std::to_string(rows.size() - shown) + " more: " + rest, true);
        }
        return;
    }
    if (tool == "ground" && jfield(out, "boxes").is_array()) {
        const json& boxes = jarr(out, "boxes");
        if (boxes.empty()) wrapped("No box found.");
        int i = 0;
        for (const json& b : boxes) {
            double bb[4];
            const std::string label = jstr(b, "label");
            std::string line = std::to_string(++i) + ". " + (label.empty() ? std::string("box") : label);
            if (jfield(b, "score").is_number()) line += " " + percent(jnum(b, "score"));
            line += "  " + (agent_box(jfield(b, "box"), bb) ? fmt_box(bb) : std::string("(not a box)"));
            wrapped(line);
        }
        return;
    }
    if (tool == "segment" && jfield(out, "masks").is_array()) {
        const int at = agent_trace_image_index(a, ui);
        const ViewerImage* img = at >= 0 ? a.images[size_t(at)].get() : nullptr;
        const AgentStepMasks& m = agent_step_masks(ui, index, img ? img->pixels.width : 0, img ? img->pixels.height : 0);
        const json& masks = jarr(out, "masks");
        uint64_t total = 0;
        for (uint64_t x : m.areas) total += x;
        char head[128];
        std::snprintf(head, sizeof head, "%d mask%s, %s px in all", int(masks.size()), masks.size() == 1 ? "" : "s",
                      fmt_count(total).c_str());
        wrapped(head);
        int i = 0;
        for (const json& mk : masks) {
            std::string line = std::to_string(i + 1) + ". ";
            const uint64_t area = size_t(i) < m.areas.size() ? m.areas[size_t(i)] : 0;
            line += fmt_count(area) + " px";
            if (img && img->pixels.width > 0 && img->pixels.height > 0) {
                char p[32];
                std::snprintf(p, sizeof p, " (%.1f%% of the image)", 100.0 * double(area) / (double(img->pixels.width) * img->pixels.height));
                line += p;
            }
            if (jfield(mk, "score").is_number()) line += ", score " + percent(jnum(mk, "score"));
            double bb[4];
            if (agent_box(jfield(mk, "box"), bb)) line += ", " + fmt_box(bb);
            wrapped(line);
            ++i;
        }
        for (const std::string& p : m.problems) {
            ImGui::PushStyleColor(ImGuiCol_Text, kWarnColor);
            wrapped(p);
            ImGui::PopStyleColor();
        }
        return;
    }
    if (tool == "count_lesions" && jfield(out, "count").is_number()) {
        const int n = jint(out, "count");
        std::string line = std::to_string(n) + (n == 1 ? " lesion" : " lesions") + " in the accepted annotations";
        if (jfield(out, "mask_parts").is_number()) line += "; " + std::to_string(jint(out, "mask_parts")) + " separate mask parts";
        wrapped(line);
        return;
    }
    if (tool == "fill_report_fields" && (jfield(out, "applied").is_array() || jfield(out, "rejected").is_array())) {
        const json& applied = jarr(out, "applied");
        const json& rejected = jarr(out, "rejected");
        ImGui::TextDisabled("%d field(s) drafted%s", int(applied.size()), applied.empty() ? "" : ":");
        for (const json& f : applied) {
            std::string line = jstr(f, "path") + " = " + jstr(f, "value");
            if (jfield(f, "probability").is_number()) line += " (" + percent(jnum(f, "probability")) + ")";
            wrapped(line);
        }
        if (!rejected.empty()) {
            ImGui::TextDisabled("%d left empty:", int(rejected.size()));
            for (const json& f : rejected) wrapped(jstr(f, "path") + ": " + jstr(f, "reason"), true);
        }
        return;
    }
    if (jfield(out, "text").is_string()) {
        const std::string text = jstr(out, "text");
        wrapped(text.empty() ? "(no text)" : text);
        return;
    }
    wrapped(jdump(out, 1), true);  // a tool the panel has no view for: its JSON
}

void draw_agent_overlay(App& a, AgentUi& ui) {
    ui.drawn_boxes = ui.drawn_masks = 0;
    ui.overlay_note.clear();
    const json* step = agent_step(ui, ui.selected);
    if (!step) return;
    const ViewerImage* img = a.current_image();
    if (!img || agent_trace_image_index(a, ui) != a.current) {
        ui.overlay_note = "The trace is about " + agent_image_name_of_key(agent_trace_image_key(ui)) + ", not the image in view.";
        return;
    }
    if (jstr(*step, "status") == "rejected") {
        ui.overlay_note = "A rejected step's output is not shown.";
        return;
    }
    const int index = ui.selected;
    const std::string tool = jstr(*step, "tool");
    const json& args = jfield(*step, "arguments");
    const json& out = agent_step_output(*step);
    const std::string tag = "step " + std::to_string(index + 1) + " ";
    ImDrawList* dl = ImGui::GetBackgroundDrawList();
    const Rect& v = a.viewer_rect;
    // Masks first (under the outlines).
    if (tool == "segment") {
        const AgentStepMasks& m = agent_step_masks(ui, index, img->pixels.width, img->pixels.height);
        for (size_t i = 0; i < m.masks.size(); ++i) {
            if (m.masks[i].empty()) continue;
            draw_mask_overlay(a, "agent|" + std::to_string(index) + "|" + std::to_string(i), m.masks[i], kMaskColour, 0.42f);
            ui.drawn_masks++;
        }
        if (!m.problems.empty()) ui.overlay_note = m.problems.front();
    }
    dl->PushClipRect(ImVec2(v.x, v.y), ImVec2(v.x + v.w, v.y + v.h), true);
    double b[4];
    int inputs = 0;
    // What the step was given (dashed).
    if (agent_box(jfield(args, "box"), b)) box_on_viewer(dl, a, b, kInputColour, tag + "region asked", true), ++inputs;
    for (const json& x : jarr(args, "boxes"))
        if (agent_box(x, b)) box_on_viewer(dl, a, b, kInputColour, "", true), ++inputs;
    for (const json& p : jarr(args, "points")) {
        ++inputs;
        const ImVec2 s(float(a.view.to_screen_x(jnum(p, "x"))), float(a.view.to_screen_y(jnum(p, "y"))));
        dl->AddCircleFilled(s, 6.0f, jbool(p, "positive", true) ? IM_COL32(64, 208, 64, 255) : IM_COL32(224, 64, 64, 255));
        dl->AddCircle(s, 6.0f, IM_COL32(255, 255, 255, 255), 0, 1.5f);
    }
    // What it produced (solid).
    int i = 0;
    for (const json& x : jarr(out, "boxes")) {
        ++i;
        if (!agent_box(jfield(x, "box"), b)) continue;
        std::string label = tag + "box " + std::to_string(i) + ": " + jstr(x, "label", "box");
        if (jfield(x, "score").is_number()) label += " " + percent(jnum(x, "score"));
        box_on_viewer(dl, a, b, kOutputColour, label, false);
        ui.drawn_boxes++;
    }
    i = 0;
    for (const json& x : jarr(out, "masks")) {
        ++i;
        if (!agent_box(jfield(x, "box"), b)) continue;
        box_on_viewer(dl, a, b, kMaskColour, tag + "mask " + std::to_string(i), false);
        ui.drawn_boxes++;
    }
    // Legend, lower right: what the colours are.
    if (ui.drawn_boxes + ui.drawn_masks + inputs > 0) {
        const std::string legend = "Agent " + tag + "(" + tool + "): AI output solid, its input dashed";
        const ImVec2 ts = ImGui::CalcTextSize(legend.c_str());
        const ImVec2 p0(std::max(v.x + 8, v.x + v.w - ts.x - 20), v.y + v.h - ts.y - 16), p1(v.x + v.w - 8, v.y + v.h - 6);
        dl->AddRectFilled(p0, p1, IM_COL32(0, 0, 0, 200), 3.0f);
        dl->AddText(ImVec2(p0.x + 6, p0.y + 5), IM_COL32(235, 235, 235, 255), legend.c_str());
        a.widgets["agent_overlay_legend"] = {p0.x, p0.y, p1.x - p0.x, p1.y - p0.y};
    }
    dl->PopClipRect();
}

}  // namespace esui
