// report_state.cpp: the case's report in the app (report_ui.h): edits with
// undo, amendments, the saved form, findings made from annotations.
#include <emscripten/emscripten.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "annotation/annotation.h"
#include "annotation/lesion_count.h"
#include "annotation_ui.h"
#include "app.h"
#include "report/report_json.h"
#include "report_ui.h"

namespace esui {

ReportUi& report_ui() {
    static ReportUi instance;
    return instance;
}

std::string ReportUi::who() const {
    if (!user_name.empty()) return user_name;
    if (report.header.endoscopist.has_value() && !report.header.endoscopist.value->empty())
        return *report.header.endoscopist.value;
    return "user";
}

std::string ReportUi::now() {
    const double ms = EM_ASM_DOUBLE({ return Date.now(); });
    const std::time_t t = std::time_t(ms / 1000.0);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

void ReportUi::edit(App& a, const std::string& what, unsigned typing) {
    if (typing == 0 || typing != typing_item) {
        undo_steps.push_back({what, es::report_to_json(report)});
        if (undo_steps.size() > kMaxUndo) undo_steps.erase(undo_steps.begin());
        redo_steps.clear();
    }
    typing_item = typing;
    if (report.status == es::ReportStatus::Final) {
        // A change to a signed report is an amendment (version N+1), signed again.
        es::report_begin_amendment(report, amend_reason);
        amend_reason.clear();
        if (what != "Amend")
            a.messages.notice("The report was signed, so this change starts amendment (version " +
                          std::to_string(report.version) + "); sign it again when it is complete.");
    }
    a.wake();
}

void ReportUi::changed(App& a) {
    a.wake();
    // The report must stay readable (a reload reads it back with the same
    // checks): a value the reader would refuse is not kept.
    const std::string text = es::report_to_json(report);
    es::Report check;
    std::string error;
    if (!es::report_from_json(text, vocab, &check, &error)) {
        es::Report good;
        std::string ignored;
        if (!last_good.empty() && es::report_from_json(last_good, vocab, &good, &ignored)) report = std::move(good);
        if (!undo_steps.empty() && undo_steps.back().before == last_good) undo_steps.pop_back();
        typing_item = 0;
        last_error = error;
        a.messages.error("That value was not kept: it is not valid in a report.", error);
        return;
    }
    last_good = text;
    if (restoring) return;
    ++saves_requested;
    EM_ASM({ if (Module.report && Module.report.changed) Module.report.changed(); });
}

bool ReportUi::undo(App& a) {
    if (undo_steps.empty()) return false;
    es::Report before;
    std::string error;
    if (!es::report_from_json(undo_steps.back().before, vocab, &before, &error)) {
        a.messages.error("Undo did not work; the report is as it was.", error);
        return false;
    }
    redo_steps.push_back({undo_steps.back().what, es::report_to_json(report)});
    undo_steps.pop_back();
    report = std::move(before);
    typing_item = 0;
    if (!selected_finding.empty() && !report.find_finding(selected_finding)) selected_finding.clear();
    changed(a);
    return true;
}

bool ReportUi::redo(App& a) {
    if (redo_steps.empty()) return false;
    es::Report after;
    std::string error;
    if (!es::report_from_json(redo_steps.back().before, vocab, &after, &error)) {
        a.messages.error("Redo did not work; the report is as it was.", error);
        return false;
    }
    undo_steps.push_back({redo_steps.back().what, es::report_to_json(report)});
    redo_steps.pop_back();
    report = std::move(after);
    typing_item = 0;
    if (!selected_finding.empty() && !report.find_finding(selected_finding)) selected_finding.clear();
    changed(a);
    return true;
}

std::string ReportUi::document_json() const { return es::report_to_json(report); }

bool ReportUi::load_document(App& a, const std::string& json, std::string* error) {
    es::Report r;
    if (!es::report_from_json(json, vocab, &r, error)) return false;
    report = std::move(r);
    last_good = es::report_to_json(report);
    undo_steps.clear();
    redo_steps.clear();
    typing_item = 0;
    selected_finding.clear();
    preview_version = 0;
    a.wake();
    return true;
}

// {"undo": [{"what", "before"}], "redo": [...]}
std::string ReportUi::history_json() const {
    nlohmann::json j;
    auto list = [](const std::vector<Step>& steps) {
        auto arr = nlohmann::json::array();
        for (const Step& s : steps) arr.push_back({{"what", s.what}, {"before", s.before}});
        return arr;
    };
    j["undo"] = list(undo_steps);
    j["redo"] = list(redo_steps);
    return j.dump();
}

bool ReportUi::load_history(const std::string& json, std::string* error) {
    nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        *error = "the report's undo history is not JSON";
        return false;
    }
    std::vector<Step> u, r;
    for (auto [key, out] : {std::pair<const char*, std::vector<Step>*>{"undo", &u}, {"redo", &r}}) {
        if (!j.contains(key)) continue;
        if (!j[key].is_array() || j[key].size() > kMaxUndo) {
            *error = std::string("the report's undo history: ") + key + " is not a list of at most 100 steps";
            return false;
        }
        for (const auto& s : j[key]) {
            if (!s.is_object() || !s.contains("what") || !s["what"].is_string() || !s.contains("before") ||
                !s["before"].is_string()) {
                *error = std::string("the report's undo history: a step of ") + key + " is not {what, before}";
                return false;
            }
            out->push_back({s["what"].get<std::string>(), s["before"].get<std::string>()});
        }
    }
    undo_steps = std::move(u);
    redo_steps = std::move(r);
    typing_item = 0;
    return true;
}

void ReportUi::clear() {
    report = es::Report();
    last_good.clear();
    undo_steps.clear();
    redo_steps.clear();
    typing_item = 0;
    selected_finding.clear();
    focus_path.clear();
    amend_reason.clear();
    preview_version = 0;
}

bool ReportUi::empty() const { return report == es::Report(); }

namespace {

std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// The label set that defines `label` ("" when none does).
std::string label_set_of(const std::string& label) {
    for (const es::LabelSet& s : annotation_ui().label_sets)
        if (s.find_label(label)) return s.id;
    return "";
}

// The vocabulary's segment for the case's location text of an image
// ("sigmoid colon" -> "sigmoid"), matched on the segment's id or name.
std::string segment_for_image(const App& a, const es::ReportVocabulary& vocab, const std::string& image) {
    const std::vector<es::VocabOption>* segments = vocab.list("segments");
    if (!segments) return "";
    for (const es::CaseImage& ci : a.current_case.images) {
        if (ci.file != image || ci.location.empty()) continue;
        const std::string loc = lower(ci.location);
        for (const es::VocabOption& o : *segments)
            if (lower(o.name) == loc || lower(o.id) == loc) return o.id;
        for (const es::VocabOption& o : *segments) {
            const std::string n = lower(o.name);
            if (!n.empty() && (loc.find(n) != std::string::npos || n.find(loc) != std::string::npos)) return o.id;
        }
    }
    return "";
}

const es::Annotation* find_annotation(const std::string& image, uint64_t id) {
    es::ImageAnnotations* img = annotation_ui().image(image);
    return img ? img->find(id) : nullptr;
}

bool is_lesion(const es::Annotation& an) { return es::is_lesion_label(annotation_ui().label_sets, an.label); }

}  // namespace

std::string ReportUi::add_from_annotation(App& a, const std::string& image, uint64_t annotation_id, std::string* note) {
    const es::Annotation* an = find_annotation(image, annotation_id);
    if (!an) {
        *note = "That annotation no longer exists.";
        return "";
    }
    const es::LabelTermMapping* m = vocab.map_label(label_set_of(an->label), an->label);
    if (!m) m = vocab.map_label("", an->label);  // the same label id in another set
    const std::string who_now = who(), when = now();
    es::ImageLink link;
    link.image = image;
    link.annotation_id = annotation_id;
    if (m && !m->landmark.empty()) {
        edit(a, "Caecal evidence from annotation");
        link.landmark = m->landmark;
        es::ImageLinks links = report.extent.caecal_evidence.value_or({});
        if (std::find(links.begin(), links.end(), link) == links.end()) links.push_back(link);
        es::field_set_user(report.extent.caecal_evidence, links, who_now, when);
        es::TextList reached = report.extent.landmarks_reached.value_or({});
        if (vocab.has("landmarks", m->landmark) &&
            std::find(reached.begin(), reached.end(), m->landmark) == reached.end()) {
            reached.push_back(m->landmark);
            es::field_set_user(report.extent.landmarks_reached, reached, who_now, when);
        }
        *note = "The annotation shows a landmark (" + m->landmark + "): it was added to the extent as caecal evidence.";
        changed(a);
        return "";
    }
    edit(a, "Finding from annotation");
    es::Finding f;
    f.id = report.next_finding_id();
    if (m && !m->term.empty()) {
        es::field_set_user(f.term, m->term, who_now, when);
        for (const auto& [attr, text] : m->attributes) {
            const es::ReportAttribute* def = vocab.find_attribute(attr);
            es::AttributeValue v = text;
            if (def && (def->type == "number" || def->type == "integer")) {
                try { v = std::stod(text); } catch (...) { continue; }
            } else if (def && def->type == "boolean") {
                v = text == "true";
            }
            es::field_set_user(f.attributes[attr], v, who_now, when);
        }
    } else {
        *note = "There is no report term for the label \"" + annotation_ui().label_name(an->label) +
                "\": choose the finding's term.";
    }
    const std::string segment = segment_for_image(a, vocab, image);
    if (!segment.empty()) es::field_set_user(f.location_segment, segment, who_now, when);
    es::field_set_user(f.number, 1, who_now, when);
    es::field_set_user(f.evidence, es::ImageLinks{link}, who_now, when);
    report.findings.push_back(f);
    selected_finding = f.id;
    changed(a);
    return f.id;
}

bool ReportUi::add_evidence(App& a, const std::string& finding_id, const std::string& image, uint64_t annotation_id,
                            std::string* note) {
    es::Finding* f = report.find_finding(finding_id);
    if (!f || !find_annotation(image, annotation_id)) {
        *note = "The finding or the annotation no longer exists.";
        return false;
    }
    es::ImageLinks links = f->evidence.value_or({});
    es::ImageLink link;
    link.image = image;
    link.annotation_id = annotation_id;
    if (std::find(links.begin(), links.end(), link) != links.end()) {
        *note = "That annotation is already evidence of " + finding_id + ".";
        return false;
    }
    edit(a, "Evidence added to " + finding_id);
    f = report.find_finding(finding_id);
    links.push_back(link);
    const std::string who_now = who(), when = now();
    es::field_set_user(f->evidence, links, who_now, when);
    int lesions = 0;
    for (const es::ImageLink& l : links)
        if (const es::Annotation* an = find_annotation(l.image, l.annotation_id)) lesions += is_lesion(*an) ? 1 : 0;
    if (lesions > 0) es::field_set_user(f->number, lesions, who_now, when);
    changed(a);
    return true;
}

std::vector<std::pair<std::string, uint64_t>> ReportUi::unreported_lesions(App& a) const {
    std::vector<std::pair<std::string, uint64_t>> out;
    auto linked = [&](const std::string& image, uint64_t id) {
        for (const es::Finding& f : report.findings)
            for (const es::ImageLink& l : f.evidence.value_or({}))
                if (l.image == image && l.annotation_id == id) return true;
        return false;
    };
    // In the order of the case's images.
    for (const auto& v : a.images) {
        es::ImageAnnotations* img = annotation_ui().image(v->name);
        if (!img) continue;
        for (const es::Annotation& an : img->items)
            if (is_lesion(an) && !linked(img->image, an.id)) out.emplace_back(img->image, an.id);
    }
    return out;
}

void ReportUi::show_finding(App& a, const std::string& id) {
    selected_finding = id;
    const es::Finding* f = report.find_finding(id);
    if (!f) return;
    for (const es::ImageLink& l : f->evidence.value_or({})) {
        for (int i = 0; i < int(a.images.size()); ++i) {
            if (a.images[size_t(i)]->name != l.image) continue;
            if (i != a.current) a.select(i);
            annotation_ui().selected = l.annotation_id;
            a.wake();
            return;
        }
    }
}

std::vector<es::QualityWarning> report_warnings(const App& a, const ReportUi& r) {
    std::vector<std::string> names;
    for (const auto& v : a.images) names.push_back(v->name);
    return es::report_quality_warnings(r.report, r.vocab, &names);
}

void report_js_action(const char* name, const std::string& arg) {
    EM_ASM({ if (Module.report && Module.report.action) Module.report.action(UTF8ToString($0), UTF8ToString($1)); },
           name, arg.c_str());
}

}  // namespace esui
