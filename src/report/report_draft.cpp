#include "report/report_draft.h"

#include "report/report_narrative.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace es {

using json = nlohmann::json;

const char* draft_kind_name(DraftKind k) {
    switch (k) {
        case DraftKind::Choice: return "choice";
        case DraftKind::Number: return "number";
        case DraftKind::Text: return "text";
    }
    return "choice";
}

static bool draft_kind_from_name(const std::string& s, DraftKind* out) {
    if (s == "choice") *out = DraftKind::Choice;
    else if (s == "number") *out = DraftKind::Number;
    else if (s == "text") *out = DraftKind::Text;
    else return false;
    return true;
}

namespace {

// Limits of the fixed numeric finding fields (the contract: sizes 0 mm or
// more; a model that answers 0 mm or 2 m has not measured anything).
struct NumberLimits {
    double min, max;
    bool integer;
    const char* unit;
};
const NumberLimits kSizeMm{1, 300, false, "mm"};
const NumberLimits kDistanceCm{0, 200, false, "cm"};
const NumberLimits kNumber{1, 100, true, ""};

constexpr int kNumberTokens = 8;
constexpr int kNotesTokens = 48;
constexpr size_t kNotesChars = 300;
constexpr int kImpressionTokens = 96;
constexpr size_t kImpressionChars = 600;
constexpr size_t kImpressionFactsChars = 4000;  // the prompt stays well inside a small context

std::string option_list_text(const std::vector<DraftOption>& options) {
    std::string s;
    for (size_t i = 0; i < options.size(); ++i) s += (i ? ", " : "") + options[i].answer;
    return s;
}

std::vector<DraftOption> options_of(const std::vector<VocabOption>& list) {
    std::vector<DraftOption> out;
    for (const auto& o : list) out.push_back({o.id, o.name.empty() ? o.id : o.name});
    return out;
}

// The organs a procedure examines: the procedures list's "organs"/"organ"
// property (comma separated), else its "tract" (lower: colon and ileum;
// upper: esophagus, stomach, duodenum); empty when the report has no
// procedure or the vocabulary does not say (then nothing is filtered).
std::vector<std::string> procedure_organs(const Report& r, const ReportVocabulary& v) {
    std::vector<std::string> out;
    if (!r.header.procedure.has_value()) return out;
    const VocabOption* p = v.find("procedures", *r.header.procedure.value);
    if (!p) return out;
    std::string s = p->property("organs");
    if (s.empty()) s = p->property("organ");
    if (s.empty() && p->property("tract") == "lower") s = "colon,ileum";
    if (s.empty() && p->property("tract") == "upper") s = "esophagus,stomach,duodenum";
    size_t start = 0;
    while (start <= s.size() && !s.empty()) {
        size_t end = s.find(',', start);
        if (end == std::string::npos) end = s.size();
        std::string t = s.substr(start, end - start);
        t.erase(0, t.find_first_not_of(' '));
        t.erase(t.find_last_not_of(' ') + 1);
        if (!t.empty()) out.push_back(t);
        start = end + 1;
    }
    return out;
}

bool upper_tract(const std::vector<std::string>& organs) {
    for (const auto& o : organs)
        if (o == "esophagus" || o == "stomach" || o == "duodenum") return true;
    return false;
}

// Attributes no image shows: they come from the pathology report or from
// the procedure itself, so the model is never asked for them.
bool not_from_image(const std::string& attribute) {
    return attribute == "histology" || attribute == "dysplasia" || attribute == "stricture_passable";
}

bool shares_organ(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    for (const auto& x : a)
        if (std::find(b.begin(), b.end(), x) != b.end()) return true;
    return false;
}

// Options of a list restricted to the organs in play (options with an
// "organ"/"organs" property outside them are left out).
std::vector<DraftOption> organ_options(const std::vector<VocabOption>& list, const std::vector<std::string>& organs) {
    std::vector<DraftOption> out;
    for (const auto& o : list) {
        std::string org = o.property("organ");
        if (org.empty()) org = o.property("organs");
        if (!organs.empty() && !org.empty()) {
            bool hit = false;
            for (const auto& g : organs) hit = hit || org.find(g) != std::string::npos;
            if (!hit) continue;
        }
        out.push_back({o.id, o.name.empty() ? o.id : o.name});
    }
    return out;
}

std::string format_number(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", x);
    return buf;
}

// The words the prompts use for a finding: "the polyp (F1)".
std::string finding_words(const Finding& f, const ReportVocabulary& v) {
    std::string what = "lesion";
    if (f.term.has_value()) {
        if (const ReportTerm* t = v.find_term(*f.term.value)) what = t->name;
        else what = *f.term.value;
    }
    std::string lower = what;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return "the " + lower + " (" + f.id + ")";
}

const char* kAnswerOne = " Answer with one of: ";

class Builder {
public:
    Builder(const Report& r, const ReportVocabulary& v) : r_(r), v_(v) {}
    std::vector<DraftQuestion> out;

