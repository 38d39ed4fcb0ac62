// report_draft_route.cpp: see report_draft_route.h.
#include "api/report_draft_route.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>

#include "case/case_bundle.h"
#include "report/report_draft.h"
#include "report/report_json.h"

namespace es::server {

using json = nlohmann::json;

namespace {

// As the app (web/report/report_draft.js): generation limits per question.
constexpr int kMaxGeneratedTokens = 256;

std::string utc_now() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::vector<ChatMessage> question_messages(const DraftQuestion& q, const std::string& system_prompt,
                                           const std::vector<uint8_t>* image) {
    std::vector<ChatMessage> messages;
    if (!system_prompt.empty()) messages.push_back({"system", {{ChatPart::Kind::Text, system_prompt, {}}}});
    ChatMessage user{"user", {}};
    if (image) user.parts.push_back({ChatPart::Kind::Image, "", *image});
    user.parts.push_back({ChatPart::Kind::Text, q.prompt, {}});
    messages.push_back(std::move(user));
    return messages;
}

struct Usage {
    long prompt_tokens = 0, completion_tokens = 0;
};

// One question answered by the engine: a choice is scored in one task on
// the engines' thread, a number or text is generated as a chat. A refusal
// (queue full, model gone, client gone) is returned as the reply to send; an
// engine error becomes the answer's error.
std::optional<ExtensionReply> answer_question(const RunEngineJob& run, const RunEngineChat& chat, const std::string& model,
                                              const DraftQuestion& q, const std::string& system_prompt,
                                              const std::vector<uint8_t>* image, DraftAnswer* answer, Usage* usage,
                                              std::string* model_id) {
    answer->path = q.path;
    if (q.kind == DraftKind::Choice) {
        return run(model, [&](ChatEngine& engine, const std::string& id) {
            *model_id = id;
            LabelScoreRequest req;
            req.model = id;
            req.messages = question_messages(q, system_prompt, image);
            for (const DraftOption& o : q.options) req.labels.push_back(o.answer.empty() ? o.code : o.answer);
            LabelScoreResult r = engine.score_labels(req);
            usage->prompt_tokens += r.prompt_tokens;
            if (r.error != EngineError::None) {
                answer->error = r.message;
                return;
            }
            for (const DraftOption& o : q.options) answer->codes.push_back(o.code);
            answer->log_likelihoods = r.log_likelihoods;
        });
    }
    ChatRequest req;
    req.model = model_id->empty() ? model : *model_id;
    req.messages = question_messages(q, system_prompt, image);
    req.max_tokens = std::clamp(q.max_tokens > 0 ? q.max_tokens : 16, 1, kMaxGeneratedTokens);
    req.temperature = 0;  // greedy, as the app
    ChatAnswer a;
    if (auto refused = chat(req, &a)) return refused;
    if (model_id->empty()) *model_id = a.model;
    usage->prompt_tokens += a.prompt_tokens;
    usage->completion_tokens += a.completion_tokens;
    if (!a.error.empty()) answer->error = a.error;
    else answer->text = a.text;
    return std::nullopt;
}

bool read_text_file(const std::filesystem::path& p, std::string* out) {
    std::ifstream f(p, std::ios::binary);
    if (!f) return false;
    out->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    return true;
}

}  // namespace

std::unique_ptr<ReportVocabulary> load_report_vocabulary_folder(const std::string& dir_text, std::string* error) {
    namespace fs = std::filesystem;
    const fs::path dir(dir_text);
    std::vector<std::string> present;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) present.push_back(e.path().filename().string());
    if (ec) {
        *error = dir.string() + ": " + ec.message();
        return nullptr;
    }
    const std::vector<std::string> names = report_vocabulary_files_to_load(present);
    std::vector<std::string> texts;
    for (const std::string& n : names) {
        std::string t;
        if (!read_text_file(dir / n, &t)) {
            *error = (dir / n).string() + ": cannot be read";
            return nullptr;
        }
        texts.push_back(std::move(t));
    }
    auto vocab = std::make_unique<ReportVocabulary>();
    if (!report_vocabulary_load(*vocab, texts, names, error)) return nullptr;
    return vocab;
}

