// conversation.h: the state of one chat about one image. It owns the token
// sequence (prompt parts built with the package's chat template, answers as
// the generated ids themselves, never re-tokenised), knows how much of it the
// runtime has already run through the decoder (the KV cache), and so says
// exactly which tokens the next step must prefill. Editing an earlier question
// drops the turns after it and tells the runtime how much cache to keep.
//
// Runtime protocol:
//   ask(question)            -> pending() = the new tokens; token_types() for them
//   [runtime prefills pending() on top of kv_length()] -> on_prefilled(n)
//   on_answer_token(id)       for each generated id (the last one is not fed)
//   on_fed(n)                 after the runtime fed n more answer tokens
//   finish_answer()           when the generator finishes
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "assistant/chat_template.h"
#include "assistant/tokenizer.h"

namespace es {

struct ConversationConfig {
    std::string chat_template;  // Jinja source from tokenizer_config.json / chat_template.jinja
    std::string bos_token = "<bos>";
    std::string eos_token = "<eos>";
    std::string boi_token = "<start_of_image>";
    std::string eoi_token = "<end_of_image>";
    std::string image_token = "<image_soft_token>";
    int mm_tokens_per_image = 256;
    std::vector<int> stop_ids;  // answers end with one of these (eos, <end_of_turn>)
    // How a message's content reaches the template: "parts" (a list of
    // {"type":"image"} / {"type":"text"} items, Gemma-3 templates) or "text" (a
    // string with boi_token inline, for templates that only print content).
    // Empty = decided from the template source.
    std::string content_style;
    // The most tokens the model may hold (prompts + answers): the smaller of
    // the model's max_position_embeddings and the app's practical limit; 0 =
    // no limit. A new question that would not fit with room for an answer
    // sets the oldest turns aside, whole (see ask()).
    int max_context = 0;
    // Room kept free for the answer when a question is added (capped at a
    // quarter of max_context).
    int min_answer_tokens = 64;
};

// The image markers (boi, eoi, the image token), <bos> and <pad> of this
// tokenizer and configuration, less the stop ids: what no answer may contain.
std::vector<int> never_generated_ids(const Tokenizer& tok, const ConversationConfig& cfg);

struct ChatTurn {
    std::string question;
    bool with_image = false;
    int image_crops = 0;          // pan-and-scan crops of the image (each adds its own image tokens)
    std::vector<int> prompt_ids;  // what this turn adds before its answer
    std::vector<int> answer_ids;  // generated ids (may end with a stop id)
    bool answered = false;        // the answer is complete (stopped, max tokens or cancelled)
};

class Conversation {
public:
    // The tokenizer must outlive the conversation.
    bool init(const Tokenizer* tok, const ConversationConfig& cfg, std::string* error);

    // System prompt (typed text, like questions); changing it once turns exist
    // rebuilds from the first turn. False + message, nothing changed, when the
    // conversation could not fit the context with it.
    bool set_system_prompt(const std::string& text, std::string* error = nullptr);
    const std::string& system_prompt() const { return system_; }

    // Appends a user turn (the previous answer must be finished). The
    // question (and the system prompt) is text: control-token strings typed in
    // it ("<end_of_turn>", "<start_of_image>"...) are spelled with ordinary
    // pieces, never turned into control tokens, and never expanded into image
    // tokens. When the conversation would outgrow max_context, the oldest
    // turns are set aside whole (earlier_turns(), context_notice()), the image
    // moves to the first turn kept, and the prompt is rebuilt (kv_length()
    // becomes 0: the runtime prefills it again; image features are reused).
    // A question that cannot fit even alone with the image fails with a
    // message and changes nothing.
    bool ask(const std::string& question, bool with_image, std::string* error, int image_crops = 0);
    // Replaces question `turn` and drops every later turn and its answer.
    bool edit_question(size_t turn, const std::string& question, std::string* error);
    // Removes the last turn if it has no answer yet (its prefill failed).
    void drop_last_turn();
    // A new image or a new chat: forget everything except the system prompt.
    void clear();

    const std::vector<int>& tokens() const { return tokens_; }
    size_t kv_length() const { return kv_length_; }
    // Tokens the runtime must run next (tokens()[kv_length():]).
    std::vector<int> pending() const;
    // 1 where the token is the image soft token, for tokens()[from:to].
    std::vector<int> token_types(size_t from, size_t to) const;
    int image_token_id() const { return image_token_id_; }
    // True when pending() holds image soft tokens: only then does the runtime
    // need the image features (encoded once per image, kept by the runtime).
    bool pending_has_image() const;

    void on_prefilled(size_t n);  // n more tokens are now in the KV cache
    // The runtime could keep only the first n cached tokens (e.g. it cannot cut
    // a GPU-resident cache after an edit and starts over from 0).
    void rewind_kv(size_t n) { if (n < kv_length_) kv_length_ = n; }
    void on_answer_token(int id);
    void on_fed(size_t n) { on_prefilled(n); }
    void finish_answer();

    const std::vector<ChatTurn>& turns() const { return turns_; }
    // Turns set aside to stay within max_context, oldest first: no longer in
    // the prompt, still saved with the case.
    const std::vector<ChatTurn>& earlier_turns() const { return earlier_; }
    // Plain words for the chat when turns were set aside; empty otherwise.
    const std::string& context_notice() const { return notice_; }
    int max_context() const { return cfg_.max_context; }
    // Tokens an answer may still add before the context is full (a large
    // number when there is no limit). Generation stops there.
    size_t answer_room() const;
    // Ids an answer must never contain (GenerationConfig::never_ids).
    std::vector<int> never_generated_ids() const { return es::never_generated_ids(*tok_, cfg_); }
    bool answering() const { return !turns_.empty() && !turns_.back().answered; }
    // Answer text of a turn (decoded ids, stop token removed).
    std::string answer_text(size_t turn) const;
    // The messages list (HF format) for the conversation so far, e.g. to save it.
    nlohmann::ordered_json messages_json() const;
    // Saving with the case: questions, answers (ids and text) and the exact
    // prompt ids. restore() rebuilds the state with an empty KV cache (the next
    // question prefills everything once); answers whose ids no longer decode to
    // their text (another tokenizer) are re-encoded from the text.
    nlohmann::ordered_json save() const;
    bool restore(const nlohmann::ordered_json& saved, std::string* error);
    // The prompt text of the whole conversation as the template renders it
    // (with answers re-rendered as text): for display and debugging.
    bool render_text(bool add_generation_prompt, std::string* out, std::string* error) const;

private:
    // wrap: 0 the text as it is, 1 between markers, 2 trimmed between markers.
    nlohmann::ordered_json message(const std::string& role, const std::string& text, bool with_image,
                                   int wrap = 0) const;
    bool build_prompt(size_t turn, std::vector<int>* ids, std::string* error) const;
    bool render_turn(size_t turn, int wrap, std::string* text, std::string* error) const;
    void rebuild_tokens();
    bool fit_context(std::string* error);

    const Tokenizer* tok_ = nullptr;
    ConversationConfig cfg_;
    ChatTemplate tmpl_;
    bool parts_ = true;
    int image_token_id_ = -1;
    std::string system_;
    std::vector<ChatTurn> turns_;
    std::vector<ChatTurn> earlier_;
    std::string notice_;
    std::vector<int> tokens_;
    size_t kv_length_ = 0;
};

}  // namespace es