    void choice(const std::string& path, DraftTarget target, const std::string& image, const std::string& question,
                const std::string& list, std::vector<DraftOption> options) {
        if (options.size() < 2) return;
        DraftQuestion q;
        q.list = list;
        q.path = path;
        q.target = std::move(target);
        q.image = image;
        q.kind = DraftKind::Choice;
        q.prompt = question + kAnswerOne + option_list_text(options) + ".";
        q.options = std::move(options);
        out.push_back(std::move(q));
    }
    void number(const std::string& path, DraftTarget target, const std::string& image, const std::string& question,
                NumberLimits lim) {
        DraftQuestion q;
        q.path = path;
        q.target = std::move(target);
        q.image = image;
        q.kind = DraftKind::Number;
        q.prompt = question + " Answer with a number only" + (lim.unit[0] ? std::string(" (") + lim.unit + ")" : std::string()) + ".";
        q.min = lim.min;
        q.max = lim.max;
        q.integer = lim.integer;
        q.unit = lim.unit;
        q.max_tokens = kNumberTokens;
        out.push_back(std::move(q));
    }
    void text(const std::string& path, DraftTarget target, const std::string& image, const std::string& question,
              int max_tokens, size_t max_chars) {
        DraftQuestion q;
        q.path = path;
        q.target = std::move(target);
        q.image = image;
        q.kind = DraftKind::Text;
        q.prompt = question;
        q.max_tokens = max_tokens;
        q.max_chars = max_chars;
        out.push_back(std::move(q));
    }

    void finding(const Finding& f, size_t index, const std::vector<std::string>& organs) {
        if (!f.evidence.has_value() || f.evidence.value->empty()) return;  // nothing to look at
        const std::string image = f.evidence.value->front().image;
        if (image.empty()) return;
        const std::string at = "findings[" + std::to_string(index) + "].";
        const std::string who = finding_words(f, v_);
        auto target = [&](const char* field, const std::string& attr = std::string()) {
            return DraftTarget{f.id, field, attr};
        };
        if (!f.term.has_value()) {
            std::vector<DraftOption> terms;
            for (const auto& t : v_.terms)
                if (organs.empty() || shares_organ(t.organs, organs)) terms.push_back({t.id, t.name.empty() ? t.id : t.name});
            choice(at + "term", target("term"), image, "Which finding does this endoscopy image show?", "terms", terms);
        }
        // With a term, only what the term calls for; without one, what every
        // lesion has (the term's own questions come after it is chosen).
        const ReportTerm* term = f.term.has_value() ? v_.find_term(*f.term.value) : nullptr;
        auto calls = [&](const std::string& field) {
            if (term) return term->calls(field);
            return field == "location_segment" || field == "size_mm" || field == "number";
        };
        if (calls("location_segment") && !f.location_segment.has_value())
            if (const auto* list = v_.list("segments"))
                choice(at + "location_segment", target("location_segment"), image,
                       "In which segment is " + who + " in this image?", "segments", organ_options(*list, organs));
        if (calls("size_mm") && !f.size_mm.has_value())
            number(at + "size_mm", target("size_mm"), image, "How large is " + who + " in this image, in millimetres?", kSizeMm);
        if (calls("number") && !f.number.has_value())
            number(at + "number", target("number"), image, "How many lesions like " + who + " are there in this image?", kNumber);
        if (calls("distance_cm") && !f.distance_cm.has_value())
            number(at + "distance_cm", target("distance_cm"), image,
                   "How far from the " + std::string(upper_tract(organs) ? "incisors" : "anus") + " is " + who +
                       ", in centimetres?",
                   kDistanceCm);
        struct Cls { const char* field; const char* list; const char* name; const Field<std::string>* value; };
        const Cls classes[] = {{"paris", "paris", "Paris classification", &f.paris},
                               {"nice", "nice", "NICE type", &f.nice},
                               {"jnet", "jnet", "JNET type", &f.jnet}};
        for (const auto& c : classes) {
            if (!calls(c.field) || c.value->has_value()) continue;
            if (const auto* list = v_.list(c.list))
                choice(at + c.field, target(c.field), image, std::string("What is the ") + c.name + " of " + who + " in this image?",
                       c.list, options_of(*list));
        }
        if (term) {
            for (const auto& id : term->calls_for) {
                const ReportAttribute* a = v_.find_attribute(id);
                if (!a || not_from_image(id)) continue;  // a fixed field (handled above), or not visible
                auto it = f.attributes.find(id);
                if (it != f.attributes.end() && it->second.has_value()) continue;
                const std::string path = at + "attributes." + id;
                const std::string q = "What is the " + a->name + " of " + who + " in this image?";
                if (a->type == "enum") {
                    if (const auto* list = v_.list(a->list)) choice(path, target("attributes", id), image, q, a->list, options_of(*list));
                } else if (a->type == "boolean") {
                    choice(path, target("attributes", id), image, "Does " + who + " in this image show " + a->name + "?", "",
                           {{"true", "yes"}, {"false", "no"}});
                } else if (a->type == "number" || a->type == "integer") {
                    const double lo = a->has_min ? a->min : 0, hi = a->has_max ? a->max : 1000;
                    number(path, target("attributes", id), image, q, {lo, hi, a->type == "integer", a->unit.c_str()});
                }
            }
        }
        if (!f.notes.has_value())
            text(at + "notes", target("notes"), image, "Describe " + who + " in this image in one short sentence.", kNotesTokens, kNotesChars);
    }

