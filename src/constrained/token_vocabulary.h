// token_vocabulary.h: every token's text as bytes, arranged so that finding
// the tokens a grammar state allows costs far less than trying each one:
// a byte trie (preorder, with skip pointers, so a rejected byte skips its
// whole subtree), split in two. "Plain" tokens (printable text without '"',
// '\' or a half-written UTF-8 character) are what free-text strings accept
// wholesale, listed by character count so a string's remaining room selects
// them in one pass; the other trie holds the rest (structure, quotes,
// escapes, whitespace runs, byte pieces). Built once per tokenizer.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace es {

class Tokenizer;

struct TokenTrie {
    // Node 0 is the root (empty prefix). Node i's subtree is [i, end[i]); its
    // tokens are toks[tok_begin[i] .. tok_begin[i + 1]).
    std::vector<uint8_t> byte, depth;
    std::vector<uint32_t> end, tok_begin;
    std::vector<int32_t> toks;
    int max_depth = 0;
    size_t nodes() const { return byte.size(); }
    size_t memory_bytes() const;
};

class TokenVocabulary {
public:
    // token_bytes[id]: the bytes the token adds to the text; "" for tokens
    // that must never be generated (control and special tokens).
    explicit TokenVocabulary(std::vector<std::string> token_bytes);
    // From a loaded tokenizer: SentencePiece's "▁" is a space, <0xNN> byte
    // pieces are that byte, control, special and added tokens are excluded.
    static std::shared_ptr<TokenVocabulary> from_tokenizer(const Tokenizer& tok);

    int size() const { return int(bytes_.size()); }
    const std::string& bytes(int id) const { return bytes_[size_t(id)]; }
    bool has_single_byte_token(uint8_t b) const { return single_byte_[b]; }
    const TokenTrie& plain_trie() const { return plain_; }
    const TokenTrie& other_trie() const { return other_; }
    // Plain tokens ordered by character count; plain_upto(c) = how many have at most c characters.
    const std::vector<int32_t>& plain_by_chars() const { return plain_by_chars_; }
    size_t plain_upto(int chars) const;
    // The same as a bitmask (32 ids per word), or null when `chars` is beyond the precomputed ones.
    const std::vector<uint32_t>* plain_mask_upto(int chars) const;
    size_t memory_bytes() const;
    // Plain tokens whose bytes are exactly `bytes`.
    std::vector<int32_t> plain_tokens_spelling(const std::string& bytes) const;

private:
    std::vector<std::string> bytes_;
    bool single_byte_[256] = {};
    TokenTrie plain_, other_;
    std::vector<int32_t> plain_by_chars_;
    std::vector<uint32_t> plain_chars_end_;  // [c] = end in plain_by_chars_ of tokens with <= c characters
    std::vector<std::vector<uint32_t>> plain_masks_;  // [c] = bitmask of plain tokens with <= c characters, c < kMaskedChars; last = all
};

// Characters in `s` when it is plain string text (see above), else -1.
int plain_text_chars(const std::string& s);

}  // namespace es
