// panel_report.cpp: the side panel's Report tab (issue 11): the report as a
// form in WEO MST 3.0 order (header, extent, bowel preparation, findings,
// interventions, adverse events, diagnoses and impression, recommendations,
// surveillance), the quality checks, sign-off and versions, exports, and a
// live preview of the plain-text report. Every value shows where it came
// from (you / AI with its probability / AI edited); an AI value carries an
// Accept button until accepted. Findings come from annotations in one click;
// a selected finding shows its image with its annotations outlined.
#include <emscripten/emscripten.h>
#include <imgui.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "annotation_ui.h"
#include "app.h"
#include "report/report_json.h"
#include "report/report_text.h"
#include "report_draft_ui.h"
#include "report_ui.h"
#include "text_fit.h"

namespace esui {

namespace {

constexpr float kBadgeWidth = 84.0f;  // "AI 100%" / "AI edited" / "Accept 62%" beside the control
const ImVec4 kUserColor(0.62f, 0.66f, 0.72f, 1.0f);
const ImVec4 kAiColor(1.0f, 0.78f, 0.30f, 1.0f);
const ImVec4 kEditedColor(0.45f, 0.75f, 1.0f, 1.0f);
const ImVec4 kWarnColor(1.0f, 0.8f, 0.3f, 1.0f);
const ImVec4 kGoodColor(0.45f, 0.85f, 0.45f, 1.0f);

void tooltip(const char* text) {
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", text);
}

int resize_callback(ImGuiInputTextCallbackData* d) {
    if (d->EventFlag == ImGuiInputTextFlags_CallbackResize) {
        auto* s = static_cast<std::string*>(d->UserData);
        s->resize(size_t(d->BufTextLen));
        d->Buf = s->data();
    }
    return 0;
}

bool input_string(const char* id, std::string& s, float height = 0) {
    const ImGuiInputTextFlags flags = ImGuiInputTextFlags_CallbackResize;
    if (height > 0)
        return ImGui::InputTextMultiline(id, s.data(), s.capacity() + 1, ImVec2(-kBadgeWidth, height), flags,
                                         resize_callback, &s);
    return ImGui::InputText(id, s.data(), s.capacity() + 1, flags, resize_callback, &s);
}

// One form: the App, the report state and the column widths of this frame.
struct Form {
    App& a;
    ReportUi& r;
    float label_w = 110;
};

std::string option_name(const ReportUi& r, const char* list, const std::string& id) {
    const es::VocabOption* o = r.vocab.find(list, id);
    return o && !o->name.empty() ? o->name : id;
}

std::string term_name(const ReportUi& r, const std::string& id) {
    const es::ReportTerm* t = r.vocab.find_term(id);
    return t && !t->name.empty() ? t->name : id;
}

// The label column; the next item fills the row up to the provenance badge.
void row(Form& F, const char* label, const std::string& path) {
    ImGui::AlignTextToFramePadding();
    const bool focus = !F.r.focus_path.empty() && F.r.focus_path == path;
    if (focus) ImGui::PushStyleColor(ImGuiCol_Text, kWarnColor);
    text_ellipsized(label, F.label_w - 6);
    if (focus) {
        ImGui::PopStyleColor();
        ImGui::SetScrollHereY(0.3f);
        F.r.focus_path.clear();
    }
    ImGui::SameLine(F.label_w);
    ImGui::SetNextItemWidth(std::max(40.0f, ImGui::GetContentRegionAvail().x - kBadgeWidth));
}

// Where the value came from, beside its control; an unaccepted AI value gets
// an Accept button. `path` names the field (widgets: report_accept_<path>).
template <class T>
void badge(Form& F, es::Field<T>& f, const std::string& path) {
    if (!f.has_value()) return;
    ImGui::SameLine();
    char word[32];
    ImVec4 color = kUserColor;
    if (f.source == es::ValueSource::User) {
        std::snprintf(word, sizeof word, "you");
    } else if (f.source == es::ValueSource::AiEdited) {
        std::snprintf(word, sizeof word, "AI edited");
        color = kEditedColor;
    } else if (f.probability) {
        std::snprintf(word, sizeof word, "AI %.0f%%", *f.probability * 100.0);
        color = kAiColor;
    } else {
        std::snprintf(word, sizeof word, "AI");
        color = kAiColor;
    }
    if (f.source == es::ValueSource::Ai && !f.accepted) {
        ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.45f, 0.33f, 0.05f, 1.0f));
        // The AI's probability stays in sight on the button that accepts it.
        char shown[24];
        if (f.probability) std::snprintf(shown, sizeof shown, "Accept %.0f%%", *f.probability * 100.0);
        else std::snprintf(shown, sizeof shown, "Accept AI");
        if (ImGui::SmallButton((std::string(shown) + "##" + path).c_str())) {
            F.r.edit(F.a, "Accept " + path);
            es::field_accept(f);
            F.r.changed(F.a);
        }
        ImGui::PopStyleColor();
        F.a.record_widget(("report_accept_" + path).c_str());
    } else {
        ImGui::AlignTextToFramePadding();
        ImGui::TextColored(color, "%s", word);
    }
    if (ImGui::IsItemHovered()) {
        std::string tip = f.source == es::ValueSource::User ? "Entered by " : f.source == es::ValueSource::Ai
                                                                                 ? "Suggested by "
                                                                                 : "Suggested by the AI, edited by ";
        tip += f.set_by.empty() ? "(unknown)" : f.set_by;
        if (!f.set_at.empty()) tip += "\nat " + f.set_at;
        if (f.probability && f.source != es::ValueSource::User) {
            char p[64];
            std::snprintf(p, sizeof p, "\nprobability of this option: %.1f%%", *f.probability * 100.0);
            tip += p;
        }
        if (f.source == es::ValueSource::Ai && !f.accepted) tip += "\nNot accepted yet: check it, then Accept.";
        ImGui::SetTooltip("%s", tip.c_str());
    }
}

// A value from a vocabulary list, as a combo (widgets report_<path>, options report_option_<id>).
void option_field(Form& F, const char* label, const std::string& path, es::Field<std::string>& f, const char* list) {
    row(F, label, path);
    const std::vector<es::VocabOption>* opts = F.r.vocab.list(list);
    const std::string shown_full = f.has_value() ? option_name(F.r, list, *f.value) : "-";
    const std::string shown = ellipsize(shown_full.c_str(), ImGui::CalcItemWidth() - ImGui::GetFrameHeight() - 8);
    if (ImGui::BeginCombo(("##" + path).c_str(), shown.c_str())) {
        if (ImGui::Selectable("-  (not stated)", !f.has_value()) && f.has_value()) {
            F.r.edit(F.a, std::string("Clear ") + label);
            es::field_clear(f);
            F.r.changed(F.a);
        }
        if (opts)
            for (const es::VocabOption& o : *opts) {
                const bool sel = f.has_value() && *f.value == o.id;
                if (ImGui::Selectable((o.name + "##" + o.id).c_str(), sel) && !sel) {
                    F.r.edit(F.a, std::string("Set ") + label);
                    es::field_set_user(f, o.id, F.r.who(), ReportUi::now());
                    F.r.changed(F.a);
                }
                F.a.record_widget(("report_option_" + o.id).c_str());
                if (!o.description.empty()) tooltip(o.description.c_str());
            }
        ImGui::EndCombo();
    }
    F.a.record_widget(("report_" + path).c_str());
    tooltip_if_shortened(shown_full.c_str(), shown);
    badge(F, f, path);
}

