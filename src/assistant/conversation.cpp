#include "assistant/conversation.h"

#include <algorithm>

#include "assistant/image_preprocess.h"

namespace es {

using ojson = nlohmann::ordered_json;

// Stands in for the previous answer when rendering, so the text after it is
// exactly what the template adds between that answer and the new question.
static const char* kAnswerSentinel = "\x01\x02ES_ANSWER\x02\x01";
// Mark where typed text sits in the rendered prompt (typed text loses any
// \x01 byte, so it can never forge a marker).
static const std::string kTextOpen = "\x01\x03";
static const std::string kTextClose = "\x03\x01";

static std::string without_markers_bytes(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text)
        if (c != '\x01') out += c;
    return out;
}

// Jinja's trim on ASCII whitespace; other edge whitespace makes the rendering
// check below fail, which is handled safely.
static std::string trim_ascii(const std::string& s) {
    const char* ws = " \t\n\r\f\v";
    const size_t b = s.find_first_not_of(ws);
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// Splits a rendering with markers into (typed?, text) segments; false when
// markers do not pair up (the template cut or reordered the text).
static bool split_marked(const std::string& marked, std::vector<std::pair<bool, std::string>>* segs) {
    segs->clear();
    size_t pos = 0;
    for (;;) {
        const size_t open = marked.find(kTextOpen, pos);
        const size_t close_any = marked.find(kTextClose, pos);
        if (open == std::string::npos) {
            if (close_any != std::string::npos) return false;
            segs->emplace_back(false, marked.substr(pos));
            return true;
        }
        if (close_any != std::string::npos && close_any < open) return false;
        segs->emplace_back(false, marked.substr(pos, open - pos));
        const size_t close = marked.find(kTextClose, open + kTextOpen.size());
        if (close == std::string::npos) return false;
        const std::string inner = marked.substr(open + kTextOpen.size(), close - open - kTextOpen.size());
        if (inner.find(kTextOpen) != std::string::npos) return false;
        segs->emplace_back(true, inner);
        pos = close + kTextClose.size();
    }
}

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
    earlier_.clear();
    notice_.clear();
    tokens_.clear();
    kv_length_ = 0;
}

void Conversation::drop_last_turn() {
    if (turns_.empty() || turns_.back().answered || !turns_.back().answer_ids.empty()) return;
    turns_.pop_back();
    rebuild_tokens();
}

bool Conversation::set_system_prompt(const std::string& text, std::string* error) {
    if (text == system_) return true;
    if (turns_.empty()) {
        system_ = text;
        return true;
    }
    // Everything depends on the first turn's rendering: rebuild its prompt and
    // keep the rest (their prompts do not include the system text).
    const std::string old_system = system_;
    const std::vector<ChatTurn> old_turns = turns_, old_earlier = earlier_;
    const std::string old_notice = notice_;
    const size_t old_kv = kv_length_;
    auto revert = [&]() {
        system_ = old_system;
        turns_ = old_turns;
        earlier_ = old_earlier;
        notice_ = old_notice;
        rebuild_tokens();
        kv_length_ = old_kv;
    };
    system_ = text;
    if (!build_prompt(0, &turns_[0].prompt_ids, error)) {
        revert();
        return false;
    }
    kv_length_ = 0;
    rebuild_tokens();
    if (!fit_context(error)) {
        revert();
        if (error) *error = "The system prompt is too long for the model's context: " + *error;
        return false;
    }
    return true;
}

