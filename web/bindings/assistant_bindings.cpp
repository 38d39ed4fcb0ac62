// assistant_bindings.cpp: the on-device assistant's core, exported to JS.
// Objects live behind integer handles; functions that produce arrays or text
// leave them in one result slot (read it right away, the next call replaces it).
// Errors: 0 / -1 / null returns, with the message in es_assistant_last_error().
// The JS side (web/assistant/core.js) wraps all of this; nothing here blocks.
#include <emscripten/emscripten.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "assistant/box_parse.h"
#include "assistant/conversation.h"
#include "assistant/generation.h"
#include "image/image.h"
#include "assistant/image_preprocess.h"
#include "assistant/label_scoring.h"
#include "assistant/prompt_lookup.h"
#include "annotation/label_set.h"
#include "assistant/tokenizer.h"
#include "constrained/json_constraint.h"

namespace {

using json = nlohmann::json;

std::string g_error;
std::string g_str;
std::vector<int32_t> g_i32;
std::vector<float> g_f32;

struct Chat {
    int tokenizer = 0;
    es::Conversation conv;
    es::ConversationConfig cfg;
    es::Generator gen;
    std::unique_ptr<es::TextStream> stream;
    es::LabelScorer scorer;
    std::string delta;
    bool context_capped = false;  // this answer's length was cut to the room left in the context
    std::vector<int> never_ids;   // conv.never_generated_ids(), looked up once (drafts stop before them)
};

std::map<int, std::unique_ptr<es::Tokenizer>> g_tokenizers;
// Each tokenizer's vocabulary as the constrained decoder reads it, built on first use.
std::map<int, std::shared_ptr<es::TokenVocabulary>> g_vocabularies;
std::map<int, std::unique_ptr<Chat>> g_chats;
int g_next = 1;

es::Tokenizer* tok(int h) {
    auto it = g_tokenizers.find(h);
    if (it == g_tokenizers.end()) { g_error = "no tokenizer with handle " + std::to_string(h); return nullptr; }
    return it->second.get();
}
std::shared_ptr<es::TokenVocabulary> vocabulary(int h) {
    es::Tokenizer* t = tok(h);
    if (!t) return nullptr;
    auto& v = g_vocabularies[h];
    if (!v) v = es::TokenVocabulary::from_tokenizer(*t);
    return v;
}
// A JSON schema given as an object or as its text.
std::string schema_text(const json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }
Chat* chat(int h) {
    auto it = g_chats.find(h);
    if (it == g_chats.end()) { g_error = "no chat with handle " + std::to_string(h); return nullptr; }
    return it->second.get();
}
int set_ids(const std::vector<int>& v) {
    g_i32.assign(v.begin(), v.end());
    return int(g_i32.size());
}
const char* set_str(std::string s) {
    g_str = std::move(s);
    return g_str.c_str();
}

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE const char* es_assistant_last_error() { return g_error.c_str(); }
EMSCRIPTEN_KEEPALIVE int32_t* es_assistant_result_i32() { return g_i32.data(); }
EMSCRIPTEN_KEEPALIVE int es_assistant_result_i32_length() { return int(g_i32.size()); }
EMSCRIPTEN_KEEPALIVE float* es_assistant_result_f32() { return g_f32.data(); }
EMSCRIPTEN_KEEPALIVE int es_assistant_result_f32_length() { return int(g_f32.size()); }

// ---- tokenizer -----------------------------------------------------------------
EMSCRIPTEN_KEEPALIVE int es_tokenizer_load(const uint8_t* data, int size) {
    auto t = std::make_unique<es::Tokenizer>();
    if (!t->load(data, size_t(size > 0 ? size : 0), &g_error)) return 0;
    const int h = g_next++;
    g_tokenizers[h] = std::move(t);
    return h;
}
EMSCRIPTEN_KEEPALIVE int es_tokenizer_add_config(int h, const char* tokenizer_config_json) {
    es::Tokenizer* t = tok(h);
    return t && t->add_tokens_from_config(tokenizer_config_json, &g_error) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE void es_tokenizer_free(int h) { g_tokenizers.erase(h); g_vocabularies.erase(h); }
EMSCRIPTEN_KEEPALIVE int es_tokenizer_vocab_size(int h) { es::Tokenizer* t = tok(h); return t ? t->vocab_size() : -1; }
EMSCRIPTEN_KEEPALIVE int es_tokenizer_special_id(int h, const char* which) {
    es::Tokenizer* t = tok(h);
    if (!t) return -1;
    const std::string w = which;
    return w == "bos" ? t->bos_id() : w == "eos" ? t->eos_id() : w == "pad" ? t->pad_id() : w == "unk" ? t->unk_id() : -1;
}
EMSCRIPTEN_KEEPALIVE int es_tokenizer_piece_to_id(int h, const char* piece) {
    es::Tokenizer* t = tok(h);
    return t ? t->piece_to_id(piece) : -1;
}
EMSCRIPTEN_KEEPALIVE const char* es_tokenizer_piece(int h, int id) {
    es::Tokenizer* t = tok(h);
    return set_str(t ? t->piece(id) : std::string());
}
// special: 1 = special-token strings in the text become their ids (chat
// templates); 0 = SentencePiece as it is; 2 = typed text (no special piece can
// come out, see Tokenizer::encode_as_text).
EMSCRIPTEN_KEEPALIVE int es_tokenizer_encode(int h, const char* text, int special) {
    es::Tokenizer* t = tok(h);
    if (!t) return -1;
    return set_ids(special == 1 ? t->encode_with_special_tokens(text)
                   : special == 2 ? t->encode_as_text(text) : t->encode(text));
}
EMSCRIPTEN_KEEPALIVE const char* es_tokenizer_decode(int h, const int32_t* ids, int n) {
    es::Tokenizer* t = tok(h);
    if (!t) return nullptr;
    return set_str(t->decode(std::vector<int>(ids, ids + (n > 0 ? n : 0))));
}

// ---- chat: conversation + generation + classification ----------------------------------
// config_json: {"chat_template", "bos_token", "eos_token", "boi_token", "eoi_token",
//               "image_token", "mm_tokens_per_image", "stop_ids", "content_style",
//               "max_position_embeddings" (the model's), "context_limit" (the app's
//               practical cap), "min_answer_tokens"}
// The context is the smaller positive one of max_position_embeddings and context_limit.
EMSCRIPTEN_KEEPALIVE int es_chat_create(int tokenizer, const char* config_json) {
    es::Tokenizer* t = tok(tokenizer);
    if (!t) return 0;
    json j = json::parse(config_json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) { g_error = "chat config is not a JSON object"; return 0; }
    auto c = std::make_unique<Chat>();
    c->tokenizer = tokenizer;
    es::ConversationConfig& cfg = c->cfg;
    try {
        cfg.chat_template = j.value("chat_template", std::string());
        cfg.bos_token = j.value("bos_token", cfg.bos_token);
        cfg.eos_token = j.value("eos_token", cfg.eos_token);
        cfg.boi_token = j.value("boi_token", cfg.boi_token);
        cfg.eoi_token = j.value("eoi_token", cfg.eoi_token);
        cfg.image_token = j.value("image_token", cfg.image_token);
        cfg.mm_tokens_per_image = j.value("mm_tokens_per_image", cfg.mm_tokens_per_image);
        cfg.content_style = j.value("content_style", std::string());
        if (j.contains("stop_ids")) cfg.stop_ids = j["stop_ids"].get<std::vector<int>>();
        int limit = 0;
        for (const char* key : {"max_position_embeddings", "context_limit"}) {
            if (!j.contains(key) || j[key].is_null()) continue;
            const int v = j[key].get<int>();
            if (v > 0 && (limit == 0 || v < limit)) limit = v;
        }
        cfg.max_context = limit;
        cfg.min_answer_tokens = j.value("min_answer_tokens", cfg.min_answer_tokens);
    } catch (const std::exception& e) {
        g_error = std::string("chat config: ") + e.what();
        return 0;
    }
    if (cfg.chat_template.empty()) {
        g_error = "the model package has no chat template (tokenizer_config.json \"chat_template\" or chat_template.jinja)";
        return 0;
    }
    if (!c->conv.init(t, cfg, &g_error)) return 0;
    c->stream = std::make_unique<es::TextStream>(*t);
    const int h = g_next++;
    g_chats[h] = std::move(c);
    return h;
}
EMSCRIPTEN_KEEPALIVE void es_chat_free(int h) { g_chats.erase(h); }
EMSCRIPTEN_KEEPALIVE int es_chat_image_token_id(int h) { Chat* c = chat(h); return c ? c->conv.image_token_id() : -1; }
EMSCRIPTEN_KEEPALIVE int es_chat_set_system(int h, const char* text) {
    Chat* c = chat(h);
    return c && c->conv.set_system_prompt(text, &g_error) ? 1 : 0;
}
// image_crops: the image's pan-and-scan crop count (es_image_crop_count).
EMSCRIPTEN_KEEPALIVE int es_chat_ask(int h, const char* question, int with_image, int image_crops) {
    Chat* c = chat(h);
    return c && c->conv.ask(question, with_image != 0, &g_error, image_crops) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE int es_chat_max_context(int h) { Chat* c = chat(h); return c ? c->conv.max_context() : -1; }
// Plain words when older turns were set aside to fit the context ("" otherwise).
EMSCRIPTEN_KEEPALIVE const char* es_chat_context_notice(int h) {
    Chat* c = chat(h);
    return set_str(c ? c->conv.context_notice() : std::string());
}
EMSCRIPTEN_KEEPALIVE int es_chat_earlier_turn_count(int h) {
    Chat* c = chat(h);
    return c ? int(c->conv.earlier_turns().size()) : -1;
}
EMSCRIPTEN_KEEPALIVE int es_chat_edit(int h, int turn, const char* question) {
    Chat* c = chat(h);
    return c && turn >= 0 && c->conv.edit_question(size_t(turn), question, &g_error) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE void es_chat_drop_last_turn(int h) { if (Chat* c = chat(h)) c->conv.drop_last_turn(); }
EMSCRIPTEN_KEEPALIVE void es_chat_clear(int h) { if (Chat* c = chat(h)) c->conv.clear(); }
EMSCRIPTEN_KEEPALIVE int es_chat_tokens(int h) { Chat* c = chat(h); return c ? set_ids(c->conv.tokens()) : -1; }
EMSCRIPTEN_KEEPALIVE int es_chat_kv_length(int h) { Chat* c = chat(h); return c ? int(c->conv.kv_length()) : -1; }
EMSCRIPTEN_KEEPALIVE int es_chat_pending(int h) { Chat* c = chat(h); return c ? set_ids(c->conv.pending()) : -1; }
EMSCRIPTEN_KEEPALIVE int es_chat_pending_token_types(int h) {
    Chat* c = chat(h);
    return c ? set_ids(c->conv.token_types(c->conv.kv_length(), c->conv.tokens().size())) : -1;
}
EMSCRIPTEN_KEEPALIVE int es_chat_pending_has_image(int h) { Chat* c = chat(h); return c && c->conv.pending_has_image() ? 1 : 0; }
EMSCRIPTEN_KEEPALIVE void es_chat_on_prefilled(int h, int n) { if (Chat* c = chat(h); c && n > 0) c->conv.on_prefilled(size_t(n)); }
EMSCRIPTEN_KEEPALIVE void es_chat_rewind_kv(int h, int n) { if (Chat* c = chat(h); c && n >= 0) c->conv.rewind_kv(size_t(n)); }
EMSCRIPTEN_KEEPALIVE int es_chat_turn_count(int h) { Chat* c = chat(h); return c ? int(c->conv.turns().size()) : -1; }
EMSCRIPTEN_KEEPALIVE const char* es_chat_answer_text(int h, int turn) {
    Chat* c = chat(h);
    return set_str(c && turn >= 0 ? c->conv.answer_text(size_t(turn)) : std::string());
}
EMSCRIPTEN_KEEPALIVE int es_chat_answer_ids(int h, int turn) {
    Chat* c = chat(h);
    if (!c || turn < 0 || size_t(turn) >= c->conv.turns().size()) return -1;
    return set_ids(c->conv.turns()[size_t(turn)].answer_ids);
}
EMSCRIPTEN_KEEPALIVE const char* es_chat_save_json(int h) {
    Chat* c = chat(h);
    return set_str(c ? c->conv.save().dump() : std::string());
}
EMSCRIPTEN_KEEPALIVE int es_chat_restore_json(int h, const char* saved) {
    Chat* c = chat(h);
    if (!c) return 0;
    auto j = nlohmann::ordered_json::parse(saved, nullptr, false);
    if (j.is_discarded()) { g_error = "saved conversation is not valid JSON"; return 0; }
    return c->conv.restore(j, &g_error) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE const char* es_chat_messages_json(int h) {
    Chat* c = chat(h);
    return set_str(c ? c->conv.messages_json().dump() : std::string("[]"));
}

// config_json: {"max_new_tokens", "temperature", "top_k", "top_p", "repetition_penalty", "seed",
//               "json_schema" (optional: the answer is a JSON value of this schema, object or text)}
// The chat's stop ids end the answer. Call after the prompt is prefilled.
EMSCRIPTEN_KEEPALIVE int es_generation_start(int h, const char* config_json) {
    Chat* c = chat(h);
    if (!c) return 0;
    json j = json::parse(config_json ? config_json : "{}", nullptr, false);
    if (j.is_discarded() || !j.is_object()) { g_error = "generation config is not a JSON object"; return 0; }
    es::GenerationConfig g;
    try {
        g.max_new_tokens = j.value("max_new_tokens", g.max_new_tokens);
        g.sampler.temperature = j.value("temperature", 0.0f);
        g.sampler.top_k = j.value("top_k", 0);
        g.sampler.top_p = j.value("top_p", 1.0f);
        g.sampler.repetition_penalty = j.value("repetition_penalty", 1.0f);
        g.sampler.seed = j.value("seed", uint64_t(0));
    } catch (const std::exception& e) {
        g_error = std::string("generation config: ") + e.what();
        return 0;
    }
    g.stop_ids = c->cfg.stop_ids;
    g.never_ids = c->conv.never_generated_ids();
    if (c->conv.turns().empty() || !c->conv.answering()) { g_error = "ask a question before generating"; return 0; }
    // Never past the model's context: the answer stops where it is full.
    const size_t room = c->conv.answer_room();
    c->context_capped = g.max_new_tokens > 0 && size_t(g.max_new_tokens) > room;
    if (c->context_capped) g.max_new_tokens = int(room);
    if (j.contains("json_schema") && !j["json_schema"].is_null()) {
        auto constraint = es::JsonConstraint::create(schema_text(j["json_schema"]), es::SchemaLimits(), vocabulary(c->tokenizer), &g_error);
        if (!constraint) return 0;
        if (constraint->min_tokens() + 1 > g.max_new_tokens) {
            g_error = "The answer may take at most " + std::to_string(g.max_new_tokens) + " tokens" +
                      (c->context_capped ? " (the room left in the model's context)" : "") +
                      ", but the shortest JSON value of this schema needs " + std::to_string(constraint->min_tokens() + 1) +
                      ". Allow more tokens or start a new conversation.";
            return 0;
        }
        g.constraint = std::move(constraint);
    }
    c->gen.start(g, c->conv.tokens());
    c->stream->reset();
    c->delta.clear();
    return 1;
}
// Hands the logits of the last position to the generator. Returns the token to
// feed next (>= 0), or -1 when the answer is finished (see es_generation_finish_reason).
EMSCRIPTEN_KEEPALIVE int es_generation_step(int h, const float* logits, int vocab) {
    Chat* c = chat(h);
    if (!c) return -1;
    const size_t fed_before = c->gen.fed();
    es::StepResult r = c->gen.on_logits(logits, vocab);
    if (c->gen.fed() > fed_before) c->conv.on_fed(c->gen.fed() - fed_before);
    c->delta.clear();
    if (r.token >= 0) {
        c->conv.on_answer_token(r.token);
        const bool stop = r.reason == es::FinishReason::StopToken;
        if (!stop) c->delta = c->stream->push(r.token);
    }
    if (r.finished) c->conv.finish_answer();
    return r.feed ? r.token : -1;
}
// Tokens to feed after the one es_generation_step just returned, in the same
// decoder pass (prompt lookup, assistant/prompt_lookup.h): at most max_draft,
// never more than the answer may still grow. The runtime keeps a draft only
// while es_generation_step, given the row before it, returns that token.
EMSCRIPTEN_KEEPALIVE int es_generation_draft(int h, int max_draft) {
    Chat* c = chat(h);
    if (!c) return -1;
    es::PromptLookupConfig cfg;
    cfg.max_draft = std::min(max_draft, c->gen.tokens_left());
    if (cfg.max_draft <= 0) return set_ids({});
    if (c->never_ids.empty()) c->never_ids = c->conv.never_generated_ids();
    return set_ids(es::prompt_lookup_draft(c->conv.tokens(), cfg, c->never_ids));
}
EMSCRIPTEN_KEEPALIVE void es_generation_cancel(int h) { if (Chat* c = chat(h)) c->gen.cancel(); }
EMSCRIPTEN_KEEPALIVE int es_generation_last_token(int h) {
    Chat* c = chat(h);
    return c && !c->gen.generated().empty() ? c->gen.generated().back() : -1;
}
EMSCRIPTEN_KEEPALIVE const char* es_generation_text_delta(int h) { Chat* c = chat(h); return set_str(c ? c->delta : std::string()); }
// "stop", "length", "cancelled", "error", or "context": the answer filled the
// model's context (es_generation_context_message says so in plain words).
EMSCRIPTEN_KEEPALIVE const char* es_generation_finish_reason(int h) {
    Chat* c = chat(h);
    if (!c) return "error";
    if (c->context_capped && c->gen.reason() == es::FinishReason::MaxTokens) return "context";
    return es::finish_reason_name(c->gen.reason());
}
EMSCRIPTEN_KEEPALIVE const char* es_generation_context_message(int h) {
    Chat* c = chat(h);
    if (!c || !(c->context_capped && c->gen.reason() == es::FinishReason::MaxTokens)) return set_str("");
    return set_str("The answer stopped because the conversation reached the model's context of " +
                   std::to_string(c->conv.max_context()) +
                   " tokens. Ask again to continue: the oldest questions will be set aside to make room.");
}
// Why the answer ended with reason "error", in plain words ("" otherwise).
EMSCRIPTEN_KEEPALIVE const char* es_generation_error_message(int h) {
    Chat* c = chat(h);
    return set_str(c && c->gen.reason() == es::FinishReason::Error ? c->gen.error() : std::string());
}
// Checks that a JSON schema can constrain this tokenizer's output: 1, or 0 with
// the reason in es_assistant_last_error (e.g. a tool registry checked on load).
EMSCRIPTEN_KEEPALIVE int es_generation_check_schema(int tokenizer, const char* schema_json) {
    auto v = vocabulary(tokenizer);
    if (!v) return 0;
    return es::JsonConstraint::create(schema_json ? schema_json : "", es::SchemaLimits(), v, &g_error) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE int es_generation_generated(int h) { Chat* c = chat(h); return c ? set_ids(c->gen.generated()) : -1; }

// Classification over the chat's current prompt (ask the label question first,
// prefill it, do not generate). answers_json: ["polyp", "ulcer", ...].
EMSCRIPTEN_KEEPALIVE int es_classification_begin(int h, const char* answers_json, int end_id) {
    Chat* c = chat(h);
    if (!c) return -1;
    json j = json::parse(answers_json, nullptr, false);
    if (j.is_discarded() || !j.is_array()) { g_error = "label answers must be a JSON list of strings"; return -1; }
    std::vector<std::string> answers;
    for (auto& e : j) {
        if (!e.is_string()) { g_error = "label answers must be strings"; return -1; }
        answers.push_back(e.get<std::string>());
    }
    es::Tokenizer* t = tok(c->tokenizer);
    if (!t || !c->scorer.begin(*t, answers, end_id, &g_error)) return -1;
    return int(c->scorer.size());
}
EMSCRIPTEN_KEEPALIVE int es_classification_run_tokens(int h, int i) {
    Chat* c = chat(h);
    return c && i >= 0 && size_t(i) < c->scorer.size() ? set_ids(c->scorer.run_tokens(size_t(i))) : -1;
}
EMSCRIPTEN_KEEPALIVE void es_classification_set_prefix_logits(int h, const float* row, int vocab) {
    if (Chat* c = chat(h)) c->scorer.set_prefix_logits(row, vocab);
}
EMSCRIPTEN_KEEPALIVE int es_classification_add(int h, int i, const float* logits, int rows, int vocab) {
    Chat* c = chat(h);
    return c && i >= 0 && c->scorer.add_label_logits(size_t(i), logits, rows, vocab, &g_error) ? 1 : 0;
}
EMSCRIPTEN_KEEPALIVE const char* es_classification_result_json(int h) {
    Chat* c = chat(h);
    if (!c) return nullptr;
    if (!c->scorer.complete()) { g_error = "classification is not complete"; return nullptr; }
    json r = {{"log_likelihoods", c->scorer.log_likelihoods()},
              {"probabilities", c->scorer.probabilities()},
              {"ranking", c->scorer.ranking()}};
    return set_str(r.dump());
}

// ---- labels, images, boxes ------------------------------------------------------------
// A models/labels/*.json set (label_set.h) as the classifier sees it:
// {id, name, labels: [{id, name, parent, leaf, answer}]}; `answer` is the text
// scored after the prompt (the label's name).
EMSCRIPTEN_KEEPALIVE const char* es_classification_label_set(const char* text) {
    es::LabelSetLoad load = es::parse_label_set(std::string(text));
    if (!load.ok) { g_error = "label set: " + load.error; return nullptr; }
    json labels = json::array();
    for (const auto& l : load.set.labels)
        labels.push_back({{"id", l.id}, {"name", l.name}, {"parent", l.parent},
                          {"leaf", load.set.children(l.id).empty()}, {"answer", l.name}});
    return set_str(json{{"id", load.set.id}, {"name", load.set.name}, {"labels", labels}}.dump());
}

// Encoded image bytes (PNG/JPEG/BMP) -> pixel_values [N, 3, H, W] in the f32
// result (the image, then its pan-and-scan crops); the i32 result holds
// [N, 3, H, W]. Returns the float count, or -1.
EMSCRIPTEN_KEEPALIVE int es_image_preprocess(const uint8_t* bytes, int size, const char* preprocessor_config_json) {
    es::ImagePreprocessConfig cfg;
    if (!es::parse_preprocessor_config(preprocessor_config_json, &cfg, &g_error)) return -1;
    es::DecodeResult d = es::decode_image(bytes, size_t(size > 0 ? size : 0));
    if (!d.ok) { g_error = "image: " + d.error; return -1; }
    es::PixelValues pv;
    if (!es::preprocess_image(d.image, cfg, &pv, &g_error)) return -1;
    g_i32 = {pv.images, 3, pv.height, pv.width};
    g_f32 = std::move(pv.data);
    return int(g_f32.size());
}
// How many pan-and-scan crops a width x height image gets (0 when the config
// does not enable pan-and-scan); pass it to es_chat_ask. -1 on a bad config.
EMSCRIPTEN_KEEPALIVE int es_image_crop_count(int width, int height, const char* preprocessor_config_json) {
    es::ImagePreprocessConfig cfg;
    if (!es::parse_preprocessor_config(preprocessor_config_json, &cfg, &g_error)) return -1;
    return int(es::pan_and_scan_crops(width, height, cfg).size());
}
// Same from RGBA8 pixels already in memory (the viewer's decoded image).
EMSCRIPTEN_KEEPALIVE int es_image_preprocess_rgba(const uint8_t* rgba, int width, int height, const char* preprocessor_config_json) {
    es::ImagePreprocessConfig cfg;
    if (!es::parse_preprocessor_config(preprocessor_config_json, &cfg, &g_error)) return -1;
    if (width <= 0 || height <= 0) { g_error = "image: empty"; return -1; }
    es::Image img;
    img.width = width;
    img.height = height;
    img.rgba.assign(rgba, rgba + size_t(width) * size_t(height) * 4);
    es::PixelValues pv;
    if (!es::preprocess_image(img, cfg, &pv, &g_error)) return -1;
    g_i32 = {pv.images, 3, pv.height, pv.width};
    g_f32 = std::move(pv.data);
    return int(g_f32.size());
}

// options_json: {"format": "auto|normalized_1|normalized_1000|pixels|paligemma_loc",
//                "order": "xyxy|yxyx", "width": W, "height": H}
static bool box_options(const char* options_json, es::BoxParseOptions* o) {
    json j = json::parse(options_json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) { g_error = "box options are not a JSON object"; return false; }
    if (!es::parse_box_format(j.value("format", std::string("auto")), &o->format)) {
        g_error = "unknown box format '" + j.value("format", std::string()) + "'";
        return false;
    }
    o->order = j.value("order", std::string("xyxy")) == "yxyx" ? es::BoxOrder::YXYX : es::BoxOrder::XYXY;
    o->image_width = j.value("width", 0);
    o->image_height = j.value("height", 0);
    return true;
}
EMSCRIPTEN_KEEPALIVE const char* es_box_parse(const char* text, const char* options_json) {
    es::BoxParseOptions o;
    if (!box_options(options_json, &o)) return nullptr;
    json out = json::array();
    for (auto& b : es::parse_boxes(text, o))
        out.push_back({{"x1", b.x1}, {"y1", b.y1}, {"x2", b.x2}, {"y2", b.y2}, {"label", b.label},
                       {"begin", b.begin}, {"end", b.end}});
    return set_str(out.dump());
}
EMSCRIPTEN_KEEPALIVE const char* es_box_format(float x1, float y1, float x2, float y2, const char* options_json) {
    es::BoxParseOptions o;
    if (!box_options(options_json, &o)) return nullptr;
    return set_str(es::format_box(x1, y1, x2, y2, o));
}

}  // extern "C"
