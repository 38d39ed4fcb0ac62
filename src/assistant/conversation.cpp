#include "assistant/conversation.h"

#include <algorithm>

#include "assistant/image_preprocess.h"

namespace es {

using ojson = nlohmann::ordered_json;

// Stands in for the previous answer when rendering, so the text after it is
// exactly what the template adds between that answer and the new question.
static const char* kAnswerSentinel = "\x01\x02ES_ANSWER\x02\x01";

bool Conversation::init(const Tokenizer* tok, const ConversationConfig& cfg, std::string* error) {
    if (!tok || !tok->loaded()) {
        if (error) *error = "conversation: tokenizer not loaded";
        return false;
    }
    tok_ = tok;
    cfg_ = cfg;
    if (!tmpl_.parse(cfg.chat_template, error)) return false;
    if (cfg.content_style == "parts") parts_ = true;
    else if (cfg.content_style == "text") parts_ = false;
    else {
        const std::string& s = cfg.chat_template;
        parts_ = s.find("'type'") != std::string::npos || s.find("\"type\"") != std::string::npos ||
                 s.find(".type") != std::string::npos;
    }
    image_token_id_ = tok->piece_to_id(cfg.image_token);
    clear();
    return true;
}

void Conversation::clear() {
    turns_.clear();
    tokens_.clear();
    kv_length_ = 0;
}

void Conversation::drop_last_turn() {
    if (turns_.empty() || turns_.back().answered || !turns_.back().answer_ids.empty()) return;
    turns_.pop_back();
    rebuild_tokens();
}

void Conversation::set_system_prompt(const std::string& text) {
    if (text == system_) return;
    system_ = text;
    if (turns_.empty()) return;
    // Everything depends on the first turn's rendering: rebuild its prompt and
    // keep the rest (their prompts do not include the system text).
    std::vector<int> ids;
    std::string err;
    if (build_prompt(0, &ids, &err)) turns_[0].prompt_ids = ids;
    rebuild_tokens();
    kv_length_ = 0;
}

ojson Conversation::message(const std::string& role, const std::string& text, bool with_image) const {
    ojson m = {{"role", role}};
    if (parts_) {
        ojson parts = ojson::array();
        if (with_image) parts.push_back({{"type", "image"}});
        parts.push_back({{"type", "text"}, {"text", text}});
        m["content"] = parts;
    } else {
        m["content"] = (with_image ? cfg_.boi_token : std::string()) + text;
    }
    return m;
}

bool Conversation::build_prompt(size_t turn, std::vector<int>* ids, std::string* error) const {
    ojson msgs = ojson::array();
    if (!system_.empty()) msgs.push_back(message("system", system_, false));
    for (size_t i = 0; i < turn; ++i) {
        msgs.push_back(message("user", turns_[i].question, turns_[i].with_image));
        const bool last = i + 1 == turn;
        msgs.push_back(message("assistant", last ? kAnswerSentinel : answer_text(i), false));
    }
    msgs.push_back(message("user", turns_[turn].question, turns_[turn].with_image));
    std::string text;
    if (!tmpl_.render(chat_context(msgs, true, cfg_.bos_token, cfg_.eos_token), &text, error)) return false;
    if (turn > 0) {
        const size_t at = text.find(kAnswerSentinel);
        if (at == std::string::npos) {
            if (error) *error = "conversation: the chat template drops earlier answers; cannot continue the chat";
            return false;
        }
        text = text.substr(at + std::string(kAnswerSentinel).size());
        // The previous answer's own stop token (e.g. <end_of_turn>) is already in
        // the sequence: do not add the template's copy of it again.
        const auto& prev = turns_[turn - 1].answer_ids;
        if (!prev.empty() && std::find(cfg_.stop_ids.begin(), cfg_.stop_ids.end(), prev.back()) != cfg_.stop_ids.end()) {
            const std::string piece = tok_->piece(prev.back());
            if (!piece.empty() && text.compare(0, piece.size(), piece) == 0) text = text.substr(piece.size());
        }
    }
    text = expand_image_tokens(text, cfg_.boi_token, cfg_.image_token, cfg_.eoi_token, cfg_.mm_tokens_per_image);
    *ids = tok_->encode_with_special_tokens(text);
    return true;
}

void Conversation::rebuild_tokens() {
    tokens_.clear();
    for (const auto& t : turns_) {
        tokens_.insert(tokens_.end(), t.prompt_ids.begin(), t.prompt_ids.end());
        tokens_.insert(tokens_.end(), t.answer_ids.begin(), t.answer_ids.end());
    }
    kv_length_ = std::min(kv_length_, tokens_.size());
}

bool Conversation::ask(const std::string& question, bool with_image, std::string* error) {
    if (!tok_) {
        if (error) *error = "conversation: not initialised";
        return false;
    }
    if (answering()) {
        if (error) *error = "conversation: the previous answer is not finished";
        return false;
    }
    ChatTurn t;
    t.question = question;
    t.with_image = with_image;
    turns_.push_back(t);
    if (!build_prompt(turns_.size() - 1, &turns_.back().prompt_ids, error)) {
        turns_.pop_back();
        return false;
    }
    tokens_.insert(tokens_.end(), turns_.back().prompt_ids.begin(), turns_.back().prompt_ids.end());
    return true;
}

bool Conversation::edit_question(size_t turn, const std::string& question, std::string* error) {
    if (turn >= turns_.size()) {
        if (error) *error = "conversation: no such turn";
        return false;
    }
    std::vector<ChatTurn> saved = turns_;
    size_t start = 0;  // token index where this turn's prompt starts
    for (size_t i = 0; i < turn; ++i) start += turns_[i].prompt_ids.size() + turns_[i].answer_ids.size();
    turns_.resize(turn + 1);
    turns_[turn].question = question;
    turns_[turn].answer_ids.clear();
    turns_[turn].answered = false;
    if (!build_prompt(turn, &turns_[turn].prompt_ids, error)) {
        turns_ = saved;
        return false;
    }
    rebuild_tokens();
    // The cache stays valid up to where the edited turn starts.
    kv_length_ = std::min(kv_length_, start);
    return true;
}

std::vector<int> Conversation::pending() const {
    return std::vector<int>(tokens_.begin() + std::ptrdiff_t(kv_length_), tokens_.end());
}

std::vector<int> Conversation::token_types(size_t from, size_t to) const {
    to = std::min(to, tokens_.size());
    std::vector<int> out;
    for (size_t i = from; i < to; ++i) out.push_back(tokens_[i] == image_token_id_ ? 1 : 0);
    return out;
}

bool Conversation::pending_has_image() const {
    for (size_t i = kv_length_; i < tokens_.size(); ++i)
        if (tokens_[i] == image_token_id_) return true;
    return false;
}

void Conversation::on_prefilled(size_t n) { kv_length_ = std::min(tokens_.size(), kv_length_ + n); }

void Conversation::on_answer_token(int id) {
    if (turns_.empty() || turns_.back().answered) return;
    turns_.back().answer_ids.push_back(id);
    tokens_.push_back(id);
}

void Conversation::finish_answer() {
    if (!turns_.empty()) turns_.back().answered = true;
}

std::string Conversation::answer_text(size_t turn) const {
    if (turn >= turns_.size() || !tok_) return {};
    std::vector<int> ids = turns_[turn].answer_ids;
    if (!ids.empty() && std::find(cfg_.stop_ids.begin(), cfg_.stop_ids.end(), ids.back()) != cfg_.stop_ids.end())
        ids.pop_back();
    return tok_->decode(ids);
}

ojson Conversation::messages_json() const {
    ojson msgs = ojson::array();
    if (!system_.empty()) msgs.push_back(message("system", system_, false));
    for (size_t i = 0; i < turns_.size(); ++i) {
        msgs.push_back(message("user", turns_[i].question, turns_[i].with_image));
        if (!turns_[i].answer_ids.empty() || turns_[i].answered)
            msgs.push_back(message("assistant", answer_text(i), false));
    }
    return msgs;
}

bool Conversation::render_text(bool add_generation_prompt, std::string* out, std::string* error) const {
    return tmpl_.render(chat_context(messages_json(), add_generation_prompt, cfg_.bos_token, cfg_.eos_token), out, error);
}

}  // namespace es