ExtensionReply report_draft_route(const RunEngineJob& run, const RunEngineChat& chat, const ReportVocabulary* vocab,
                                  const std::string& body,
                                  const ChatRequestLimits& limits) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!vocab)
        return extension_error(503, "This server could not load the report vocabulary (models/report), so it cannot "
                                    "draft reports; start it from a complete EndoScribe checkout");
    json req;
    if (ApiError e = parse_json_object(body, limits.max_json_depth, &req); !e.empty()) return extension_error(e);
    static const char* const kKeys[] = {"model", "bundle", "report", "images", "scope", "system_prompt", "now"};
    for (const auto& [key, value] : req.items()) {
        bool known = false;
        for (const char* k : kKeys) known |= key == k;
        if (!known) return extension_error(400, "Unknown key \"" + key + "\" in the report draft request", key);
    }
    auto text_field = [&](const char* key, std::string* out) -> std::optional<ExtensionReply> {
        if (!req.contains(key) || req[key].is_null()) return std::nullopt;
        if (!req[key].is_string()) return extension_error(400, std::string("\"") + key + "\" must be a text", key);
        *out = req[key].get<std::string>();
        return std::nullopt;
    };
    std::string model, system_prompt, now;
    if (auto r = text_field("model", &model)) return *r;
    if (auto r = text_field("system_prompt", &system_prompt)) return *r;
    if (auto r = text_field("now", &now)) return *r;
    if (now.empty()) now = utc_now();

    // The report and its images: from a case bundle, or sent apart.
    std::string report_text;
    std::map<std::string, std::vector<uint8_t>> images;
    std::vector<std::string> image_order;
    const bool has_bundle = req.contains("bundle") && !req["bundle"].is_null();
    const bool has_report = req.contains("report") && !req["report"].is_null();
    if (has_bundle == has_report)
        return extension_error(400, has_bundle ? "send either \"bundle\" or \"report\", not both"
                                               : "the request has no report: send \"bundle\" (a case bundle, as the "
                                                 "app's Case menu > Export bundle writes it) or \"report\" with \"images\"",
                               "report");
    if (has_bundle) {
        if (req.contains("images")) return extension_error(400, "\"images\" comes with \"report\"; a bundle carries its own", "images");
        CaseBundleRead read = read_case_bundle(req["bundle"].dump());
        if (!read.ok) {
            ExtensionReply r = extension_error(400, "The case bundle could not be read: " + read.message, "bundle");
            r.body["error"]["detail"] = read.detail;
            return r;
        }
        if (read.bundle.report_json.empty())
            return extension_error(400, "The case bundle has no report; open the case in the app, start its report "
                                        "(Report tab) and export the bundle again",
                                   "bundle");
        report_text = read.bundle.report_json;
        for (BundleImage& im : read.bundle.images) {
            image_order.push_back(im.name);
            images[im.name] = std::move(im.bytes);
        }
    } else {
        report_text = req["report"].is_string() ? req["report"].get<std::string>() : req["report"].dump();
        if (req.contains("images") && !req["images"].is_null()) {
            if (!req["images"].is_object())
                return extension_error(400, "\"images\" must map each image's name in the report to a data: URL", "images");
            for (const auto& [name, url] : req["images"].items()) {
                if (!url.is_string())
                    return extension_error(400, "Images[\"" + name + "\"] must be a data: URL", "images");
                ImageInput in = read_image_url(url.get<std::string>(), "images[\"" + name + "\"]", limits.image,
                                               limits.image_url_hosts);
                if (!in.error.empty()) return extension_error(in.error);
                image_order.push_back(name);
                images[name] = std::move(in.bytes);
            }
        }
    }
    Report report;
    std::string error;
    if (!report_from_json(report_text, *vocab, &report, &error)) {
        ExtensionReply r = extension_error(400, "The report could not be read; export it again from the app", "report");
        r.body["error"]["detail"] = error;
        return r;
    }
    if (report.status == ReportStatus::Final)
        return extension_error(400, "The report is signed; start an amendment in the app before drafting with AI",
                               "report", "report_signed");

    DraftScope scope;
    bool scope_images_given = false;
    if (req.contains("scope") && !req["scope"].is_null()) {
        const json& s = req["scope"];
        if (!s.is_object()) return extension_error(400, "\"scope\" must be {\"findings\", \"images\", \"report_fields\", \"impression\"}", "scope");
        for (const auto& [key, value] : s.items()) {
            if ((key == "findings" || key == "images") && value.is_array() &&
                std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_string(); })) {
                (key == "findings" ? scope.findings : scope.images) = value.get<std::vector<std::string>>();
                scope_images_given |= key == "images";
            } else if ((key == "report_fields" || key == "impression") && value.is_boolean()) {
                (key == "report_fields" ? scope.report_fields : scope.impression) = value.get<bool>();
            } else {
                return extension_error(400, "Scope." + key + " is not understood; scope takes \"findings\" and "
                                                              "\"images\" (lists of names) and \"report_fields\" and "
                                                              "\"impression\" (true/false)", "scope");
            }
        }
    }
    // Without a choice, report-level image questions (bowel preparation) are
    // asked about the first image sent.
    if (!scope_images_given) scope.images = image_order;

    std::vector<DraftQuestion> all_questions;
    std::vector<DraftAnswer> all_answers;
    DraftOutcome outcome;
    Usage usage;
    std::string model_id = model;
    std::set<std::string> asked;
    for (int round = 0; round < 2; ++round) {
        std::vector<DraftQuestion> questions;
        for (DraftQuestion& q : draft_questions(report, *vocab, scope))
            if (asked.insert(q.path).second) questions.push_back(std::move(q));
        if (questions.empty()) break;
        std::vector<DraftAnswer> answers;
        for (const DraftQuestion& q : questions) {
            DraftAnswer a;
            const std::vector<uint8_t>* image = nullptr;
            if (!q.image.empty()) {
                auto it = images.find(q.image);
                if (it == images.end()) {
                    a.path = q.path;
                    a.error = "the image " + q.image + " is not in the request";
                    answers.push_back(std::move(a));
                    continue;
                }
                image = &it->second;
            }
            if (auto refused = answer_question(run, chat, model, q, system_prompt, image, &a, &usage, &model_id))
                return *refused;
            answers.push_back(std::move(a));
        }
        DraftOutcome o = apply_draft_answers(report, *vocab, questions, answers, model_id, now);
        outcome.applied.insert(outcome.applied.end(), o.applied.begin(), o.applied.end());
        outcome.rejected.insert(outcome.rejected.end(), o.rejected.begin(), o.rejected.end());
        all_questions.insert(all_questions.end(), questions.begin(), questions.end());
        all_answers.insert(all_answers.end(), answers.begin(), answers.end());
    }
    json answers_json = json::array();
    for (const DraftAnswer& a : all_answers) {
        json j = {{"path", a.path}};
        if (!a.codes.empty()) {
            j["codes"] = a.codes;
            j["log_likelihoods"] = a.log_likelihoods;
        } else if (a.error.empty()) {
            j["text"] = a.text;
        }
        if (!a.error.empty()) j["error"] = a.error;
        answers_json.push_back(std::move(j));
    }
    ExtensionReply r;
    r.body = {{"object", "endoscribe.report_draft"},
              {"model", model_id},
              {"report", json::parse(report_to_json(report))},
              {"outcome", draft_outcome_to_json(outcome)},
              {"questions", draft_questions_to_json(all_questions)},
              {"answers", std::move(answers_json)},
              {"usage",
               {{"prompt_tokens", usage.prompt_tokens},
                {"completion_tokens", usage.completion_tokens},
                {"total_tokens", usage.prompt_tokens + usage.completion_tokens}}},
              {"timings",
               {{"total_ms", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count()},
                {"questions", all_questions.size()}}}};
    return r;
}

}  // namespace es::server
