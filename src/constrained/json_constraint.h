// json_constraint.h: JSON-schema-constrained decoding over a tokenizer's
// vocabulary. Each step allows exactly the tokens after which the output can
// still become a value of the schema within the tokens left (so the end is
// always reachable, and a stop token is allowed only once it is complete).
// One compiled schema and one vocabulary (both immutable) may be shared by
// many constraints, also across threads; a constraint is one answer's state
// and belongs to one thread at a time.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "constrained/json_matcher.h"
#include "constrained/json_schema.h"
#include "constrained/token_constraint.h"
#include "constrained/token_vocabulary.h"

namespace es {

class JsonConstraint : public TokenConstraint {
public:
    // Fails (nullptr + message) when the vocabulary cannot write a byte the
    // schema's shortest values need (then the end would not always be reachable).
    static std::unique_ptr<JsonConstraint> create(std::shared_ptr<const CompiledSchema> schema,
                                                  std::shared_ptr<const TokenVocabulary> vocab, std::string* error);
    // Schema text + vocabulary in one go.
    static std::unique_ptr<JsonConstraint> create(const std::string& schema_json, const SchemaLimits& limits,
                                                  std::shared_ptr<const TokenVocabulary> vocab, std::string* error);

    void reset() override;
    void allowed_tokens(int remaining, std::vector<uint32_t>* mask) override;
    bool accept(int token) override;
    bool complete() const override;
    int min_tokens() const override;

    // The bytes accepted so far.
    const std::string& text() const { return text_; }
    const JsonMatcher& matcher() const { return matcher_; }
    const MatchState& state() const { return state_; }

private:
    JsonConstraint(std::shared_ptr<const CompiledSchema> schema, std::shared_ptr<const TokenVocabulary> vocab);
    void walk(const TokenTrie& trie, const MatchState& from, int budget, std::vector<uint32_t>* mask);

    std::shared_ptr<const CompiledSchema> schema_;
    std::shared_ptr<const TokenVocabulary> vocab_;
    JsonMatcher matcher_;
    MatchState state_;
    std::string text_;
    std::vector<MatchState> levels_;  // trie walk: the state after each depth's prefix
};

}  // namespace es
