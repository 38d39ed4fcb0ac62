// token_constraint.h: what the generation loop asks of a constraint on its
// output (constrained/json_constraint.h is the one for JSON schemas). The
// generator masks every token the constraint does not allow before sampling,
// and lets a stop token through only when the output is complete.
#pragma once
#include <cstdint>
#include <vector>

namespace es {

class TokenConstraint {
public:
    virtual ~TokenConstraint() = default;
    // Back to the empty output.
    virtual void reset() = 0;
    // Bit id of `mask` (32 ids per word, vocabulary-sized) set for every
    // content token allowed next, when `remaining` tokens are left including
    // this one: a token is allowed only if the output can still be completed
    // and a stop token fit in what is left.
    virtual void allowed_tokens(int remaining, std::vector<uint32_t>* mask) = 0;
    // Takes a sampled content token; false if it was not allowed.
    virtual bool accept(int token) = 0;
    // The output so far is complete (a stop token may end it).
    virtual bool complete() const = 0;
    // Fewest tokens a complete output takes from the start (without the stop token).
    virtual int min_tokens() const = 0;
};

}  // namespace es