    void bowel_preparation(const std::string& image) {
        const auto* list = v_.list("bbps");
        if (!list || image.empty()) return;
        const BowelPreparation& p = r_.bowel_preparation;
        struct Seg { const char* field; const char* words; const Field<int>* value; };
        const Seg segs[] = {{"bbps_right", "the right colon (caecum and ascending colon)", &p.bbps_right},
                            {"bbps_transverse", "the transverse colon (with the flexures)", &p.bbps_transverse},
                            {"bbps_left", "the left colon (descending and sigmoid colon, rectum)", &p.bbps_left}};
        for (const auto& s : segs) {
            if (s.value->has_value()) continue;
            choice(std::string("bowel_preparation.") + s.field, {"", s.field, ""}, image,
                   std::string("On the Boston Bowel Preparation Scale, how clean is ") + s.words + " in this image?",
                   "bbps", options_of(*list));
        }
    }

    void impression() {
        if (r_.impression.has_value()) return;
        // Written from the structured content (report_narrative's findings text,
        // the same words the rendered report uses): the model sees no image here.
        const ReportNarrative n = report_narrative(r_, v_);
        std::string facts = n.findings_text.empty() ? std::string("No findings.") : n.findings_text;
        if (facts.size() > kImpressionFactsChars) facts = draft_bound_text(facts, kImpressionFactsChars);
        text("impression", {"", "impression", ""}, "",
             "The findings of this endoscopy:\n" + facts + "\nWrite the report's impression in one or two sentences.",
             kImpressionTokens, kImpressionChars);
    }

private:
    const Report& r_;
    const ReportVocabulary& v_;
};

}  // namespace

std::vector<DraftQuestion> draft_questions(const Report& report, const ReportVocabulary& vocab, const DraftScope& scope) {
    Builder b(report, vocab);
    const auto organs = procedure_organs(report, vocab);
    for (size_t i = 0; i < report.findings.size(); ++i) {
        const Finding& f = report.findings[i];
        if (!scope.findings.empty() && std::find(scope.findings.begin(), scope.findings.end(), f.id) == scope.findings.end())
            continue;
        b.finding(f, i, organs);
    }
    if (scope.report_fields) {
        // Bowel preparation where the procedure has one (the procedures list's
        // "bowel_preparation" flag; unknown procedure: asked).
        const VocabOption* proc = report.header.procedure.has_value() ? vocab.find("procedures", *report.header.procedure.value) : nullptr;
        const bool prep = proc ? proc->property("bowel_preparation") != "false" : true;
        if (prep && !scope.images.empty()) b.bowel_preparation(scope.images.front());
        if (scope.impression) b.impression();
    }
    return std::move(b.out);
}

