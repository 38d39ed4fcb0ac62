#include "constrained/token_vocabulary.h"

#include <algorithm>
#include <numeric>

#include "assistant/tokenizer.h"

namespace es {

int plain_text_chars(const std::string& s) {
    int chars = 0;
    size_t i = 0;
    while (i < s.size()) {
        const uint8_t b = uint8_t(s[i]);
        size_t len = 0;
        uint8_t lo = 0x80, hi = 0xBF;
        if (b < 0x80) {
            if (b < 0x20 || b == '"' || b == '\\') return -1;
            len = 1;
        } else if (b >= 0xC2 && b <= 0xDF) {
            len = 2;
        } else if (b >= 0xE0 && b <= 0xEF) {
            len = 3;
            if (b == 0xE0) lo = 0xA0;
            if (b == 0xED) hi = 0x9F;
        } else if (b >= 0xF0 && b <= 0xF4) {
            len = 4;
            if (b == 0xF0) lo = 0x90;
            if (b == 0xF4) hi = 0x8F;
        } else {
            return -1;
        }
        if (i + len > s.size()) return -1;
        for (size_t k = 1; k < len; ++k) {
            const uint8_t c = uint8_t(s[i + k]);
            if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) return -1;
        }
        i += len;
        ++chars;
    }
    return s.empty() ? -1 : chars;
}

size_t TokenTrie::memory_bytes() const {
    return byte.size() * 2 + end.size() * 4 + tok_begin.size() * 4 + toks.size() * 4;
}

namespace {

TokenTrie build_trie(const std::vector<std::string>& bytes, std::vector<int32_t> ids) {
    std::sort(ids.begin(), ids.end(), [&](int a, int b) {
        const int c = bytes[size_t(a)].compare(bytes[size_t(b)]);
        return c < 0 || (c == 0 && a < b);
    });
    TokenTrie t;
    auto new_node = [&](uint8_t byte, int depth) {
        t.byte.push_back(byte);
        t.depth.push_back(uint8_t(std::min(depth, 255)));
        t.end.push_back(0);
        t.tok_begin.push_back(uint32_t(t.toks.size()));
        t.max_depth = std::max(t.max_depth, depth);
        return uint32_t(t.byte.size() - 1);
    };
    std::vector<uint32_t> path = {new_node(0, 0)};  // path[d] = node at depth d
    const std::string* prev = nullptr;
    for (int32_t id : ids) {
        const std::string& s = bytes[size_t(id)];
        size_t lcp = 0;
        if (prev)
            while (lcp < prev->size() && lcp < s.size() && (*prev)[lcp] == s[lcp]) ++lcp;
        while (path.size() > lcp + 1) {
            t.end[path.back()] = uint32_t(t.byte.size());
            path.pop_back();
        }
        for (size_t d = lcp; d < s.size(); ++d) path.push_back(new_node(uint8_t(s[d]), int(d + 1)));
        t.toks.push_back(id);
        prev = &s;
    }
    while (!path.empty()) {
        t.end[path.back()] = uint32_t(t.byte.size());
        path.pop_back();
    }
    t.tok_begin.push_back(uint32_t(t.toks.size()));
    return t;
}

}  // namespace

TokenVocabulary::TokenVocabulary(std::vector<std::string> token_bytes) : bytes_(std::move(token_bytes)) {
    // Tokens longer than this are never generated under a constraint (none of a
    // real vocabulary is; it keeps the trie's depth bounded).
    constexpr size_t kMaxTokenBytes = 128;
    std::vector<int32_t> plain, other;
    std::vector<int> chars(bytes_.size(), -1);
    for (size_t id = 0; id < bytes_.size(); ++id) {
        const std::string& s = bytes_[id];
        if (s.empty() || s.size() > kMaxTokenBytes) continue;
        if (s.size() == 1) single_byte_[uint8_t(s[0])] = true;
        chars[id] = plain_text_chars(s);
        (chars[id] > 0 ? plain : other).push_back(int32_t(id));
    }
    plain_ = build_trie(bytes_, plain);
    other_ = build_trie(bytes_, other);
    plain_by_chars_ = plain;
    std::stable_sort(plain_by_chars_.begin(), plain_by_chars_.end(),
                     [&](int a, int b) { return chars[size_t(a)] < chars[size_t(b)]; });
    const int max_chars = plain_by_chars_.empty() ? 0 : chars[size_t(plain_by_chars_.back())];
    plain_chars_end_.assign(size_t(max_chars) + 1, 0);
    size_t k = 0;
    for (int c = 0; c <= max_chars; ++c) {
        while (k < plain_by_chars_.size() && chars[size_t(plain_by_chars_[k])] <= c) ++k;
        plain_chars_end_[size_t(c)] = uint32_t(k);
    }
    // Whole-word masks for the common rooms, so a free-text step ORs a few
    // thousand words instead of setting a quarter million bits.
    const int masked = std::min(max_chars, 16);
    plain_masks_.assign(size_t(masked) + 1, std::vector<uint32_t>((bytes_.size() + 31) / 32, 0u));
    for (int c = 0; c <= masked; ++c) {
        const size_t upto = c == masked ? plain_by_chars_.size() : plain_upto(c);
        for (size_t i = 0; i < upto; ++i) {
            const uint32_t id = uint32_t(plain_by_chars_[i]);
            plain_masks_[size_t(c)][id >> 5] |= 1u << (id & 31);
        }
    }
}