// Several values from a list (indications, landmarks, adverse events): a combo of checkboxes.
void options_field(Form& F, const char* label, const std::string& path, es::Field<es::TextList>& f, const char* list) {
    row(F, label, path);
    const std::vector<es::VocabOption>* opts = F.r.vocab.list(list);
    std::string shown_full;
    for (const std::string& id : f.value_or({})) shown_full += (shown_full.empty() ? "" : ", ") + option_name(F.r, list, id);
    if (shown_full.empty()) shown_full = "-";
    const std::string shown = ellipsize(shown_full.c_str(), ImGui::CalcItemWidth() - ImGui::GetFrameHeight() - 8);
    if (ImGui::BeginCombo(("##" + path).c_str(), shown.c_str(), ImGuiComboFlags_HeightLarge)) {
        if (opts)
            for (const es::VocabOption& o : *opts) {
                es::TextList v = f.value_or({});
                auto it = std::find(v.begin(), v.end(), o.id);
                bool on = it != v.end();
                if (ImGui::Checkbox((o.name + "##" + o.id).c_str(), &on)) {
                    F.r.edit(F.a, std::string("Change ") + label);
                    if (on) v.push_back(o.id); else v.erase(it);
                    if (v.empty()) es::field_clear(f);
                    else es::field_set_user(f, v, F.r.who(), ReportUi::now());
                    F.r.changed(F.a);
                }
                F.a.record_widget(("report_option_" + o.id).c_str());
                if (!o.description.empty()) tooltip(o.description.c_str());
            }
        ImGui::EndCombo();
    }
    F.a.record_widget(("report_" + path).c_str());
    tooltip_if_shortened(shown_full.c_str(), shown);
    badge(F, f, path);
}

// Free text, one line or several; typing in it is one undo step, each keystroke is saved.
void text_field(Form& F, const char* label, const std::string& path, es::Field<std::string>& f, float height = 0) {
    if (height > 0) {
        ImGui::AlignTextToFramePadding();
        const bool focus = F.r.focus_path == path;
        if (focus) {
            ImGui::SetScrollHereY(0.3f);
            F.r.focus_path.clear();
        }
        ImGui::TextColored(focus ? kWarnColor : ImGui::GetStyleColorVec4(ImGuiCol_Text), "%s", label);
    } else {
        row(F, label, path);
    }
    std::string v = f.value_or("");
    v.reserve(64);
    const unsigned id = ImGui::GetID(("##" + path).c_str());
    if (input_string(("##" + path).c_str(), v, height)) {
        F.r.edit(F.a, std::string("Type ") + label, id);
        if (v.empty()) es::field_clear(f);
        else es::field_set_user(f, v, F.r.who(), ReportUi::now());
        F.r.changed(F.a);
    }
    if (ImGui::IsItemDeactivated() && F.r.typing_item == id) F.r.typing_item = 0;
    F.a.record_widget(("report_" + path).c_str());
    badge(F, f, path);
}

// A number (empty = not stated). `min`/`max` are checked here so a value the
// reader would refuse is never saved.
template <class T>
void number_field(Form& F, const char* label, const std::string& path, es::Field<T>& f, double min, double max,
                  const char* unit) {
    row(F, label, path);
    char buf[32] = "";
    if (f.has_value()) std::snprintf(buf, sizeof buf, "%g", double(*f.value));
    const unsigned id = ImGui::GetID(("##" + path).c_str());
    if (ImGui::InputTextWithHint(("##" + path).c_str(), unit, buf, sizeof buf, ImGuiInputTextFlags_CharsDecimal)) {
        char* end = nullptr;
        const double d = std::strtod(buf, &end);
        const bool blank = buf[0] == '\0';
        const bool ok = !blank && end && *end == '\0' && std::isfinite(d) && d >= min && d <= max &&
                        (std::is_floating_point<T>::value || d == std::floor(d));
        if (blank && f.has_value()) {
            F.r.edit(F.a, std::string("Clear ") + label, id);
            es::field_clear(f);
            F.r.changed(F.a);
        } else if (ok) {
            F.r.edit(F.a, std::string("Set ") + label, id);
            es::field_set_user(f, T(d), F.r.who(), ReportUi::now());
            F.r.changed(F.a);
        }
    }
    if (ImGui::IsItemDeactivated() && F.r.typing_item == id) F.r.typing_item = 0;
    F.a.record_widget(("report_" + path).c_str());
    char range[96];
    std::snprintf(range, sizeof range, "%g to %g %s; leave empty when not stated", min, max, unit);
    tooltip(range);
    badge(F, f, path);
}

// Yes / No / not stated.
void yes_no_field(Form& F, const char* label, const std::string& path, es::Field<bool>& f) {
    row(F, label, path);
    const char* shown = !f.has_value() ? "-" : *f.value ? "Yes" : "No";
    if (ImGui::BeginCombo(("##" + path).c_str(), shown)) {
        if (ImGui::Selectable("-  (not stated)", !f.has_value()) && f.has_value()) {
            F.r.edit(F.a, std::string("Clear ") + label);
            es::field_clear(f);
            F.r.changed(F.a);
        }
        for (bool b : {true, false}) {
            if (ImGui::Selectable(b ? "Yes" : "No", f.has_value() && *f.value == b)) {
                F.r.edit(F.a, std::string("Set ") + label);
                es::field_set_user(f, b, F.r.who(), ReportUi::now());
                F.r.changed(F.a);
            }
            F.a.record_widget(b ? "report_option_yes" : "report_option_no");
        }
        ImGui::EndCombo();
    }
    F.a.record_widget(("report_" + path).c_str());
    badge(F, f, path);
}

// A BBPS segment score 0-3 (the vocabulary's "bbps" list names them).
void bbps_field(Form& F, const char* label, const std::string& path, es::Field<int>& f) {
    row(F, label, path);
    const std::string shown = f.has_value() ? std::to_string(*f.value) : "- (not scored)";
    if (ImGui::BeginCombo(("##" + path).c_str(), shown.c_str())) {
        if (ImGui::Selectable("-  (not scored)", !f.has_value()) && f.has_value()) {
            F.r.edit(F.a, std::string("Clear ") + label);
            es::field_clear(f);
            F.r.changed(F.a);
        }
        for (int s = 0; s <= 3; ++s) {
            const std::string id = std::to_string(s);
            const std::string name = option_name(F.r, "bbps", id);
            const std::string text = name == id ? id : id + "  " + name;
            if (ImGui::Selectable(text.c_str(), f.has_value() && *f.value == s)) {
                F.r.edit(F.a, std::string("Set ") + label);
                es::field_set_user(f, s, F.r.who(), ReportUi::now());
                F.r.changed(F.a);
            }
            F.a.record_widget(("report_option_bbps_" + id).c_str());
            if (const es::VocabOption* o = F.r.vocab.find("bbps", id))
                if (!o->description.empty()) tooltip(o->description.c_str());
        }
        ImGui::EndCombo();
    }
    F.a.record_widget(("report_" + path).c_str());
    badge(F, f, path);
}