std::vector<double> draft_option_probabilities(const std::vector<double>& ll) {
    std::vector<double> p(ll.size(), 0.0);
    double mx = -std::numeric_limits<double>::infinity();
    for (double x : ll)
        if (std::isfinite(x)) mx = std::max(mx, x);
    if (!std::isfinite(mx)) {
        // No option has a finite score: nothing to prefer; uniform.
        for (double& x : p) x = 1.0 / double(p.size());
        return p;
    }
    double sum = 0;
    for (size_t i = 0; i < ll.size(); ++i) sum += p[i] = std::isfinite(ll[i]) ? std::exp(ll[i] - mx) : 0.0;
    for (double& x : p) x /= sum;
    return p;
}

std::optional<double> draft_parse_number(const std::string& text) {
    size_t i = 0;
    while (i < text.size() && !std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == text.size()) return std::nullopt;
    const bool negative = i > 0 && text[i - 1] == '-';
    double value = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) value = value * 10 + (text[i++] - '0');
    if (i + 1 < text.size() && (text[i] == '.' || text[i] == ',') && std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
        double scale = 0.1;
        for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, scale /= 10) value += (text[i] - '0') * scale;
    }
    if (!std::isfinite(value)) return std::nullopt;
    return negative ? -value : value;
}

std::string draft_bound_text(const std::string& text, size_t max_chars) {
    std::string s;
    bool space = false;
    for (unsigned char c : text) {
        if (c < 0x20 || c == 0x7f) {  // control characters (newlines too) become spaces
            space = true;
            continue;
        }
        if (c == ' ') { space = true; continue; }
        if (space && !s.empty()) s += ' ';
        space = false;
        s += char(c);
    }
    if (s.size() <= max_chars) return s;
    size_t cut = max_chars;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
    const size_t word = s.rfind(' ', cut);
    if (word != std::string::npos && word > max_chars / 2) cut = word;
    s.resize(cut);
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

namespace {

// A place in the report one answer can go.
struct Slot {
    Field<std::string>* text = nullptr;
    Field<double>* real = nullptr;
    Field<int>* whole = nullptr;
    Field<AttributeValue>* attribute = nullptr;
    bool empty() const {
        if (text) return !text->has_value();
        if (real) return !real->has_value();
        if (whole) return !whole->has_value();
        if (attribute) return !attribute->has_value();
        return false;
    }
};

Slot slot_for(Report& r, const DraftTarget& t) {
    Slot s;
    if (!t.finding_id.empty()) {
        Finding* f = r.find_finding(t.finding_id);
        if (!f) return s;
        if (t.field == "term") s.text = &f->term;
        else if (t.field == "location_segment") s.text = &f->location_segment;
        else if (t.field == "paris") s.text = &f->paris;
        else if (t.field == "nice") s.text = &f->nice;
        else if (t.field == "jnet") s.text = &f->jnet;
        else if (t.field == "notes") s.text = &f->notes;
        else if (t.field == "size_mm") s.real = &f->size_mm;
        else if (t.field == "distance_cm") s.real = &f->distance_cm;
        else if (t.field == "number") s.whole = &f->number;
        else if (t.field == "attributes" && !t.attribute.empty()) s.attribute = &f->attributes[t.attribute];
        return s;
    }
    if (t.field == "bbps_right") s.whole = &r.bowel_preparation.bbps_right;
    else if (t.field == "bbps_transverse") s.whole = &r.bowel_preparation.bbps_transverse;
    else if (t.field == "bbps_left") s.whole = &r.bowel_preparation.bbps_left;
    else if (t.field == "impression") s.text = &r.impression;
    return s;
}

// Removes an attribute slot that slot_for() created but nothing was written to.
void drop_empty_attribute(Report& r, const DraftTarget& t) {
    if (t.field != "attributes") return;
    if (Finding* f = r.find_finding(t.finding_id)) {
        auto it = f->attributes.find(t.attribute);
        if (it != f->attributes.end() && !it->second.has_value()) f->attributes.erase(it);
    }
}

}  // namespace

DraftOutcome apply_draft_answers(Report& report, const ReportVocabulary& vocab, const std::vector<DraftQuestion>& questions,
                                 const std::vector<DraftAnswer>& answers, const std::string& model_id, const std::string& now) {
    DraftOutcome out;
    auto reject = [&](const std::string& path, const std::string& why) { out.rejected.push_back({path, why}); };
    for (const auto& a : answers) {
        auto q = std::find_if(questions.begin(), questions.end(), [&](const DraftQuestion& x) { return x.path == a.path; });
        if (q == questions.end()) {
            reject(a.path, "no such question was asked");
            continue;
        }
        if (!a.error.empty()) {
            reject(a.path, "the model could not answer: " + a.error);
            continue;
        }
        Slot slot = slot_for(report, q->target);
        if (!slot.text && !slot.real && !slot.whole && !slot.attribute) {
            reject(a.path, "the field is no longer in the report (was its finding removed?)");
            continue;
        }
        if (!slot.empty()) {
            reject(a.path, "kept the value already there (it was filled while the model was running)");
            continue;
        }
        DraftApplied done;
        done.path = a.path;
        bool ok = false;
        if (q->kind == DraftKind::Choice) {
            std::vector<std::string> codes;
            for (const auto& o : q->options) codes.push_back(o.code);
            if (a.codes != codes || a.log_likelihoods.size() != codes.size()) {
                reject(a.path, "the model's scores are not for this field's options");
                drop_empty_attribute(report, q->target);
                continue;
            }
            const auto p = draft_option_probabilities(a.log_likelihoods);
            size_t best = 0;
            for (size_t i = 1; i < p.size(); ++i)
                if (p[i] > p[best]) best = i;
            const std::string& code = codes[best];
            const bool known = q->list.empty() ? (code == "true" || code == "false")
                               : q->list == "terms" ? vocab.find_term(code) != nullptr
                               : q->list == "paris" ? is_valid_paris(vocab, code)
                                                    : vocab.has(q->list, code);
            if (!known) {
                reject(a.path, "'" + code + "' is not in the vocabulary's " + (q->list.empty() ? "yes/no" : q->list) + " list");
                drop_empty_attribute(report, q->target);
                continue;
            }
            std::vector<size_t> order(codes.size());
            for (size_t i = 0; i < order.size(); ++i) order[i] = i;
            std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return p[x] > p[y]; });
            for (size_t i : order) done.ranking.push_back({codes[i], p[i]});
            done.probability = p[best];
            done.value = code;
            if (slot.text) ok = field_set_ai(*slot.text, code, model_id, p[best], now);
            else if (slot.whole) {
                char* end = nullptr;
                const long v = std::strtol(code.c_str(), &end, 10);
                ok = end && *end == '\0' && !code.empty() && field_set_ai(*slot.whole, int(v), model_id, p[best], now);
            } else if (slot.attribute) {
                AttributeValue v = code;
                if (code == "true" || code == "false") v = code == "true";
                ok = field_set_ai(*slot.attribute, v, model_id, p[best], now);
            }
            if (!ok) reject(a.path, "the option '" + code + "' does not fit this field");
        } else if (q->kind == DraftKind::Number) {
            const auto x = draft_parse_number(a.text);
            const std::string said = draft_bound_text(a.text, 40);
            if (!x) {
                reject(a.path, "the model gave no number (\"" + said + "\")");
            } else if (*x < q->min || *x > q->max) {
                reject(a.path, "the model's " + format_number(*x) + (q->unit.empty() ? "" : " " + q->unit) +
                                   " is outside " + format_number(q->min) + "-" + format_number(q->max) +
                                   (q->unit.empty() ? "" : " " + q->unit) + "; left empty");
            } else if (q->integer && std::floor(*x) != *x) {
                reject(a.path, "the model's " + format_number(*x) + " is not a whole number; left empty");
            } else {
                done.value = format_number(*x);
                if (slot.real) ok = field_set_ai(*slot.real, *x, model_id, std::nullopt, now);
                else if (slot.whole) ok = field_set_ai(*slot.whole, int(*x), model_id, std::nullopt, now);
                else if (slot.attribute) ok = field_set_ai(*slot.attribute, AttributeValue(*x), model_id, std::nullopt, now);
                if (!ok) reject(a.path, "a number does not fit this field");
            }
        } else {
            const std::string t = draft_bound_text(a.text, q->max_chars ? q->max_chars : kNotesChars);
            if (t.empty()) {
                reject(a.path, "the model wrote nothing");
            } else {
                done.value = t;
                if (slot.text) ok = field_set_ai(*slot.text, t, model_id, std::nullopt, now);
                else if (slot.attribute) ok = field_set_ai(*slot.attribute, AttributeValue(t), model_id, std::nullopt, now);
                if (!ok) reject(a.path, "text does not fit this field");
            }
        }
        if (ok) out.applied.push_back(std::move(done));
        else drop_empty_attribute(report, q->target);
    }
    return out;
}

