// agent_accept.cpp: a step's output taken into the case by the clinician.
//   - Into the annotations: ground's boxes become box annotations (source
//     "assistant", as the chat's accepted boxes), segment's masks become mask
//     annotations (source "sam"); the label is the one the step was about
//     (ground's text, or the ground step a segment call followed) when a label
//     set has it, else the label chosen in the Image tab. All of a step's
//     annotations are one undoable step; those already in the annotations
//     (same box or same mask) are not added twice.
//   - Into the report: a text output (describe_image, describe_region,
//     compare_images) becomes the impression or a finding's notes; drafted
//     fields (fill_report_fields) go in through the core's draft rules
//     (src/report/report_draft.h), so only empty fields are filled and every
//     value is checked against the vocabulary and the field's limits. Either
//     way the values are AI values, not accepted, marked with the model, until
//     the clinician accepts them in the Report tab (as Draft with AI leaves them).
// After either, JS is told `accepted {step, into}` so the trace can record it.
#include <imgui.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "agent_ui.h"
#include "annotation_ui.h"
#include "app.h"
#include "report/report_draft.h"
#include "report_ui.h"

namespace esui {

using nlohmann::json;

namespace {

std::string lower_trim(const std::string& s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    std::string out = s.substr(b, e - b);
    for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// The label id a label set gives to `text` ("polyp" -> "polyps" in HyperKvasir),
// the chosen set first; "" when none does.
std::string label_for_text(const AnnotationUi& ann, const std::string& text) {
    const std::string t = lower_trim(text);
    if (t.empty()) return "";
    std::vector<std::string> forms = {t};
    if (t.size() > 1 && t.back() == 's') forms.push_back(t.substr(0, t.size() - 1));
    else forms.push_back(t + "s");
    auto search = [&](const es::LabelSet& s) -> std::string {
        for (const std::string& f : forms)
            for (const es::LabelDef& l : s.labels)
                if (lower_trim(l.id) == f || lower_trim(l.name) == f) return l.id;
        return "";
    };
    if (ann.label_set >= 0 && ann.label_set < int(ann.label_sets.size()))
        if (std::string id = search(ann.label_sets[size_t(ann.label_set)]); !id.empty()) return id;
    for (const es::LabelSet& s : ann.label_sets)
        if (std::string id = search(s); !id.empty()) return id;
    return "";
}

bool same_box(const double a[4], const double b[4]) {
    for (int i = 0; i < 4; ++i)
        if (std::abs(a[i] - b[i]) > 0.5) return false;
    return true;
}

// The ground step a segment step followed: the latest kept ground step
// before it whose boxes include one the segment call was given, else the
// latest kept ground step before it.
const json* ground_before(const AgentUi& ui, int step) {
    const json* s = agent_step(ui, step);
    const json* latest = nullptr;
    for (int i = step - 1; i >= 0; --i) {
        const json* g = agent_step(ui, i);
        if (!g || jstr(*g, "tool") != "ground" || agent_step_output(*g).is_null()) continue;
        if (!latest) latest = g;
        for (const json& given : jarr(jfield(*s, "arguments"), "boxes")) {
            double a[4], b[4];
            if (!agent_box(given, a)) continue;
            for (const json& found : jarr(agent_step_output(*g), "boxes"))
                if (agent_box(jfield(found, "box"), b) && same_box(a, b)) return g;
        }
    }
    return latest;
}

// The annotations a step's output makes, on the trace's image (or none, with why).
std::vector<es::Annotation> annotations_of(App& a, AgentUi& ui, int step, int* image_index, std::string* why) {
    std::vector<es::Annotation> out;
    *image_index = agent_trace_image_index(a, ui);
    const json* s = agent_step(ui, step);
    if (!s) return out;
    if (*image_index < 0) {
        *why = "The trace's image (" + agent_image_name_of_key(agent_trace_image_key(ui)) + ") is not open in this case.";
        return out;
    }
    const ViewerImage& img = *a.images[size_t(*image_index)];
    const int w = img.pixels.width, h = img.pixels.height;
    AnnotationUi& ann = annotation_ui();
    bool matched = false;
    const std::string label = agent_step_label(a, ui, step, &matched);
    const std::string tool = jstr(*s, "tool");
    const json& output = agent_step_output(*s);
    if (tool == "ground") {
        for (const json& x : jarr(output, "boxes")) {
            double b[4];
            if (!agent_box(jfield(x, "box"), b)) continue;
            es::Annotation an;
            an.kind = es::AnnotationKind::Box;
            const std::string own = label_for_text(ann, jstr(x, "label"));
            an.label = own.empty() ? label : own;
            an.opacity = ann.default_opacity;
            an.source = "assistant";
            const double x1 = std::clamp(std::min(b[0], b[2]), 0.0, double(w)), x2 = std::clamp(std::max(b[0], b[2]), 0.0, double(w));
            const double y1 = std::clamp(std::min(b[1], b[3]), 0.0, double(h)), y2 = std::clamp(std::max(b[1], b[3]), 0.0, double(h));
            an.box = {x1, y1, x2 - x1, y2 - y1};
            if (an.box.w < 1 || an.box.h < 1) continue;
            out.push_back(std::move(an));
        }
    } else if (tool == "segment") {
        const AgentStepMasks& m = agent_step_masks(ui, step, w, h);
        for (const es::Mask& mk : m.masks) {
            if (mk.empty() || mk.count() == 0) continue;
            es::Annotation an;
            an.kind = es::AnnotationKind::Mask;
            an.label = label;
            an.opacity = ann.default_opacity;
            an.source = "sam";
            an.mask = mk;
            out.push_back(std::move(an));
        }
    }
    if (out.empty() && why->empty()) *why = "This step has no boxes or masks to add.";
    return out;
}

bool already_annotated(const es::ImageAnnotations* img, const es::Annotation& an) {
    if (!img) return false;
    for (const es::Annotation& x : img->items) {
        if (x.kind != an.kind) continue;
        if (an.kind == es::AnnotationKind::Box) {
            const double a[4] = {x.box.x, x.box.y, x.box.x2(), x.box.y2()}, b[4] = {an.box.x, an.box.y, an.box.x2(), an.box.y2()};
            if (same_box(a, b)) return true;
        } else if (an.kind == es::AnnotationKind::Mask && x.mask == an.mask) {
            return true;
        }
    }
    return false;
}

// The model a step's values are credited to in the report.
std::string model_of(const AgentUi& ui, const json& step) {
    std::string m = jstr(step, "model");
    if (m.empty()) m = jstr(ui.state, "model");
    if (m.empty()) m = jstr(jfield(ui.state, "header"), "model");
    return m.empty() ? std::string("case agent") : m;
}

}  // namespace

std::string agent_step_label(App&, const AgentUi& ui, int step, bool* matched) {
    AnnotationUi& ann = annotation_ui();
    const json* s = agent_step(ui, step);
    std::string text;
    if (s && jstr(*s, "tool") == "ground") text = jstr(jfield(*s, "arguments"), "text");
    if (s && jstr(*s, "tool") == "segment")
        if (const json* g = ground_before(ui, step)) text = jstr(jfield(*g, "arguments"), "text");
    const std::string id = label_for_text(ann, text);
    *matched = !id.empty();
    return id.empty() ? ann.label : id;
}

int agent_annotation_candidates(App& a, AgentUi& ui, int step, int* already) {
    int index = -1;
    std::string why;
    const std::vector<es::Annotation> list = annotations_of(a, ui, step, &index, &why);
    *already = 0;
    if (list.empty()) return 0;
    const es::ImageAnnotations* img = annotation_ui().image(a.images[size_t(index)]->name);
    int fresh = 0;
    for (const es::Annotation& an : list) (already_annotated(img, an) ? *already : fresh) += 1;
    return fresh;
}

bool agent_accept_annotations(App& a, AgentUi& ui, int step) {
    int index = -1;
    std::string why;
    std::vector<es::Annotation> list = annotations_of(a, ui, step, &index, &why);
    if (list.empty()) {
        a.messages.error("Nothing was added to the annotations. " + why);
        return false;
    }
    const ViewerImage& v = *a.images[size_t(index)];
    AnnotationUi& ann = annotation_ui();
    es::ImageAnnotations& img = ann.ensure_image(v.name, v.pixels.width, v.pixels.height);
    std::vector<es::AnnotationCommand> adds;
    uint64_t id = img.next_id;
    std::string label;
    for (es::Annotation& an : list) {
        if (already_annotated(&img, an)) continue;
        an.id = id++;
        std::string error;
        if (!es::validate_annotation(an, img.width, img.height, &error)) {
            a.messages.error("The step's output could not be added to the annotations: it does not fit this image.", error);
            return false;
        }
        label = an.label;
        adds.push_back(es::AnnotationCommand::add(img.image, std::move(an), "Add"));
    }
    if (adds.empty()) {
        a.messages.notice("Step " + std::to_string(step + 1) + "'s output is already in the annotations.");
        return false;
    }
    const int n = int(adds.size());
    const json* s = agent_step(ui, step);
    const std::string what = "Accept agent step " + std::to_string(step + 1) + " (" + (s ? jstr(*s, "tool") : "") + ")";
    if (!ann.apply(a, es::AnnotationCommand::batch(std::move(adds), what))) return false;
    a.messages.notice("Added " + std::to_string(n) + (n == 1 ? " annotation" : " annotations") + " from agent step " +
                      std::to_string(step + 1) + " as \"" + ann.label_name(label) + "\" on " + v.name +
                      ". Check them against the image; Undo takes them out again.");
    agent_action("accepted", {{"step", step}, {"into", "annotations"}, {"count", n}});
    return true;
}

bool agent_step_has_report_text(const json& step) {
    const std::string tool = jstr(step, "tool");
    return (tool == "describe_image" || tool == "describe_region" || tool == "compare_images") &&
           !jstr(agent_step_output(step), "text").empty();
}

bool agent_step_has_report_fields(const json& step) {
    return jstr(step, "tool") == "fill_report_fields" && !jarr(agent_step_output(step), "applied").empty();
}

std::vector<std::pair<std::string, std::string>> agent_report_text_targets(App&) {
    const ReportUi& r = report_ui();
    std::vector<std::pair<std::string, std::string>> out = {{"impression", "Impression"}};
    for (const es::Finding& f : r.report.findings) {
        std::string name = f.id + " notes";
        if (f.term.has_value()) {
            const es::ReportTerm* t = r.vocab.find_term(*f.term.value);
            name += " (" + (t && !t->name.empty() ? t->name : *f.term.value) + ")";
        }
        out.emplace_back("finding:" + f.id, name);
    }
    return out;
}

namespace {

// The questions the report's empty fields have now, in the scope of a fill_report_fields step.
std::vector<es::DraftQuestion> open_questions(App& a, AgentUi& ui, const json& step) {
    const ReportUi& r = report_ui();
    es::DraftScope scope;
    for (const json& f : jarr(jfield(step, "arguments"), "findings"))
        if (f.is_string()) scope.findings.push_back(f.get<std::string>());
    const int at = agent_trace_image_index(a, ui);
    if (at >= 0) scope.images.push_back(a.images[size_t(at)]->name);
    return es::draft_questions(r.report, r.vocab, scope);
}

}  // namespace

int agent_report_field_candidates(App& a, AgentUi& ui, int step) {
    const json* s = agent_step(ui, step);
    if (!s || !agent_step_has_report_fields(*s) || !report_ui().vocab_ready) return 0;
    const std::vector<es::DraftQuestion> questions = open_questions(a, ui, *s);
    int n = 0;
    for (const json& f : jarr(agent_step_output(*s), "applied")) {
        const std::string path = jstr(f, "path");
        n += std::any_of(questions.begin(), questions.end(), [&](const es::DraftQuestion& q) { return q.path == path; });
    }
    return n;
}

bool agent_accept_report(App& a, AgentUi& ui, int step, const std::string& target) {
    ReportUi& r = report_ui();
    const json* s = agent_step(ui, step);
    if (!s) return false;
    if (!r.vocab_ready) {
        a.messages.error("The report is not ready yet (its vocabularies are loading); try again in a moment.");
        return false;
    }
    if (r.report.status == es::ReportStatus::Final) {
        a.messages.error("The report is signed: start an amendment (Report tab, Sign-off) before adding the agent's text.");
        return false;
    }
    const std::string model = model_of(ui, *s);
    const std::string now = ReportUi::now();
    const std::string step_name = "agent step " + std::to_string(step + 1);
    if (agent_step_has_report_text(*s)) {
        const std::string text = es::draft_bound_text(jstr(agent_step_output(*s), "text"), 2000);
        es::Report changed = r.report;
        es::Field<std::string>* field = nullptr;
        std::string where;
        if (target == "impression") {
            field = &changed.impression;
            where = "the impression";
        } else if (target.rfind("finding:", 0) == 0) {
            es::Finding* f = changed.find_finding(target.substr(8));
            if (f) field = &f->notes;
            where = target.substr(8) + "'s notes";
        }
        if (!field) {
            a.messages.error("That part of the report no longer exists; choose where the text goes again.");
            return false;
        }
        if (!es::field_set_ai(*field, text, model, std::nullopt, now)) {
            a.messages.error("Nothing was changed: " + where + " already holds a value you entered or accepted. "
                             "Clear it in the Report tab first, or copy the text from the step.");
            return false;
        }
        r.edit(a, "Text from " + step_name);
        r.report = std::move(changed);
        r.changed(a);
        a.messages.notice("The text of " + step_name + " is now " + where + " in the report, marked as AI (" + model +
                          ") until you accept it in the Report tab.");
        agent_action("accepted", {{"step", step}, {"into", "report"}, {"target", target}});
        return true;
    }
    if (!agent_step_has_report_fields(*s)) {
        a.messages.error("This step has no text or report fields to add to the report.");
        return false;
    }
    // The drafted values, put through the core's draft rules as answers to the
    // questions the report's empty fields have now.
    const std::vector<es::DraftQuestion> questions = open_questions(a, ui, *s);
    std::vector<es::DraftAnswer> answers;
    int filled_already = 0;
    for (const json& f : jarr(agent_step_output(*s), "applied")) {
        const std::string path = jstr(f, "path"), value = jstr(f, "value");
        const auto q = std::find_if(questions.begin(), questions.end(), [&](const es::DraftQuestion& x) { return x.path == path; });
        if (q == questions.end()) {
            ++filled_already;
            continue;
        }
        es::DraftAnswer ans;
        ans.path = path;
        if (q->kind == es::DraftKind::Choice) {
            // The chosen option keeps its probability: log p for it, the rest shared evenly.
            const double p = std::clamp(jnum(f, "probability", 1.0), 1e-9, 1.0);
            const size_t others = q->options.size() > 1 ? q->options.size() - 1 : 1;
            for (const es::DraftOption& o : q->options) {
                ans.codes.push_back(o.code);
                ans.log_likelihoods.push_back(o.code == value ? std::log(p)
                                                              : (p >= 1.0 ? -INFINITY : std::log((1.0 - p) / double(others))));
            }
            if (std::find(ans.codes.begin(), ans.codes.end(), value) == ans.codes.end()) ans.error = "\"" + value + "\" is not one of the field's options";
        } else {
            ans.text = value;
        }
        answers.push_back(std::move(ans));
    }
    es::Report drafted = r.report;
    const es::DraftOutcome o = es::apply_draft_answers(drafted, r.vocab, questions, answers, model, now);
    std::string left;
    for (const es::DraftRejected& x : o.rejected) left += (left.empty() ? "" : "; ") + x.path + ": " + x.reason;
    if (o.applied.empty() && o.rejected.empty() && filled_already > 0) {
        a.messages.notice("The fields of " + step_name + " are filled in the report already; check them in the Report tab.");
        return false;
    }
    if (o.applied.empty()) {
        a.messages.error("No report field was filled from " + step_name +
                             (filled_already > 0 ? ": its fields are filled already (check them in the Report tab)." : "."),
                         left);
        return false;
    }
    r.edit(a, "Fields from " + step_name + " (" + std::to_string(o.applied.size()) + " values)");
    r.report = std::move(drafted);
    r.changed(a);
    std::string text = std::to_string(o.applied.size()) + " report field(s) filled from " + step_name + " as AI values (" +
                       model + "); accept or change each in the Report tab.";
    if (filled_already > 0)
        text += " " + std::to_string(filled_already) + (filled_already == 1 ? " was" : " were") + " filled already and kept.";
    if (!o.rejected.empty()) text += " " + std::to_string(o.rejected.size()) + " could not be used (details).";
    a.messages.notice(text, left);
    agent_action("accepted", {{"step", step}, {"into", "report"}, {"fields", int(o.applied.size())}});
    return true;
}

}  // namespace esui