bool section(const char* title, const char* widget, App& a, bool open_default = true) {
    ImGui::Spacing();
    const bool open = ImGui::CollapsingHeader(title, open_default ? ImGuiTreeNodeFlags_DefaultOpen : 0);
    a.record_widget(widget);
    return open;
}

// ---- sections ----------------------------------------------------------------------

void draw_header(Form& F) {
    es::ReportHeader& h = F.r.report.header;
    option_field(F, "Procedure", "header.procedure", h.procedure, "procedures");
    text_field(F, "Date", "header.date", h.date);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("YYYY-MM-DD");
    text_field(F, "Endoscopist", "header.endoscopist", h.endoscopist);
    text_field(F, "Instrument", "header.instrument", h.instrument);
    option_field(F, "Sedation", "header.sedation", h.sedation, "sedation");
    options_field(F, "Indications", "header.indications", h.indications, "indications");
}

void draw_extent(Form& F) {
    es::ReportExtent& e = F.r.report.extent;
    options_field(F, "Landmarks", "extent.landmarks_reached", e.landmarks_reached, "landmarks");
    yes_no_field(F, "Caecum reached", "extent.caecal_intubation", e.caecal_intubation);
    row(F, "Caecum images", "extent.caecal_evidence");
    const es::ImageLinks links = e.caecal_evidence.value_or({});
    if (links.empty()) ImGui::TextDisabled("none: annotate a landmark");
    else ImGui::Text("%d image(s)", int(links.size()));
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Images that document caecal intubation (appendiceal orifice, ileocaecal valve, terminal ileum).\n"
                          "An annotation with a landmark label becomes one with \"From selected annotation\".");
    badge(F, e.caecal_evidence, "extent.caecal_evidence");
    for (size_t i = 0; i < links.size(); ++i) {
        ImGui::Indent(F.label_w);
        const std::string text = links[i].image + (links[i].landmark.empty() ? "" : " (" + option_name(F.r, "landmarks", links[i].landmark) + ")");
        const std::string shown = ellipsize(text.c_str(), ImGui::GetContentRegionAvail().x - 30);
        if (ImGui::Selectable((shown + "##ce" + std::to_string(i)).c_str(), false, 0, ImVec2(ImGui::GetContentRegionAvail().x - 30, 0))) {
            for (int k = 0; k < int(F.a.images.size()); ++k)
                if (F.a.images[size_t(k)]->name == links[i].image) F.a.select(k);
            annotation_ui().selected = links[i].annotation_id;
        }
        tooltip_if_shortened(text.c_str(), shown);
        ImGui::SameLine();
        if (ImGui::SmallButton(("x##ce" + std::to_string(i)).c_str())) {
            F.r.edit(F.a, "Remove caecal evidence");
            es::ImageLinks v = links;
            v.erase(v.begin() + long(i));
            if (v.empty()) es::field_clear(e.caecal_evidence);
            else es::field_set_user(e.caecal_evidence, v, F.r.who(), ReportUi::now());
            F.r.changed(F.a);
            ImGui::Unindent(F.label_w);
            break;
        }
        ImGui::Unindent(F.label_w);
    }
    option_field(F, "If incomplete", "extent.incomplete_reason", e.incomplete_reason, "incomplete_reasons");
}

void draw_bowel_preparation(Form& F) {
    es::BowelPreparation& p = F.r.report.bowel_preparation;
    bbps_field(F, "BBPS right", "bowel_preparation.bbps_right", p.bbps_right);
    bbps_field(F, "BBPS transverse", "bowel_preparation.bbps_transverse", p.bbps_transverse);
    bbps_field(F, "BBPS left", "bowel_preparation.bbps_left", p.bbps_left);
    ImGui::AlignTextToFramePadding();
    text_ellipsized("BBPS total", F.label_w - 6);
    ImGui::SameLine(F.label_w);
    const std::optional<int> total = es::bbps_total(p);
    const std::optional<bool> adequate = es::bbps_adequate(p);
    if (!total) {
        ImGui::TextDisabled("score every segment");
    } else {
        ImGui::Text("%d / 9", *total);
        ImGui::SameLine();
        ImGui::TextColored(*adequate ? kGoodColor : kWarnColor, "%s", *adequate ? "adequate" : "inadequate");
    }
    F.a.record_widget("report_bbps_total");
    tooltip("Adequate: total 6 or more and every segment 2 or more (Boston Bowel Preparation Scale)");
    number_field(F, "Withdrawal", "bowel_preparation.withdrawal_time_min", p.withdrawal_time_min, 0, 300, "min");
}

std::string finding_summary(const ReportUi& r, const es::Finding& f) {
    std::string s = f.id + "  " + (f.term.has_value() ? term_name(r, *f.term.value) : std::string("(no term)"));
    if (f.location_segment.has_value()) s += ", " + option_name(r, "segments", *f.location_segment.value);
    if (f.size_mm.has_value()) {
        char b[32];
        std::snprintf(b, sizeof b, ", %g mm", *f.size_mm.value);
        s += b;
    }
    if (f.number.has_value() && *f.number.value > 1) s += ", " + std::to_string(*f.number.value) + " lesions";
    const size_t n = f.evidence.value_or({}).size();
    if (n) s += "  [" + std::to_string(n) + " evidence]";
    return s;
}

bool any_unaccepted(const es::Finding& f) {
    auto ai = [](const auto& fld) { return fld.has_value() && fld.source == es::ValueSource::Ai && !fld.accepted; };
    bool any = ai(f.term) || ai(f.location_segment) || ai(f.distance_cm) || ai(f.size_mm) || ai(f.number) ||
               ai(f.paris) || ai(f.nice) || ai(f.jnet) || ai(f.notes);
    for (const auto& [k, v] : f.attributes) any = any || ai(v);
    return any;
}

// The selected annotation on the current image as "label (kind) on image", or "".
std::string selected_annotation_text(App& a, std::string* image, uint64_t* id) {
    AnnotationUi& ui = annotation_ui();
    ViewerImage* v = a.current_image();
    if (!v || !ui.selected) return "";
    es::ImageAnnotations* img = ui.image(v->name);
    const es::Annotation* an = img ? img->find(ui.selected) : nullptr;
    if (!an) return "";
    *image = v->name;
    *id = an->id;
    return ui.label_name(an->label) + " (" + es::annotation_kind_name(an->kind) + ") on " + v->name;
}