json draft_questions_to_json(const std::vector<DraftQuestion>& questions) {
    json arr = json::array();
    for (const auto& q : questions) {
        json j = {{"path", q.path}, {"finding", q.target.finding_id}, {"field", q.target.field}, {"image", q.image},
                  {"prompt", q.prompt}, {"kind", draft_kind_name(q.kind)}};
        if (!q.target.attribute.empty()) j["attribute"] = q.target.attribute;
        if (q.kind == DraftKind::Choice) {
            j["list"] = q.list;
            json opts = json::array();
            for (const auto& o : q.options) opts.push_back({{"code", o.code}, {"answer", o.answer}});
            j["options"] = opts;
        } else {
            j["max_tokens"] = q.max_tokens;
        }
        if (q.kind == DraftKind::Number) {
            j["min"] = q.min;
            j["max"] = q.max;
            j["integer"] = q.integer;
            j["unit"] = q.unit;
        }
        if (q.kind == DraftKind::Text) j["max_chars"] = q.max_chars;
        arr.push_back(std::move(j));
    }
    return arr;
}

bool draft_questions_from_json(const json& j, std::vector<DraftQuestion>* out, std::string* error) {
    auto fail = [&](const std::string& m) { if (error) *error = m; return false; };
    if (!j.is_array()) return fail("draft questions: expected a list");
    std::vector<DraftQuestion> qs;
    try {
        for (size_t i = 0; i < j.size(); ++i) {
            const json& e = j[i];
            DraftQuestion q;
            q.path = e.at("path").get<std::string>();
            q.target.finding_id = e.value("finding", std::string());
            q.target.field = e.at("field").get<std::string>();
            q.target.attribute = e.value("attribute", std::string());
            q.image = e.value("image", std::string());
            q.list = e.value("list", std::string());
            q.prompt = e.at("prompt").get<std::string>();
            if (!draft_kind_from_name(e.at("kind").get<std::string>(), &q.kind))
                return fail("draft questions[" + std::to_string(i) + "].kind: not choice, number or text");
            for (const auto& o : e.value("options", json::array()))
                q.options.push_back({o.at("code").get<std::string>(), o.value("answer", o.at("code").get<std::string>())});
            q.min = e.value("min", 0.0);
            q.max = e.value("max", 0.0);
            q.integer = e.value("integer", false);
            q.unit = e.value("unit", std::string());
            q.max_tokens = e.value("max_tokens", 0);
            q.max_chars = e.value("max_chars", size_t(0));
            qs.push_back(std::move(q));
        }
    } catch (const std::exception& ex) {
        return fail(std::string("draft questions: ") + ex.what());
    }
    *out = std::move(qs);
    return true;
}

