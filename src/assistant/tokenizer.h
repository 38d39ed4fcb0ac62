// tokenizer.h: SentencePiece tokenizer loaded from the bytes of tokenizer.model.
// Wraps the real sentencepiece library (Debian's natively, built from Debian's
// source package for WebAssembly). encode() adds no BOS: the caller decides,
// as Hugging Face's Gemma tokenizer does with add_bos_token.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace es {

class Tokenizer {
public:
    Tokenizer();
    ~Tokenizer();
    Tokenizer(Tokenizer&&) noexcept;
    Tokenizer& operator=(Tokenizer&&) noexcept;

    // Parses a serialized SentencePiece ModelProto. On failure returns false,
    // sets *error and leaves the tokenizer unloaded.
    bool load(const uint8_t* data, size_t size, std::string* error);
    bool loaded() const;

    // SentencePiece as it is: user-defined pieces written in the text (Gemma's
    // <start_of_turn>, <start_of_image>...) become their ids.
    std::vector<int> encode(const std::string& text) const;
    // Text someone typed: every character stays text. No special piece can
    // come out: control pieces, added tokens, and user-defined pieces that
    // tokenizer_config.json marks "special": true or, where it says nothing,
    // that are named like control tokens ("<...>"); pieces it marks "special":
    // false (Gemma's HTML tags, whitespace runs) stay single pieces, as in
    // transformers. "<end_of_turn>" is spelled with ordinary pieces. Text
    // without such strings encodes exactly as encode() does.
    std::vector<int> encode_as_text(const std::string& text) const;
    // [begin, end) of every occurrence of a special string in `text` (what
    // encode_with_special_tokens would turn into a special id), left to right.
    std::vector<std::pair<size_t, size_t>> special_spans(const std::string& text) const;
    // Like Hugging Face's tokenizers: special tokens written in the text
    // ("<bos>", and added tokens such as Gemma-3's <image_soft_token>, which
    // lives outside the SentencePiece vocabulary) become their ids; the text
    // between them goes through SentencePiece.
    std::vector<int> encode_with_special_tokens(const std::string& text) const;
    // Registers tokenizer_config.json's "added_tokens_decoder" entries. Returns
    // false + message on malformed JSON; entries already in the model are kept.
    bool add_tokens_from_config(const std::string& tokenizer_config_json, std::string* error);
    void add_special_token(const std::string& text, int id);
    std::string decode(const std::vector<int>& ids) const;
    std::string piece(int id) const;          // raw piece text ("▁the", "<eos>", "<0x0A>")
    int piece_to_id(const std::string& piece) const;  // -1 when absent (not unk)
    int vocab_size() const;  // SentencePiece pieces plus added tokens
    int bos_id() const;
    int eos_id() const;
    int pad_id() const;
    int unk_id() const;
    bool is_control(int id) const;  // <bos>, <eos>, <pad>: never printed

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Turns a growing list of generated ids into text deltas, so a stream never
// shows half of a multi-byte character or a byte-fallback piece.
class TextStream {
public:
    explicit TextStream(const Tokenizer& tok) : tok_(tok) {}
    // Appends one id and returns the new text that is now complete (may be "").
    std::string push(int id);
    const std::string& text() const { return emitted_; }
    void reset() { ids_.clear(); emitted_.clear(); }

private:
    const Tokenizer& tok_;
    std::vector<int> ids_;
    std::string emitted_;
};

}  // namespace es