void draw_term_combo(Form& F, es::Finding& f, const std::string& path) {
    row(F, "Term", path + ".term");
    const std::string shown_full = f.term.has_value() ? term_name(F.r, *f.term.value) : "-";
    const std::string shown = ellipsize(shown_full.c_str(), ImGui::CalcItemWidth() - ImGui::GetFrameHeight() - 8);
    if (ImGui::BeginCombo(("##" + path + ".term").c_str(), shown.c_str(), ImGuiComboFlags_HeightLarge)) {
        std::string group;
        for (const es::ReportTerm& t : F.r.vocab.terms) {
            const std::string g = t.organs.empty() ? "" : option_name(F.r, "organs", t.organs[0]);
            if (g != group) {
                group = g;
                ImGui::TextDisabled("%s", g.c_str());
            }
            const bool sel = f.term.has_value() && *f.term.value == t.id;
            if (ImGui::Selectable(("  " + t.name + "##" + t.id).c_str(), sel) && !sel) {
                F.r.edit(F.a, "Set the term of " + f.id);
                es::field_set_user(f.term, t.id, F.r.who(), ReportUi::now());
                F.r.changed(F.a);
            }
            F.a.record_widget(("report_option_" + t.id).c_str());
            if (!t.description.empty()) tooltip(t.description.c_str());
        }
        ImGui::EndCombo();
    }
    F.a.record_widget(("report_" + path + ".term").c_str());
    tooltip_if_shortened(shown_full.c_str(), shown);
    badge(F, f.term, path + ".term");
}

void draw_attribute(Form& F, es::Finding& f, const es::ReportAttribute& def, const std::string& path) {
    es::Field<es::AttributeValue>& fld = f.attributes[def.id];
    const std::string p = path + ".attributes." + def.id;
    const std::string label = def.name.empty() ? def.id : def.name;
    row(F, label.c_str(), p);
    auto set = [&](es::AttributeValue v) {
        F.r.edit(F.a, "Set " + label + " of " + f.id);
        es::field_set_user(fld, std::move(v), F.r.who(), ReportUi::now());
        F.r.changed(F.a);
    };
    auto clear = [&]() {
        F.r.edit(F.a, "Clear " + label + " of " + f.id);
        f.attributes.erase(def.id);
        F.r.changed(F.a);
    };
    if (def.type == "enum" || def.type == "boolean") {
        std::string cur = "-";
        if (fld.has_value()) {
            if (auto* s = std::get_if<std::string>(&*fld.value)) cur = option_name(F.r, def.list.c_str(), *s);
            if (auto* b = std::get_if<bool>(&*fld.value)) cur = *b ? "Yes" : "No";
        }
        const std::string shown = ellipsize(cur.c_str(), ImGui::CalcItemWidth() - ImGui::GetFrameHeight() - 8);
        bool cleared = false;
        if (ImGui::BeginCombo(("##" + p).c_str(), shown.c_str())) {
            if (ImGui::Selectable("-  (not stated)", !fld.has_value()) && fld.has_value()) cleared = true;
            if (def.type == "boolean") {
                if (ImGui::Selectable("Yes")) set(true);
                if (ImGui::Selectable("No")) set(false);
            } else if (const auto* opts = F.r.vocab.list(def.list)) {
                for (const es::VocabOption& o : *opts) {
                    if (ImGui::Selectable((o.name + "##" + o.id).c_str())) set(o.id);
                    F.a.record_widget(("report_option_" + o.id).c_str());
                }
            }
            ImGui::EndCombo();
        }
        F.a.record_widget(("report_" + p).c_str());
        if (cleared) {
            clear();
            return;
        }
    } else if (def.type == "number" || def.type == "integer") {
        char buf[32] = "";
        if (fld.has_value())
            if (auto* d = std::get_if<double>(&*fld.value)) std::snprintf(buf, sizeof buf, "%g", *d);
        if (ImGui::InputTextWithHint(("##" + p).c_str(), def.unit.c_str(), buf, sizeof buf, ImGuiInputTextFlags_CharsDecimal)) {
            char* end = nullptr;
            const double d = std::strtod(buf, &end);
            if (buf[0] == '\0' && fld.has_value()) {
                clear();
                return;
            }
            const bool ok = buf[0] && end && *end == '\0' && std::isfinite(d) && (!def.has_min || d >= def.min) &&
                            (!def.has_max || d <= def.max) && (def.type != "integer" || d == std::floor(d));
            if (ok) set(d);
        }
        F.a.record_widget(("report_" + p).c_str());
    } else {
        std::string v;
        if (fld.has_value())
            if (auto* s = std::get_if<std::string>(&*fld.value)) v = *s;
        v.reserve(64);
        if (input_string(("##" + p).c_str(), v)) {
            if (v.empty()) {
                clear();
                return;
            }
            set(v);
        }
        F.a.record_widget(("report_" + p).c_str());
    }
    if (!def.description.empty()) tooltip(def.description.c_str());
    auto it = f.attributes.find(def.id);
    if (it != f.attributes.end()) {
        if (!it->second.has_value()) f.attributes.erase(it);  // made by operator[] above, never set
        else badge(F, it->second, p);
    }
}

void draw_finding_form(Form& F, es::Finding& f, size_t index) {
    const std::string path = "findings[" + std::to_string(index) + "]";
    ImGui::PushID(f.id.c_str());
    draw_term_combo(F, f, path);
    const es::ReportTerm* term = f.term.has_value() ? F.r.vocab.find_term(*f.term.value) : nullptr;
    // What the term calls for, and any value already there (a changed term drops nothing).
    auto calls = [&](const char* field, bool filled) { return !term || term->calls(field) || filled; };
    if (calls("location_segment", f.location_segment.has_value()))
        option_field(F, "Location", path + ".location_segment", f.location_segment, "segments");
    if (calls("distance_cm", f.distance_cm.has_value()))
        number_field(F, "Distance", path + ".distance_cm", f.distance_cm, 0, 250, "cm");
    if (calls("size_mm", f.size_mm.has_value())) number_field(F, "Size", path + ".size_mm", f.size_mm, 0, 300, "mm");
    if (calls("number", f.number.has_value())) number_field(F, "Number", path + ".number", f.number, 1, 1000, "lesions");
    if (calls("paris", f.paris.has_value())) option_field(F, "Paris", path + ".paris", f.paris, "paris");
    if (calls("nice", f.nice.has_value())) option_field(F, "NICE", path + ".nice", f.nice, "nice");
    if (calls("jnet", f.jnet.has_value())) option_field(F, "JNET", path + ".jnet", f.jnet, "jnet");
    std::vector<const es::ReportAttribute*> attrs;
    if (term)
        for (const std::string& c : term->calls_for)
            if (const es::ReportAttribute* def = F.r.vocab.find_attribute(c)) attrs.push_back(def);
    for (const auto& [id, value] : f.attributes)
        if (const es::ReportAttribute* def = F.r.vocab.find_attribute(id))
            if (std::find(attrs.begin(), attrs.end(), def) == attrs.end()) attrs.push_back(def);
    for (const es::ReportAttribute* def : attrs) draw_attribute(F, f, *def, path);
    // Evidence: each image/annotation; clicking shows it.
    ImGui::AlignTextToFramePadding();
    ImGui::TextDisabled("Evidence");
    const es::ImageLinks links = f.evidence.value_or({});
    if (links.empty()) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
        ImGui::TextWrapped("None: select an annotation, then \"Add it to %s\".", f.id.c_str());
        ImGui::PopStyleColor();
    }
    for (size_t i = 0; i < links.size(); ++i) {
        std::string text = links[i].image;
        if (links[i].annotation_id) {
            es::ImageAnnotations* img = annotation_ui().image(links[i].image);
            const es::Annotation* an = img ? img->find(links[i].annotation_id) : nullptr;
            text += an ? "  " + annotation_ui().label_name(an->label) + " (" + es::annotation_kind_name(an->kind) + ")"
                       : "  (annotation removed)";
        }
        const std::string shown = ellipsize(text.c_str(), ImGui::GetContentRegionAvail().x - 40);
        if (ImGui::Selectable((shown + "##ev" + std::to_string(i)).c_str(), false, 0,
                              ImVec2(ImGui::GetContentRegionAvail().x - 30, 0))) {
            for (int k = 0; k < int(F.a.images.size()); ++k)
                if (F.a.images[size_t(k)]->name == links[i].image && k != F.a.current) F.a.select(k);
            annotation_ui().selected = links[i].annotation_id;
        }
        F.a.record_widget(("report_evidence_" + std::to_string(i)).c_str());
        tooltip_if_shortened(text.c_str(), shown);
        ImGui::SameLine();
        if (ImGui::SmallButton(("x##ev" + std::to_string(i)).c_str())) {
            F.r.edit(F.a, "Remove evidence of " + f.id);
            es::ImageLinks v = links;
            v.erase(v.begin() + long(i));
            if (v.empty()) es::field_clear(f.evidence);
            else es::field_set_user(f.evidence, v, F.r.who(), ReportUi::now());
            F.r.changed(F.a);
            break;
        }
        tooltip("Remove this evidence link (the annotation stays)");
    }
    text_field(F, "Notes", path + ".notes", f.notes);
    ImGui::PopID();
}

