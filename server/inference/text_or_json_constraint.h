// text_or_json_constraint.h: OpenAI's tool_choice "auto" made honest. The
// answer is either free text or a value of the JSON schema (a tool call), and
// its first token decides which: a token that begins with '{' or whitespace
// may only start the JSON value (and is allowed only when the schema's
// constraint allows it), any other token starts free text, after which every
// ordinary token is allowed. So a call the model starts is always complete and
// valid, and text is never cut into a half call. A text answer cannot begin
// with '{' or whitespace (that would be a call).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "constrained/json_constraint.h"
#include "constrained/token_vocabulary.h"

namespace es::server {

// Bitmasks over a vocabulary (32 ids per word), built once per tokenizer.
struct TextTokenMasks {
    std::vector<uint32_t> any_text;    // tokens that write text (not control/special tokens)
    std::vector<uint32_t> text_start;  // of those, the ones that do not begin with '{' or whitespace
    static std::shared_ptr<const TextTokenMasks> build(const es::TokenVocabulary& vocab);
    static bool has(const std::vector<uint32_t>& mask, int id) {
        return id >= 0 && size_t(id >> 5) < mask.size() && ((mask[size_t(id >> 5)] >> (id & 31)) & 1u);
    }
};

class TextOrJsonConstraint : public es::TokenConstraint {
public:
    enum class Mode { Undecided, Text, Json };
    TextOrJsonConstraint(std::unique_ptr<es::JsonConstraint> json, std::shared_ptr<const TextTokenMasks> masks);

    void reset() override;
    void allowed_tokens(int remaining, std::vector<uint32_t>* mask) override;
    bool accept(int token) override;
    bool complete() const override;
    int min_tokens() const override { return 0; }
    Mode mode() const { return mode_; }

private:
    std::unique_ptr<es::JsonConstraint> json_;
    std::shared_ptr<const TextTokenMasks> masks_;
    Mode mode_ = Mode::Undecided;
};

}  // namespace es::server