const std::vector<uint32_t>* TokenVocabulary::plain_mask_upto(int c) const {
    if (plain_masks_.empty() || c < 0) return nullptr;
    const int last = int(plain_masks_.size()) - 1;
    const int max_chars = int(plain_chars_end_.size()) - 1;
    if (c >= max_chars) return &plain_masks_[size_t(last)];
    if (c < last) return &plain_masks_[size_t(c)];
    return nullptr;
}

size_t TokenVocabulary::plain_upto(int c) const {
    if (c < 0 || plain_chars_end_.empty()) return 0;
    if (size_t(c) >= plain_chars_end_.size()) return plain_by_chars_.size();
    return plain_chars_end_[size_t(c)];
}

std::vector<int32_t> TokenVocabulary::plain_tokens_spelling(const std::string& bytes) const {
    const TokenTrie& t = plain_;
    if (t.nodes() == 0) return {};
    uint32_t node = 0;
    for (size_t d = 0; d < bytes.size(); ++d) {
        // Children of `node` follow it in preorder; siblings are joined by skip pointers.
        uint32_t c = node + 1;
        const uint32_t end = t.end[node];
        while (c < end && t.byte[c] != uint8_t(bytes[d])) c = t.end[c];
        if (c >= end) return {};
        node = c;
    }
    return std::vector<int32_t>(t.toks.begin() + t.tok_begin[node], t.toks.begin() + t.tok_begin[node + 1]);
}

size_t TokenVocabulary::memory_bytes() const {
    size_t n = plain_.memory_bytes() + other_.memory_bytes() + plain_by_chars_.size() * 4 + plain_chars_end_.size() * 4;
    for (const auto& m : plain_masks_) n += m.size() * 4;
    for (const std::string& s : bytes_) n += s.size() + sizeof(std::string);
    return n;
}

std::shared_ptr<TokenVocabulary> TokenVocabulary::from_tokenizer(const Tokenizer& tok) {
    const int n = tok.vocab_size();
    std::vector<std::string> bytes(size_t(std::max(n, 0)));
    static const std::string kSpace = "\xE2\x96\x81";  // SentencePiece's "▁"
    auto hex = [](char c) { return (c >= '0' && c <= '9') ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1; };
    for (int id = 0; id < n; ++id) {
        if (tok.is_control(id) || id == tok.unk_id()) continue;
        const std::string p = tok.piece(id);
        if (p.empty()) continue;
        // Special strings (<start_of_turn>, <image_soft_token>, added tokens) are never text.
        const auto spans = tok.special_spans(p);
        if (!spans.empty()) continue;
        if (p.size() == 6 && p.compare(0, 3, "<0x") == 0 && p[5] == '>' && hex(p[3]) >= 0 && hex(p[4]) >= 0 &&
            tok.piece_to_id(p) == id) {
            bytes[size_t(id)] = std::string(1, char(hex(p[3]) * 16 + hex(p[4])));
            continue;
        }
        std::string s;
        s.reserve(p.size());
        for (size_t i = 0; i < p.size();) {
            if (p.compare(i, 3, kSpace) == 0) { s += ' '; i += 3; }
            else s += p[i++];
        }
        bytes[size_t(id)] = std::move(s);
    }
    return std::make_shared<TokenVocabulary>(std::move(bytes));
}

}  // namespace es