void draw_findings(Form& F) {
    ReportUi& r = F.r;
    std::string sel_image;
    uint64_t sel_id = 0;
    const std::string sel_text = selected_annotation_text(F.a, &sel_image, &sel_id);
    std::string note;
    // From annotations.
    if (!sel_text.empty()) {
        const std::string shown = ellipsize(("Selected: " + sel_text).c_str(), ImGui::GetContentRegionAvail().x);
        ImGui::TextDisabled("%s", shown.c_str());
        tooltip_if_shortened(("Selected: " + sel_text).c_str(), shown);
        if (ImGui::Button("New finding from it")) {
            if (r.add_from_annotation(F.a, sel_image, sel_id, &note).empty() || !note.empty()) F.a.messages.notice(note);
        }
        F.a.record_widget("report_finding_from_annotation");
        tooltip("A finding with the annotation's label as its term, the image's location, this annotation as evidence "
                "and a lesion count of 1");
        if (!r.selected_finding.empty() && r.report.find_finding(r.selected_finding)) {
            ImGui::SameLine();
            if (ImGui::Button(("Add it to " + r.selected_finding).c_str()))
                if (!r.add_evidence(F.a, r.selected_finding, sel_image, sel_id, &note)) F.a.messages.notice(note);
            F.a.record_widget("report_add_evidence");
            tooltip("Adds the annotation as evidence of the selected finding; its lesion count follows its lesion annotations");
        }
    } else {
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
        ImGui::TextWrapped("Select an annotation (Select tool) to make it a finding.");
        ImGui::PopStyleColor();
    }
    const auto lesions = r.unreported_lesions(F.a);
    if (!lesions.empty()) {
        if (ImGui::Button(("Findings from " + std::to_string(lesions.size()) + " lesion annotation(s)").c_str())) {
            std::string first;
            for (const auto& [image, id] : lesions) {
                const std::string made = r.add_from_annotation(F.a, image, id, &note);
                if (first.empty()) first = made;
            }
            if (!note.empty()) F.a.messages.notice(note);
            if (!first.empty()) r.show_finding(F.a, first);
        }
        F.a.record_widget("report_findings_from_lesions");
        tooltip("One finding per lesion annotation of the case that no finding links yet");
    }
    if (ImGui::Button("New empty finding")) {
        r.edit(F.a, "New finding");
        es::Finding f;
        f.id = r.report.next_finding_id();
        r.report.findings.push_back(f);
        r.selected_finding = f.id;
        r.changed(F.a);
    }
    F.a.record_widget("report_new_finding");
    // The list.
    for (size_t i = 0; i < r.report.findings.size(); ++i) {
        const es::Finding& f = r.report.findings[i];
        const std::string text = finding_summary(r, f);
        const bool unaccepted = any_unaccepted(f);
        const std::string shown = ellipsize(text.c_str(), ImGui::GetContentRegionAvail().x - (unaccepted ? 20 : 4));
        if (unaccepted) ImGui::PushStyleColor(ImGuiCol_Text, kAiColor);
        if (ImGui::Selectable((shown + "##finding" + f.id).c_str(), r.selected_finding == f.id))
            r.show_finding(F.a, r.selected_finding == f.id ? "" : f.id);
        if (unaccepted) ImGui::PopStyleColor();
        F.a.record_widget(("report_finding_" + f.id).c_str());
        tooltip_if_shortened(text.c_str(), shown);
    }
    // The selected one's form.
    for (size_t i = 0; i < r.report.findings.size(); ++i) {
        if (r.report.findings[i].id != r.selected_finding) continue;
        ImGui::Separator();
        ImGui::Text("Finding %s", r.selected_finding.c_str());
        ImGui::SameLine(ImGui::GetContentRegionAvail().x - 60);
        if (ImGui::SmallButton("Delete")) {
            r.edit(F.a, "Delete finding " + r.selected_finding);
            const std::string id = r.selected_finding;
            r.report.findings.erase(r.report.findings.begin() + long(i));
            for (auto& iv : r.report.interventions)
                if (iv.finding_id == id) iv.finding_id.clear();
            r.selected_finding.clear();
            r.changed(F.a);
            break;
        }
        F.a.record_widget("report_delete_finding");
        draw_finding_form(F, r.report.findings[i], i);
        ImGui::Separator();
        break;
    }
}

void draw_interventions(Form& F) {
    ReportUi& r = F.r;
    for (size_t i = 0; i < r.report.interventions.size(); ++i) {
        es::Intervention& iv = r.report.interventions[i];
        const std::string path = "interventions[" + std::to_string(i) + "]";
        ImGui::PushID(iv.id.c_str());
        ImGui::TextDisabled("%s", iv.id.c_str());
        ImGui::SameLine(ImGui::GetContentRegionAvail().x - 50);
        if (ImGui::SmallButton("Delete")) {
            r.edit(F.a, "Delete intervention " + iv.id);
            r.report.interventions.erase(r.report.interventions.begin() + long(i));
            r.changed(F.a);
            ImGui::PopID();
            break;
        }
        row(F, "Finding", path + ".finding_id");
        const std::string cur = iv.finding_id.empty() ? "-" : iv.finding_id;
        if (ImGui::BeginCombo("##finding", cur.c_str())) {
            if (ImGui::Selectable("-  (none)", iv.finding_id.empty()) && !iv.finding_id.empty()) {
                r.edit(F.a, "Intervention finding");
                r.report.interventions[i].finding_id.clear();
                r.changed(F.a);
            }
            for (const es::Finding& f : r.report.findings) {
                if (ImGui::Selectable(finding_summary(r, f).c_str(), f.id == iv.finding_id) && f.id != iv.finding_id) {
                    r.edit(F.a, "Intervention finding");
                    r.report.interventions[i].finding_id = f.id;
                    r.changed(F.a);
                }
                F.a.record_widget(("report_option_" + f.id).c_str());
            }
            ImGui::EndCombo();
        }
        F.a.record_widget(("report_" + path + ".finding_id").c_str());
        option_field(F, "Method", path + ".method", iv.method, "interventions");
        option_field(F, "Resection", path + ".resection", iv.resection, "resection");
        yes_no_field(F, "Retrieved", path + ".retrieved", iv.retrieved);
        text_field(F, "Specimen pot", path + ".specimen_container", iv.specimen_container);
        ImGui::Separator();
        ImGui::PopID();
    }
    if (ImGui::Button("New intervention")) {
        r.edit(F.a, "New intervention");
        es::Intervention iv;
        iv.id = r.report.next_intervention_id();
        iv.finding_id = r.selected_finding;
        r.report.interventions.push_back(iv);
        r.changed(F.a);
    }
    F.a.record_widget("report_new_intervention");
    if (!r.selected_finding.empty()) {
        ImGui::SameLine();
        ImGui::TextDisabled("(for %s)", r.selected_finding.c_str());
    }
}

