#include "agent/agent_checks.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "annotation/annotation.h"
#include "annotation/lesion_count.h"
#include "mask/rle.h"

namespace es {

using json = nlohmann::json;

namespace {

bool usable(const TraceStep& s) { return s.status != StepStatus::Rejected && !s.output.is_null() && s.error.empty(); }

// Typed reads that never throw: outputs from a loop are schema-checked, but
// these checks may also see steps read from a file.
json list_of(const json& j, const char* key) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_array()) return json::array();
    return j[key];
}
std::string text_of(const json& j, const char* key, const std::string& otherwise) {
    return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : otherwise;
}
bool is_box(const json& b) {
    if (!b.is_array() || b.size() != 4) return false;
    for (const auto& v : b)
        if (!v.is_number()) return false;
    return true;
}
// The found boxes ({"box": [...]}) whose box is well formed.
json found_boxes(const json& output) {
    json out = json::array();
    for (const auto& b : list_of(output, "boxes"))
        if (b.is_object() && b.contains("box") && is_box(b["box"])) out.push_back(b);
    return out;
}

std::string lower_words(const std::string& s) {
    std::string out;
    for (unsigned char c : s) out += (c == '_') ? ' ' : char(std::tolower(c));
    return out;
}

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

std::string fmt_box(const json& b) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "[%.0f, %.0f, %.0f, %.0f]", b[0].get<double>(), b[1].get<double>(), b[2].get<double>(),
                  b[3].get<double>());
    return buf;
}

std::string plural(size_t n, const char* one, const char* many) { return std::to_string(n) + " " + (n == 1 ? one : many); }

// Decodes a segment output's mask; false when it cannot be read.
bool decode_mask(const json& m, Mask* out) {
    if (!m.is_object() || !m.contains("rle")) return false;
    const json& r = m["rle"];
    if (!r.is_object() || !r.contains("size") || !r["size"].is_array() || r["size"].size() != 2 ||
        !r["size"][0].is_number_integer() || !r["size"][1].is_number_integer() || !r.contains("counts") ||
        !r["counts"].is_string())
        return false;
    const int h = r["size"][0].get<int>(), w = r["size"][1].get<int>();
    if (h <= 0 || w <= 0 || int64_t(h) * w > (int64_t(1) << 28)) return false;
    Rle rle;
    if (!rle_from_string(r["counts"].get<std::string>(), h, w, rle)) return false;
    return rle_decode(rle, *out);
}

size_t pixels_in_box(const Mask& m, const json& box) {
    const int x0 = std::max(0, int(box[0].get<double>())), y0 = std::max(0, int(box[1].get<double>()));
    const int x1 = std::min(m.width, int(box[2].get<double>() + 0.999)), y1 = std::min(m.height, int(box[3].get<double>() + 0.999));
    size_t n = 0;
    for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) n += m.at(x, y);
    return n;
}

}  // namespace

bool text_names_label(const std::string& text_in, const std::string& label_in, bool* negated) {
    const std::string text = lower_words(text_in), label = lower_words(label_in);
    if (negated) *negated = false;
    if (label.empty()) return false;
    auto ends_with_word = [](const std::string& s, const std::string& tail) {
        return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0 &&
               (s.size() == tail.size() || !word_char(s[s.size() - tail.size() - 1]));
    };
    bool named = false, all_negated = true;
    for (size_t at = text.find(label); at != std::string::npos; at = text.find(label, at + 1)) {
        size_t end = at + label.size();
        if (end < text.size() && text[end] == 's') ++end;
        if ((at > 0 && word_char(text[at - 1])) || (end < text.size() && word_char(text[end]))) continue;
        named = true;
        const std::string before = text.substr(0, at);
        bool neg = false;
        for (const char* n : {"no", "not", "without", "absence of", "free of", "negative for", "no evidence of", "no sign of",
                              "no signs of"})
            for (const char* article : {" ", " a ", " an ", " any "})
                if (ends_with_word(before, std::string(n) + article)) neg = true;
        if (!neg) all_negated = false;
    }
    if (negated) *negated = named && all_negated;
    return named;
}