namespace es {

nlohmann::ordered_json Conversation::save() const {
    ojson turns = ojson::array();
    for (size_t i = 0; i < turns_.size(); ++i) {
        const auto& t = turns_[i];
        turns.push_back({{"question", t.question}, {"with_image", t.with_image}, {"prompt_ids", t.prompt_ids},
                         {"answer_ids", t.answer_ids}, {"answer_text", tok_ ? tok_->decode(t.answer_ids) : ""},
                         {"answered", t.answered}});
    }
    return {{"format", "endoscribe-conversation"}, {"version", 1}, {"system", system_}, {"turns", turns}};
}

bool Conversation::restore(const nlohmann::ordered_json& j, std::string* error) {
    auto fail = [&](const std::string& m) { if (error) *error = "saved conversation: " + m; return false; };
    if (!tok_) return fail("conversation not initialised");
    if (!j.is_object() || j.value("format", std::string()) != "endoscribe-conversation") return fail("not a conversation");
    if (j.value("version", 0) != 1) return fail("unsupported version");
    if (!j.contains("turns") || !j["turns"].is_array()) return fail("no turns");
    std::vector<ChatTurn> turns;
    const int vocab = tok_->vocab_size();
    try {
        for (const auto& t : j["turns"]) {
            ChatTurn c;
            c.question = t.at("question").get<std::string>();
            c.with_image = t.value("with_image", false);
            c.prompt_ids = t.at("prompt_ids").get<std::vector<int>>();
            c.answer_ids = t.value("answer_ids", std::vector<int>());
            c.answered = t.value("answered", true);
            const std::string text = t.value("answer_text", std::string());
            bool ids_ok = true;
            for (int id : c.prompt_ids) ids_ok = ids_ok && id >= 0 && id < vocab;
            for (int id : c.answer_ids) ids_ok = ids_ok && id >= 0 && id < vocab;
            if (!ids_ok || tok_->decode(c.answer_ids) != text) {
                c.answer_ids = tok_->encode(text);
                c.prompt_ids.clear();  // rebuilt below with this tokenizer
            }
            c.answered = true;  // an answer cut by the reload is complete as it stands
            turns.push_back(std::move(c));
        }
    } catch (const std::exception& e) {
        return fail(std::string("malformed turn (") + e.what() + ")");
    }
    system_ = j.value("system", std::string());
    turns_ = std::move(turns);
    for (size_t i = 0; i < turns_.size(); ++i)
        if (turns_[i].prompt_ids.empty() && !build_prompt(i, &turns_[i].prompt_ids, error)) {
            clear();
            return false;
        }
    kv_length_ = 0;
    rebuild_tokens();
    return true;
}

}  // namespace es