// Diagnoses: one per line.
void draw_diagnoses(Form& F) {
    es::Field<es::TextList>& d = F.r.report.diagnoses;
    ImGui::TextUnformatted("Diagnoses (one per line)");
    std::string text;
    for (const std::string& s : d.value_or({})) text += (text.empty() ? "" : "\n") + s;
    text.reserve(64);
    const unsigned id = ImGui::GetID("##diagnoses");
    if (F.r.focus_path == "diagnoses") {
        ImGui::SetScrollHereY(0.3f);
        F.r.focus_path.clear();
    }
    if (input_string("##diagnoses", text, ImGui::GetTextLineHeight() * 3 + 8)) {
        es::TextList lines;
        size_t start = 0;
        while (start <= text.size()) {
            const size_t nl = text.find('\n', start);
            const std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
            lines.push_back(line);
            if (nl == std::string::npos) break;
            start = nl + 1;
        }
        // Blank lines are kept while typing only at the end (the next diagnosis being started).
        while (!lines.empty() && lines.back().empty()) lines.pop_back();
        F.r.edit(F.a, "Type diagnoses", id);
        if (lines.empty()) es::field_clear(d);
        else es::field_set_user(d, lines, F.r.who(), ReportUi::now());
        F.r.changed(F.a);
    }
    if (ImGui::IsItemDeactivated() && F.r.typing_item == id) F.r.typing_item = 0;
    F.a.record_widget("report_diagnoses");
    badge(F, d, "diagnoses");
}

void draw_surveillance(Form& F) {
    ReportUi& r = F.r;
    es::Surveillance& s = r.report.surveillance;
    if (r.rule_tables.empty()) {
        ImGui::TextWrapped("No guideline rule table was loaded; enter the interval yourself.");
    } else {
        if (r.rule_table >= int(r.rule_tables.size())) r.rule_table = 0;
        row(F, "Guideline", "surveillance.guideline");
        const std::string name = r.rule_tables[size_t(r.rule_table)].name;
        const std::string shown = ellipsize(name.c_str(), ImGui::CalcItemWidth() - ImGui::GetFrameHeight() - 8);
        if (ImGui::BeginCombo("##guideline", shown.c_str())) {
            for (int i = 0; i < int(r.rule_tables.size()); ++i) {
                if (ImGui::Selectable(r.rule_tables[size_t(i)].name.c_str(), i == r.rule_table)) r.rule_table = i;
                F.a.record_widget(("report_option_" + r.rule_tables[size_t(i)].id).c_str());
            }
            ImGui::EndCombo();
        }
        F.a.record_widget("report_guideline");
        tooltip_if_shortened(name.c_str(), shown);
        const es::SurveillanceSuggestion sug =
            es::suggest_surveillance(r.report, r.vocab, r.rule_tables[size_t(r.rule_table)]);
        if (sug.matched) {
            const std::string interval = sug.interval_words();
            ImGui::PushStyleColor(ImGuiCol_Text, kEditedColor);
            ImGui::TextWrapped("Suggested: %s%s%s", interval.empty() ? "" : interval.c_str(), interval.empty() ? "" : ". ",
                               sug.text.c_str());
            ImGui::PopStyleColor();
            F.a.record_widget("report_surveillance_suggestion");
            ImGui::PushTextWrapPos(0);
            std::string because;
            for (const std::string& b : sug.because) because += (because.empty() ? "" : ", ") + b;
            if (!because.empty()) ImGui::TextDisabled("Because: %s", because.c_str());
            ImGui::TextDisabled("Source: %s (rule %s)", sug.citation.c_str(), sug.rule_id.c_str());
            ImGui::PopTextWrapPos();
            const bool same = s.confirmed.value_or(false) && s.rule_id.value_or("") == sug.rule_id &&
                              (!sug.min_years || s.interval_years.value_or(-1) == *sug.min_years);
            if (same) {
                ImGui::TextColored(kGoodColor, "Confirmed by %s", s.confirmed.set_by.c_str());
            } else if (ImGui::Button("Confirm this interval")) {
                r.edit(F.a, "Confirm surveillance");
                const std::string who = r.who(), when = ReportUi::now();
                if (sug.min_years) es::field_set_user(s.interval_years, *sug.min_years, who, when);
                es::field_set_user(s.rule_id, sug.rule_id, who, when);
                es::field_set_user(s.confirmed, true, who, when);
                r.changed(F.a);
            }
            F.a.record_widget("report_confirm_surveillance");
            if (!same) tooltip("Records this interval (the shorter end of a range) and its rule as your decision");
        } else {
            ImGui::TextWrapped("No rule applies yet: %s", sug.why.empty() ? "record the findings first." : sug.why.c_str());
        }
    }
    number_field(F, "Interval", "surveillance.interval_years", s.interval_years, 0, 20, "years");
    yes_no_field(F, "Confirmed", "surveillance.confirmed", s.confirmed);
}