std::vector<AgentCheck> run_agent_checks(const std::vector<TraceStep>& steps, const AgentCheckConfig& config) {
    std::vector<AgentCheck> checks;
    int classify = -1, ground = -1, count = -1;
    for (size_t i = 0; i < steps.size(); ++i) {
        if (!usable(steps[i])) continue;
        if (steps[i].tool == "classify") classify = int(i);
        if (steps[i].tool == "ground") ground = int(i);
        if (steps[i].tool == "count_lesions") count = int(i);
    }

    // Boxes vs mask parts.
    size_t n_boxes = 0;
    json boxes = json::array();
    std::string ground_text;
    if (ground >= 0) {
        boxes = found_boxes(steps[ground].output);
        n_boxes = boxes.size();
        ground_text = text_of(steps[ground].arguments, "text", "lesion");
    }
    // The boxes compared: those segmentation was asked for when every
    // segment call named found boxes (the protocol segments them one by one),
    // else all of them (points, or boxes of one's own).
    std::vector<Mask> masks;
    bool segmented = false, unreadable = false, only_found_boxes = true;
    std::vector<char> asked(boxes.size(), 0);
    for (size_t i = ground >= 0 ? size_t(ground) + 1 : 0; ground >= 0 && i < steps.size(); ++i) {
        if (!usable(steps[i]) || steps[i].tool != "segment") continue;
        segmented = true;
        const json args = list_of(steps[i].arguments, "boxes");
        if (args.empty() || !list_of(steps[i].arguments, "points").empty()) only_found_boxes = false;
        for (const auto& a : args) {
            bool found = false;
            for (size_t k = 0; k < boxes.size(); ++k)
                if (boxes[k].value("box", json()) == a) asked[k] = found = true;
            if (!found) only_found_boxes = false;
        }
        for (const auto& m : list_of(steps[i].output, "masks")) {
            Mask mask;
            if (decode_mask(m, &mask)) masks.push_back(std::move(mask));
            else unreadable = true;
        }
    }
    if (segmented) {
        json compared = json::array();
        for (size_t k = 0; k < boxes.size(); ++k)
            if (!only_found_boxes || asked[k]) compared.push_back(boxes[k]);
        const bool partial = compared.size() < n_boxes;
        AgentCheck c;
        c.id = "boxes_vs_masks";
        int parts = 0;
        for (const Mask& m : masks) {
            Annotation a;
            a.kind = AnnotationKind::Mask;
            a.mask = m;
            parts += annotation_parts(a, m.width, m.height, config.min_part_area);
        }
        const std::string found = partial ? std::to_string(compared.size()) + " of the " + plural(n_boxes, "box", "boxes") +
                                                " found " + (compared.size() == 1 ? "was" : "were") + " segmented so far"
                                          : plural(n_boxes, "box was", "boxes were") + " found";
        if (unreadable) {
            c.level = CheckLevel::Warn;
            c.message = "A mask from the segmentation could not be read, so the boxes cannot be checked against it.";
        } else if (size_t(parts) == compared.size()) {
            c.message = (partial ? found + " and their" : "The " + plural(n_boxes, "box", "boxes") + " found and the") +
                        " masks agree (" + plural(size_t(parts), "separate part", "separate parts") + ").";
        } else {
            c.level = CheckLevel::Warn;
            c.message = found + ", but the masks have " + plural(size_t(parts), "separate part", "separate parts") + ".";
            json missing = json::array();
            for (const auto& b : compared) {
                size_t inside = 0;
                for (const Mask& m : masks) inside += pixels_in_box(m, b["box"]);
                if (inside < config.min_part_area) missing.push_back(b["box"]);
            }
            if (!missing.empty()) {
                c.message += " No mask covers the box" + std::string(missing.size() > 1 ? "es " : " ");
                for (size_t k = 0; k < missing.size(); ++k) c.message += (k ? ", " : "") + fmt_box(missing[k]);
                c.message += ": segment " + std::string(missing.size() > 1 ? "them" : "it") + " again.";
                c.recheck_tool = "segment";
                c.recheck_arguments = {{"boxes", missing}};
            } else {
                c.message += " Some lesion may be split in two, or one box may hold two lesions: look for them again.";
                c.recheck_tool = "ground";
                c.recheck_arguments = {{"text", ground_text}};
            }
        }
        checks.push_back(std::move(c));
    }

    // Count vs boxes.
    if (count >= 0 && ground >= 0) {
        AgentCheck c;
        c.id = "count_vs_boxes";
        const json& out = steps[count].output;
        const long long n = out.is_object() && out.contains("count") && out["count"].is_number_integer()
                                ? out["count"].get<long long>()
                                : -1;
        if (n == (long long)n_boxes) {
            c.message = "The lesion count (" + std::to_string(n) + ") matches the boxes found.";
        } else {
            c.level = CheckLevel::Warn;
            c.message = "The lesion count is " + std::to_string(n) + " but " + plural(n_boxes, "box was", "boxes were") +
                        " found: some findings may not be accepted as annotations, or the search missed some.";
            c.recheck_tool = "ground";
            c.recheck_arguments = {{"text", ground_text}};
        }
        checks.push_back(std::move(c));
    }

    // Classification vs description; probability margin.
    if (classify >= 0) {
        const json labels = list_of(steps[classify].output, "labels");
        std::vector<std::pair<double, std::string>> ranked;
        for (const auto& l : labels)
            if (l.is_object() && l.contains("label") && l["label"].is_string() && l.contains("probability") && l["probability"].is_number())
                ranked.push_back({l["probability"].get<double>(), l["label"].get<std::string>()});
        std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
        if (!ranked.empty()) {
            const std::string top = ranked[0].second;
            std::string text;
            for (size_t i = size_t(classify) + 1; i < steps.size(); ++i)
                if (usable(steps[i]) && (steps[i].tool == "describe_image" || steps[i].tool == "describe_region"))
                    text += text_of(steps[i].output, "text", "") + "\n";
            if (!text.empty()) {
                AgentCheck c;
                c.id = "label_vs_description";
                bool negated = false;
                const bool named = text_names_label(text, top, &negated);
                std::string other;
                for (size_t k = 1; k < ranked.size() && other.empty(); ++k) {
                    bool neg = false;
                    if (text_names_label(text, ranked[k].second, &neg) && !neg) other = ranked[k].second;
                }
                if (named && !negated) {
                    c.message = "The description names the top class, \"" + top + "\".";
                } else {
                    c.level = CheckLevel::Warn;
                    if (negated) c.message = "The description denies the top class, \"" + top + "\".";
                    else if (!other.empty())
                        c.message = "The description names \"" + other + "\", not the top class \"" + top + "\".";
                    else c.message = "The description does not mention the top class, \"" + top + "\".";
                    c.recheck_tool = "describe_image";
                    c.recheck_arguments = {{"question", "Is there " + lower_words(top) + " in this image? Answer yes or no, then say why."}};
                }
                checks.push_back(std::move(c));
            }
            if (ranked.size() >= 2) {
                AgentCheck c;
                c.id = "probability_margin";
                const double margin = ranked[0].first - ranked[1].first;
                char buf[160];
                std::snprintf(buf, sizeof buf, "%.0f%% vs %.0f%%", ranked[0].first * 100, ranked[1].first * 100);
                if (margin >= config.min_margin) {
                    c.message = "\"" + top + "\" leads \"" + ranked[1].second + "\" clearly (" + buf + ").";
                } else {
                    c.level = CheckLevel::Warn;
                    c.message = "\"" + top + "\" and \"" + ranked[1].second + "\" are almost tied (" + buf +
                                "): the classification is uncertain.";
                    c.recheck_tool = "describe_image";
                    c.recheck_arguments = {{"question", "Is this " + lower_words(top) + " or " + lower_words(ranked[1].second) +
                                                            "? Say which and why."}};
                }
                checks.push_back(std::move(c));
            }
        }
    }
    return checks;
}

}  // namespace es