ojson Conversation::message(const std::string& role, const std::string& raw, bool with_image, int wrap) const {
    ojson m = {{"role", role}};
    // Typed text (user, system) never carries the marker byte.
    std::string text = role == "assistant" ? raw : without_markers_bytes(raw);
    if (wrap) {
        if (wrap == 2) text = trim_ascii(text);
        text = kTextOpen + text + kTextClose;
    }
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

bool Conversation::render_turn(size_t turn, int wrap, std::string* out, std::string* error) const {
    ojson msgs = ojson::array();
    if (!system_.empty()) msgs.push_back(message("system", system_, false, wrap));
    for (size_t i = 0; i < turn; ++i) {
        msgs.push_back(message("user", turns_[i].question, turns_[i].with_image, wrap));
        const bool last = i + 1 == turn;
        msgs.push_back(message("assistant", last ? kAnswerSentinel : answer_text(i), false));
    }
    msgs.push_back(message("user", turns_[turn].question, turns_[turn].with_image, wrap));
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
    *out = std::move(text);
    return true;
}

bool Conversation::build_prompt(size_t turn, std::vector<int>* ids, std::string* error) const {
    // The template's text (control tokens, image markers) and the typed text
    // are told apart by rendering once with markers around typed text; the
    // marked rendering must equal the plain one once the markers are removed
    // (templates that trim text are rendered again with trimmed text).
    std::string plain;
    if (!render_turn(turn, 0, &plain, error)) return false;
    std::vector<std::pair<bool, std::string>> segs;
    bool marked_ok = false;
    for (int wrap = 1; wrap <= 2 && !marked_ok; ++wrap) {
        std::string marked, err;
        if (!render_turn(turn, wrap, &marked, &err) || !split_marked(marked, &segs)) continue;
        std::string joined;
        for (const auto& s : segs) joined += s.second;
        marked_ok = joined == plain;
    }
    if (!marked_ok) {
        // Unknown transformation of the text: safe only if nothing typed could
        // become a control token.
        bool typed_special = !tok_->special_spans(system_).empty();
        for (size_t i = 0; i <= turn; ++i) typed_special = typed_special || !tok_->special_spans(turns_[i].question).empty();
        if (typed_special) {
            if (error)
                *error = "This model's chat template changes the question text in a way that cannot be checked, and the "
                         "text contains a control-token name (such as <end_of_turn>) that the model would obey. Remove "
                         "the part in angle brackets and ask again.";
            return false;
        }
        segs = {{false, plain}};
    }
    // Image markers come only from the template: expand them there, never in typed text.
    const std::vector<int> crops{turns_[turn].image_crops};
    for (auto& s : segs)
        if (!s.first)
            s.second = expand_image_tokens(s.second, cfg_.boi_token, cfg_.image_token, cfg_.eoi_token,
                                           cfg_.mm_tokens_per_image, crops);
    std::string full;
    std::vector<std::pair<size_t, size_t>> typed;
    for (const auto& s : segs) {
        if (s.first) typed.emplace_back(full.size(), full.size() + s.second.size());
        full += s.second;
    }
    bool injected = false;
    for (const auto& sp : tok_->special_spans(full))
        for (const auto& t : typed)
            if (sp.first < t.second && t.first < sp.second) injected = true;
    if (!injected) {
        // Nothing typed can become a special token: encode the whole prompt
        // at once, exactly as transformers does.
        *ids = tok_->encode_with_special_tokens(full);
        return true;
    }
    ids->clear();
    for (const auto& s : segs) {
        const std::vector<int> part = s.first ? tok_->encode_as_text(s.second) : tok_->encode_with_special_tokens(s.second);
        ids->insert(ids->end(), part.begin(), part.end());
    }
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

std::vector<int> never_generated_ids(const Tokenizer& tok, const ConversationConfig& cfg) {
    std::vector<int> ids = {tok.piece_to_id(cfg.boi_token), tok.piece_to_id(cfg.eoi_token),
                            tok.piece_to_id(cfg.image_token), tok.piece_to_id(cfg.bos_token), tok.bos_id(), tok.pad_id()};
    ids.erase(std::remove_if(ids.begin(), ids.end(),
                             [&](int id) {
                                 return id < 0 || std::find(cfg.stop_ids.begin(), cfg.stop_ids.end(), id) != cfg.stop_ids.end();
                             }),
              ids.end());
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

size_t Conversation::answer_room() const {
    if (cfg_.max_context <= 0) return size_t(1) << 30;
    const size_t limit = size_t(cfg_.max_context);
    return tokens_.size() >= limit ? 0 : limit - tokens_.size();
}

bool Conversation::fit_context(std::string* error) {
    if (cfg_.max_context <= 0) return true;
    const size_t limit = size_t(cfg_.max_context);
    const size_t reserve = std::min<size_t>(size_t(std::max(cfg_.min_answer_tokens, 1)), std::max<size_t>(1, limit / 4));
    if (tokens_.size() + reserve <= limit) return true;
    const std::vector<ChatTurn> all = turns_;
    const std::vector<int> saved_tokens = tokens_;
    const size_t saved_kv = kv_length_;
    auto restore_state = [&]() {
        turns_ = all;
        tokens_ = saved_tokens;
        kv_length_ = saved_kv;
    };
    size_t alone = tokens_.size();
    for (size_t drop = 1; drop < all.size(); ++drop) {
        // Drop the oldest turns whole; the image moves to the first turn kept.
        turns_.assign(all.begin() + std::ptrdiff_t(drop), all.end());
        for (size_t i = 0; i < drop; ++i)
            if (all[i].with_image && !turns_.front().with_image) {
                turns_.front().with_image = true;
                turns_.front().image_crops = all[i].image_crops;
            }
        for (size_t i = 0; i < turns_.size(); ++i)
            if (!build_prompt(i, &turns_[i].prompt_ids, error)) {
                restore_state();
                return false;
            }
        kv_length_ = 0;  // every position moved: the runtime prefills again
        rebuild_tokens();
        alone = tokens_.size();
        if (tokens_.size() + reserve <= limit) {
            earlier_.insert(earlier_.end(), all.begin(), all.begin() + std::ptrdiff_t(drop));
            const size_t kept_answered = turns_.size() - 1;
            notice_ = "To stay within the model's context of " + std::to_string(limit) + " tokens, the " +
                      std::to_string(earlier_.size()) + " oldest question" + (earlier_.size() == 1 ? "" : "s") +
                      " and answer" + (earlier_.size() == 1 ? " was" : "s were") +
                      " set aside (still saved with the case; the model no longer sees them). The model still sees the image" +
                      (kept_answered ? " and the latest " + std::to_string(kept_answered) + " question" +
                                           (kept_answered == 1 ? "" : "s") + " before this one."
                                     : " and this question.");
            return true;
        }
    }
    restore_state();
    if (error)
        *error = "This question is too long for the model: with the image and the system prompt it needs " + std::to_string(alone) +
                 " tokens, and the model reads at most " + std::to_string(limit) + " (" + std::to_string(reserve) +
                 " of them kept for the answer). Shorten the question and ask again.";
    return false;
}

bool Conversation::ask(const std::string& question, bool with_image, std::string* error, int image_crops) {
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
    t.image_crops = with_image ? std::max(0, image_crops) : 0;
    turns_.push_back(t);
    if (!build_prompt(turns_.size() - 1, &turns_.back().prompt_ids, error)) {
        turns_.pop_back();
        return false;
    }
    tokens_.insert(tokens_.end(), turns_.back().prompt_ids.begin(), turns_.back().prompt_ids.end());
    if (!fit_context(error)) {
        tokens_.resize(tokens_.size() - turns_.back().prompt_ids.size());
        turns_.pop_back();
        return false;
    }
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
    if (!fit_context(error)) {
        turns_ = saved;
        rebuild_tokens();
        return false;
    }
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
    if (answer_room() == 0) return;  // never past the context: the generator is stopped before
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
    auto add = [&](const ChatTurn& t, bool in_context) {
        ojson j = {{"question", t.question}, {"with_image", t.with_image}, {"prompt_ids", t.prompt_ids},
                   {"answer_ids", t.answer_ids}, {"answer_text", tok_ ? tok_->decode(t.answer_ids) : ""},
                   {"answered", t.answered}};
        if (t.image_crops) j["image_crops"] = t.image_crops;
        if (!in_context) j["in_context"] = false;
        turns.push_back(j);
    };
    for (const auto& t : earlier_) add(t, false);
    for (const auto& t : turns_) add(t, true);
    return {{"format", "endoscribe-conversation"}, {"version", 1}, {"system", system_}, {"turns", turns}};
}

bool Conversation::restore(const nlohmann::ordered_json& j, std::string* error) {
    auto fail = [&](const std::string& m) { if (error) *error = "saved conversation: " + m; return false; };
    if (!tok_) return fail("conversation not initialised");
    if (!j.is_object() || j.value("format", std::string()) != "endoscribe-conversation") return fail("not a conversation");
    if (j.value("version", 0) != 1) return fail("unsupported version");
    if (!j.contains("turns") || !j["turns"].is_array()) return fail("no turns");
    std::vector<ChatTurn> turns, earlier;
    const int vocab = tok_->vocab_size();
    try {
        for (const auto& t : j["turns"]) {
            ChatTurn c;
            c.question = t.at("question").get<std::string>();
            c.with_image = t.value("with_image", false);
            c.image_crops = std::max(0, t.value("image_crops", 0));
            c.prompt_ids = t.at("prompt_ids").get<std::vector<int>>();
            c.answer_ids = t.value("answer_ids", std::vector<int>());
            c.answered = t.value("answered", true);
            const std::string text = t.value("answer_text", std::string());
            bool ids_ok = true;
            for (int id : c.prompt_ids) ids_ok = ids_ok && id >= 0 && id < vocab;
            for (int id : c.answer_ids) ids_ok = ids_ok && id >= 0 && id < vocab;
            if (!ids_ok || tok_->decode(c.answer_ids) != text) {
                c.answer_ids = tok_->encode_as_text(text);
                c.prompt_ids.clear();  // rebuilt below with this tokenizer
            }
            c.answered = true;  // an answer cut by the reload is complete as it stands
            if (!t.value("in_context", true)) earlier.push_back(std::move(c));
            else turns.push_back(std::move(c));
        }
    } catch (const std::exception& e) {
        return fail(std::string("malformed turn (") + e.what() + ")");
    }
    system_ = j.value("system", std::string());
    turns_ = std::move(turns);
    earlier_ = std::move(earlier);
    notice_.clear();
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