void draw_checks(Form& F) {
    ReportUi& r = F.r;
    const std::vector<es::QualityWarning> warnings = report_warnings(F.a, r);
    char title[64];
    std::snprintf(title, sizeof title, "Quality checks (%d)###report_checks", int(warnings.size()));
    if (!section(title, "report_section_checks", F.a)) return;
    if (warnings.empty()) {
        ImGui::TextColored(kGoodColor, "Nothing the quality indicators require is missing.");
        return;
    }
    // A scrolling list of at most ~8 lines, so the form stays in view.
    const float wrap = ImGui::GetContentRegionAvail().x - 14 - ImGui::GetStyle().ScrollbarSize;
    float total = 0;
    for (const es::QualityWarning& w : warnings)
        total += ImGui::CalcTextSize(w.message.c_str(), nullptr, false, wrap).y + ImGui::GetStyle().ItemSpacing.y;
    ImGui::BeginChild("##report_checks_list", ImVec2(0, std::min(total + 4, ImGui::GetTextLineHeightWithSpacing() * 8.5f)));
    for (size_t i = 0; i < warnings.size(); ++i) {
        const es::QualityWarning& w = warnings[i];
        // Wrapped text over a selectable of its height: the whole sentence shows, a click goes to the field.
        std::string text = w.message;
        if (!text.empty()) text[0] = char(std::toupper(static_cast<unsigned char>(text[0])));
        const ImVec2 size = ImGui::CalcTextSize(text.c_str(), nullptr, false, wrap);
        const ImVec2 at = ImGui::GetCursorScreenPos();
        const bool clicked = ImGui::Selectable(("##warn" + std::to_string(i)).c_str(), false, 0, ImVec2(0, size.y));
        ImDrawList* dl = ImGui::GetWindowDrawList();
        const ImU32 col = ImGui::ColorConvertFloat4ToU32(w.blocks_signing ? kAiColor : kWarnColor);
        dl->AddText(at, col, "!");
        dl->AddText(ImGui::GetFont(), ImGui::GetFontSize(), ImVec2(at.x + 12, at.y), col, text.c_str(), nullptr, wrap);
        ImGui::PushStyleColor(ImGuiCol_Text, kWarnColor);
        ImGui::PushTextWrapPos(0);
        if (clicked) {
            r.focus_path = w.path;
            // A finding's field: open that finding.
            if (w.path.rfind("findings[", 0) == 0) {
                const size_t k = size_t(std::atoi(w.path.c_str() + 9));
                if (k < r.report.findings.size()) r.show_finding(F.a, r.report.findings[k].id);
            }
        }
        ImGui::PopTextWrapPos();
        ImGui::PopStyleColor();
        F.a.record_widget(("report_warning_" + std::to_string(i)).c_str());
        tooltip("Click to go to the field");
    }
    ImGui::EndChild();
}

void draw_sign_off(Form& F) {
    ReportUi& r = F.r;
    es::Report& rep = r.report;
    if (rep.status == es::ReportStatus::Final) {
        const es::ReportVersion* v = rep.versions.empty() ? nullptr : &rep.versions.back();
        ImGui::TextColored(kGoodColor, "Final, version %d", rep.version);
        if (v) ImGui::TextWrapped("Signed by %s at %s", v->signed_by.c_str(), v->signed_at.c_str());
        ImGui::TextWrapped("To change it, amend it: the change becomes version %d, signed again.", rep.version + 1);
        row(F, "Reason", "amendment_reason");
        r.amend_reason.reserve(64);
        input_string("##amend_reason", r.amend_reason);
        F.a.record_widget("report_amend_reason");
        if (ImGui::Button("Amend report")) {
            r.edit(F.a, "Amend");  // starts the amendment (version N+1)
            F.r.changed(F.a);
        }
        F.a.record_widget("report_amend");
    } else {
        if (rep.status == es::ReportStatus::Amended) {
            ImGui::TextColored(kWarnColor, "Amendment, version %d (not signed yet)", rep.version);
            row(F, "Reason", "amendment_reason");
            std::string reason = rep.amendment_reason;
            reason.reserve(64);
            const unsigned id = ImGui::GetID("##amendment_reason");
            if (input_string("##amendment_reason", reason)) {
                r.edit(F.a, "Amendment reason", id);
                rep.amendment_reason = reason;
                r.changed(F.a);
            }
            F.a.record_widget("report_amendment_reason");
        } else {
            ImGui::TextDisabled("Draft, version %d", rep.version);
        }
        // The endoscopist (else your name) until typed over.
        if (!r.sign_name_typed) r.sign_name = rep.header.endoscopist.value_or(r.user_name);
        row(F, "Signed by", "sign_name");
        r.sign_name.reserve(64);
        if (input_string("##sign_name", r.sign_name)) r.sign_name_typed = !r.sign_name.empty();
        F.a.record_widget("report_sign_name");
        int unaccepted = 0;
        auto count = [&](const auto& f) { unaccepted += f.has_value() && f.source == es::ValueSource::Ai && !f.accepted; };
        count(rep.header.procedure); count(rep.header.date); count(rep.header.sedation); count(rep.header.indications);
        count(rep.extent.landmarks_reached); count(rep.extent.caecal_intubation); count(rep.extent.incomplete_reason);
        count(rep.bowel_preparation.bbps_right); count(rep.bowel_preparation.bbps_transverse); count(rep.bowel_preparation.bbps_left);
        count(rep.bowel_preparation.withdrawal_time_min); count(rep.adverse_events); count(rep.diagnoses);
        count(rep.impression); count(rep.recommendations); count(rep.surveillance.interval_years);
        for (const es::Finding& f : rep.findings) unaccepted += any_unaccepted(f) ? 1 : 0;
        if (unaccepted) ImGui::TextColored(kAiColor, "%d AI value(s) not accepted yet: accept or change them before signing.", unaccepted);
        ImGui::BeginDisabled(unaccepted > 0 || r.sign_name.empty());
        if (ImGui::Button(rep.status == es::ReportStatus::Amended ? "Sign amendment" : "Sign report")) {
            std::string error;
            es::Report signed_report = rep;
            if (es::report_sign(signed_report, r.sign_name, ReportUi::now(), &error)) {
                r.edit(F.a, "Sign");
                rep = std::move(signed_report);
                // A signed version is frozen: its edits are not undone any more (amend it instead).
                r.undo_steps.clear();
                r.redo_steps.clear();
                r.changed(F.a);
                F.a.messages.notice("The report was signed: version " + std::to_string(rep.version) + " is final.");
            } else {
                F.a.messages.error("The report was not signed.", error);
            }
        }
        ImGui::EndDisabled();
        F.a.record_widget("report_sign");
    }
    if (!rep.versions.empty()) {
        ImGui::TextDisabled("Versions (click one to see it as signed in the preview)");
        for (const es::ReportVersion& v : rep.versions) {
            std::string line = "v" + std::to_string(v.number) + "  " + v.signed_at + "  " + v.signed_by;
            if (!v.reason.empty()) line += "  (" + v.reason + ")";
            const std::string shown = ellipsize(line.c_str(), ImGui::GetContentRegionAvail().x);
            if (ImGui::Selectable((shown + "##version" + std::to_string(v.number)).c_str(), r.preview_version == v.number))
                r.preview_version = r.preview_version == v.number ? 0 : v.number;
            F.a.record_widget(("report_version_" + std::to_string(v.number)).c_str());
            tooltip_if_shortened(line.c_str(), shown);
        }
    }
}

void draw_exports(Form& F) {
    const float w = (ImGui::GetContentRegionAvail().x - ImGui::GetStyle().ItemSpacing.x * 2) / 3;
    struct Ex { const char* label; const char* action; const char* widget; const char* help; };
    const Ex ex[] = {
        {"PDF", "export_pdf", "report_export_pdf", "A4 PDF with the sections, key images with their annotations, signature and version"},
        {"FHIR", "export_fhir", "report_export_fhir", "HL7 FHIR R4 Bundle: DiagnosticReport, Observations, Procedure, Media"},
        {"HTML", "export_html", "report_export_html", "A self-contained web page (images inside)"},
        {"Text file", "export_text", "report_export_text", "Plain text, for a hospital system"},
        {"Copy text", "copy_text", "report_copy_text", "The plain text on the clipboard, to paste"},
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; ++i) {
        if (i % 3) ImGui::SameLine();
        if (ImGui::Button(ex[i].label, ImVec2(w, 0))) report_js_action(ex[i].action);
        F.a.record_widget(ex[i].widget);
        tooltip(ex[i].help);
    }
}

