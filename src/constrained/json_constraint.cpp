#include "constrained/json_constraint.h"

#include <set>

namespace es {

JsonConstraint::JsonConstraint(std::shared_ptr<const CompiledSchema> schema, std::shared_ptr<const TokenVocabulary> vocab)
    : schema_(std::move(schema)), vocab_(std::move(vocab)), matcher_(schema_.get()) {
    reset();
}

std::unique_ptr<JsonConstraint> JsonConstraint::create(std::shared_ptr<const CompiledSchema> schema,
                                                       std::shared_ptr<const TokenVocabulary> vocab, std::string* error) {
    // The shortest completions are written a byte at a time: every byte they
    // can use needs a one-byte token.
    std::set<uint8_t> needed;
    for (char c : std::string("{}[],:\"-.0123456789 aefilnrstu")) needed.insert(uint8_t(c));
    for (const SchemaNode& n : schema->nodes) {
        for (const SchemaProperty& p : n.properties)
            for (char c : p.key) needed.insert(uint8_t(c));
        for (const std::string& t : n.texts)
            for (char c : t) needed.insert(uint8_t(c));
    }
    for (uint8_t b : needed) {
        if (vocab->has_single_byte_token(b)) continue;
        if (error) {
            const std::string shown = b >= 0x20 && b < 0x7F ? std::string("'") + char(b) + "'" : "byte " + std::to_string(int(b));
            *error = "This model's tokenizer has no single token for " + shown +
                     ", which the schema's output needs, so constrained output could not always be finished. Use a model whose tokenizer has byte fallback.";
        }
        return nullptr;
    }
    return std::unique_ptr<JsonConstraint>(new JsonConstraint(std::move(schema), std::move(vocab)));
}

std::unique_ptr<JsonConstraint> JsonConstraint::create(const std::string& schema_json, const SchemaLimits& limits,
                                                       std::shared_ptr<const TokenVocabulary> vocab, std::string* error) {
    auto cs = std::make_shared<CompiledSchema>();
    if (!compile_json_schema(schema_json, limits, cs.get(), error)) return nullptr;
    return create(std::move(cs), std::move(vocab), error);
}

void JsonConstraint::reset() {
    matcher_.start(&state_);
    text_.clear();
}

bool JsonConstraint::complete() const { return matcher_.complete(state_); }

int JsonConstraint::min_tokens() const {
    MatchState s;
    matcher_.start(&s);
    return matcher_.min_completion(s);
}

bool JsonConstraint::accept(int token) {
    if (token < 0 || token >= vocab_->size() || vocab_->bytes(token).empty()) return false;
    MatchState s = state_;
    if (!matcher_.advance_bytes(&s, vocab_->bytes(token))) return false;
    state_ = std::move(s);
    text_ += vocab_->bytes(token);
    return true;
}

void JsonConstraint::walk(const TokenTrie& t, const MatchState& from, int budget, std::vector<uint32_t>* mask) {
    if (levels_.size() < size_t(t.max_depth) + 1) levels_.resize(size_t(t.max_depth) + 1);
    levels_[0] = from;
    const size_t n = t.nodes();
    size_t i = 1;
    while (i < n) {
        const int d = t.depth[i];
        if (!matcher_.advance(levels_[size_t(d - 1)], t.byte[i], &levels_[size_t(d)])) {
            i = t.end[i];  // no token under this prefix can be accepted
            continue;
        }
        const uint32_t b = t.tok_begin[i], e = t.tok_begin[i + 1];
        if (b != e && matcher_.min_completion(levels_[size_t(d)]) <= budget)
            for (uint32_t k = b; k < e; ++k) {
                const uint32_t id = uint32_t(t.toks[k]);
                (*mask)[id >> 5] |= 1u << (id & 31);
            }
        ++i;
    }
}

void JsonConstraint::allowed_tokens(int remaining, std::vector<uint32_t>* mask) {
    mask->assign((size_t(vocab_->size()) + 31) / 32, 0u);
    // After this token: the completion's bytes (one token each at worst) and a stop token.
    const int budget = remaining - 2;
    if (budget < 0) return;
    int cost = 0;
    const int room = matcher_.free_text_room(state_, &cost);
    const bool key = room >= 0 && state_.frames.back().kind != matcher_.string_frame_kind();
    const bool bulk = room > 0 && cost <= budget;
    MatchState narrowed;
    if (bulk) {
        if (const std::vector<uint32_t>* m = vocab_->plain_mask_upto(room)) {
            for (size_t w = 0; w < m->size() && w < mask->size(); ++w) (*mask)[w] |= (*m)[w];
        } else {
            const auto& ids = vocab_->plain_by_chars();
            const size_t upto = vocab_->plain_upto(room);
            for (size_t k = 0; k < upto; ++k) {
                const uint32_t id = uint32_t(ids[k]);
                (*mask)[id >> 5] |= 1u << (id & 31);
            }
        }
        if (key) {
            // With no token to spare, a key must not become a duplicate of a
            // declared key written already (that would take one more character)...
            if (cost + 1 > budget)
                for (const std::string& rest : matcher_.written_key_rests(state_))
                    for (int32_t id : vocab_->plain_tokens_spelling(rest)) (*mask)[uint32_t(id) >> 5] &= ~(1u << (id & 31));
            // ...unless it goes on as a declared key, which may also run past an additional key's room.
            if (matcher_.without_free_text(state_, &narrowed)) walk(vocab_->plain_trie(), narrowed, budget, mask);
        }
    } else if (room >= 0 && cost > budget) {
        // Too few tokens left for the free text to go on as it is.
        if (matcher_.without_free_text(state_, &narrowed)) walk(vocab_->plain_trie(), narrowed, budget, mask);
    } else {
        walk(vocab_->plain_trie(), state_, budget, mask);
    }
    walk(vocab_->other_trie(), state_, budget, mask);
}

}  // namespace es