bool draft_answers_from_json(const json& j, std::vector<DraftAnswer>* out, std::string* error) {
    auto fail = [&](const std::string& m) { if (error) *error = m; return false; };
    if (!j.is_array()) return fail("draft answers: expected a list");
    std::vector<DraftAnswer> as;
    try {
        for (const auto& e : j) {
            DraftAnswer a;
            a.path = e.at("path").get<std::string>();
            a.codes = e.value("codes", std::vector<std::string>());
            if (e.contains("log_likelihoods")) {
                // JSON has no -Infinity: a label that cannot be produced arrives as null.
                for (const auto& x : e["log_likelihoods"])
                    a.log_likelihoods.push_back(x.is_number() ? x.get<double>() : -std::numeric_limits<double>::infinity());
            }
            a.text = e.value("text", std::string());
            a.error = e.value("error", std::string());
            as.push_back(std::move(a));
        }
    } catch (const std::exception& ex) {
        return fail(std::string("draft answers: ") + ex.what());
    }
    *out = std::move(as);
    return true;
}

json draft_outcome_to_json(const DraftOutcome& o) {
    json applied = json::array(), rejected = json::array();
    for (const auto& a : o.applied) {
        json j = {{"path", a.path}, {"value", a.value}};
        if (a.probability) j["probability"] = *a.probability;
        if (!a.ranking.empty()) {
            json r = json::array();
            for (const auto& [code, p] : a.ranking) r.push_back({code, p});
            j["ranking"] = r;
        }
        applied.push_back(std::move(j));
    }
    for (const auto& r : o.rejected) rejected.push_back({{"path", r.path}, {"reason", r.reason}});
    return {{"applied", applied}, {"rejected", rejected}};
}

}  // namespace es