// Outlines of the selected finding's evidence on the image in view.
void draw_evidence_overlay(App& a, ReportUi& r) {
    const es::Finding* f = r.selected_finding.empty() ? nullptr : r.report.find_finding(r.selected_finding);
    ViewerImage* v = a.current_image();
    if (!f || !v) return;
    es::ImageAnnotations* img = annotation_ui().image(v->name);
    ImDrawList* dl = ImGui::GetBackgroundDrawList();
    const Rect& vr = a.viewer_rect;
    dl->PushClipRect(ImVec2(vr.x, vr.y), ImVec2(vr.x + vr.w, vr.y + vr.h), true);
    for (const es::ImageLink& l : f->evidence.value_or({})) {
        if (l.image != v->name) continue;
        es::Box b{0, 0, double(v->pixels.width), double(v->pixels.height)};
        if (l.annotation_id) {
            const es::Annotation* an = img ? img->find(l.annotation_id) : nullptr;
            if (!an) continue;
            b = es::annotation_bounds(*an);
        }
        const ImVec2 p0(float(a.view.to_screen_x(b.x)) - 4, float(a.view.to_screen_y(b.y)) - 4);
        const ImVec2 p1(float(a.view.to_screen_x(b.x + b.w)) + 4, float(a.view.to_screen_y(b.y + b.h)) + 4);
        dl->AddRect(p0, p1, 0xFF000000u, 3.0f, 0, 5.0f);
        dl->AddRect(p0, p1, 0xFF30E0FFu, 3.0f, 0, 2.5f);
        const ImVec2 ts = ImGui::CalcTextSize(f->id.c_str());
        dl->AddRectFilled(ImVec2(p0.x, p0.y - ts.y - 4), ImVec2(p0.x + ts.x + 8, p0.y), 0xE030E0FFu, 2.0f);
        dl->AddText(ImVec2(p0.x + 4, p0.y - ts.y - 2), 0xFF000000u, f->id.c_str());
    }
    dl->PopClipRect();
}

}  // namespace

void draw_report_tab(App& a) {
    ReportUi& r = report_ui();
    if (!r.vocab_ready) {
        ImGui::TextWrapped("Loading the report vocabularies...");
        return;
    }
    Form F{a, r};
    F.label_w = std::clamp(ImGui::GetContentRegionAvail().x * 0.34f, 64.0f, 130.0f);
    draw_evidence_overlay(a, r);

    // Who is writing, status, undo.
    ImGui::AlignTextToFramePadding();
    text_ellipsized("Your name", F.label_w - 6);
    ImGui::SameLine(F.label_w);
    ImGui::SetNextItemWidth(-1);
    r.user_name.reserve(64);
    if (input_string("##report_user", r.user_name)) {
        EM_ASM({ if (Module.report && Module.report.userName) Module.report.userName(UTF8ToString($0)); }, r.user_name.c_str());
    }
    a.record_widget("report_user_name");
    tooltip("Who sets the values you enter (kept in this browser). Empty: the endoscopist in the header.");
    ImGui::BeginDisabled(!r.can_undo());
    if (ImGui::Button("Undo")) r.undo(a);
    ImGui::EndDisabled();
    a.record_widget("report_undo");
    if (r.can_undo()) tooltip(("Undo: " + r.undo_steps.back().what).c_str());
    ImGui::SameLine();
    ImGui::BeginDisabled(!r.can_redo());
    if (ImGui::Button("Redo")) r.redo(a);
    ImGui::EndDisabled();
    a.record_widget("report_redo");
    if (r.can_redo()) tooltip(("Redo: " + r.redo_steps.back().what).c_str());
    ImGui::SameLine();
    const char* status = r.report.status == es::ReportStatus::Final ? "Final" :
                         r.report.status == es::ReportStatus::Amended ? "Amendment" : "Draft";
    ImGui::TextDisabled("%s v%d", status, r.report.version);

    draw_report_draft(a);  // Draft with AI (panel_report_draft.cpp)
    draw_checks(F);
    const bool locked = r.report.status == es::ReportStatus::Final;
    if (locked) ImGui::TextColored(kGoodColor, "Signed: amend it (Sign-off) to change it.");
    ImGui::BeginDisabled(locked);
    if (section("Header", "report_section_header", a)) draw_header(F);
    if (section("Extent", "report_section_extent", a)) draw_extent(F);
    if (section("Bowel preparation", "report_section_preparation", a)) draw_bowel_preparation(F);
    char title[64];
    std::snprintf(title, sizeof title, "Findings (%d)###report_findings", int(r.report.findings.size()));
    if (section(title, "report_section_findings", a)) draw_findings(F);
    if (section("Interventions", "report_section_interventions", a)) draw_interventions(F);
    if (section("Adverse events", "report_section_adverse", a))
        options_field(F, "Adverse events", "adverse_events", r.report.adverse_events, "adverse_events");
    if (section("Diagnoses and impression", "report_section_diagnoses", a)) {
        draw_diagnoses(F);
        text_field(F, "Impression", "impression", r.report.impression, ImGui::GetTextLineHeight() * 4 + 8);
    }
    if (section("Recommendations", "report_section_recommendations", a))
        text_field(F, "Recommendations", "recommendations", r.report.recommendations, ImGui::GetTextLineHeight() * 3 + 8);
    if (section("Surveillance", "report_section_surveillance", a)) draw_surveillance(F);
    ImGui::EndDisabled();
    if (section("Sign-off and versions", "report_section_sign", a)) draw_sign_off(F);
    if (section("Export", "report_section_export", a)) draw_exports(F);
    if (section("Preview", "report_section_preview", a)) {
        std::string text;
        es::Report signed_version;
        std::string error;
        if (r.preview_version > 0 && es::report_signed_version(r.report, r.preview_version, r.vocab, &signed_version, &error)) {
            ImGui::TextColored(kGoodColor, "Version %d as signed", r.preview_version);
            ImGui::SameLine();
            if (ImGui::SmallButton("Show the current report")) r.preview_version = 0;
            text = es::report_text(signed_version, r.vocab);
        } else {
            r.preview_version = 0;
            text = es::report_text(r.report, r.vocab);
        }
        ImGui::PushStyleColor(ImGuiCol_ChildBg, ImVec4(0.1f, 0.1f, 0.11f, 1.0f));
        ImGui::BeginChild("##report_preview", ImVec2(0, ImGui::GetTextLineHeightWithSpacing() * 16), true);
        ImGui::PushTextWrapPos(0);
        ImGui::TextUnformatted(text.c_str());
        ImGui::PopTextWrapPos();
        ImGui::EndChild();
        ImGui::PopStyleColor();
        a.record_widget("report_preview");
    }
}

}  // namespace esui
