// text_or_json_constraint.cpp: see text_or_json_constraint.h.
#include "inference/text_or_json_constraint.h"

namespace es::server {

std::shared_ptr<const TextTokenMasks> TextTokenMasks::build(const es::TokenVocabulary& vocab) {
    auto m = std::make_shared<TextTokenMasks>();
    const size_t words = (size_t(vocab.size()) + 31) / 32;
    m->any_text.assign(words, 0u);
    m->text_start.assign(words, 0u);
    for (int id = 0; id < vocab.size(); ++id) {
        const std::string& b = vocab.bytes(id);
        if (b.empty()) continue;
        m->any_text[size_t(id >> 5)] |= 1u << (id & 31);
        const char c = b[0];
        if (c != '{' && c != ' ' && c != '\t' && c != '\n' && c != '\r') m->text_start[size_t(id >> 5)] |= 1u << (id & 31);
    }
    return m;
}

TextOrJsonConstraint::TextOrJsonConstraint(std::unique_ptr<es::JsonConstraint> json,
                                           std::shared_ptr<const TextTokenMasks> masks)
    : json_(std::move(json)), masks_(std::move(masks)) {}

void TextOrJsonConstraint::reset() {
    json_->reset();
    mode_ = Mode::Undecided;
}

void TextOrJsonConstraint::allowed_tokens(int remaining, std::vector<uint32_t>* mask) {
    if (mode_ == Mode::Text) {
        *mask = masks_->any_text;
        return;
    }
    json_->allowed_tokens(remaining, mask);
    if (mode_ == Mode::Json) return;
    // The JSON constraint's first tokens all begin with '{' or whitespace, so
    // the two sets do not overlap and the first token says which answer it is.
    for (size_t w = 0; w < mask->size() && w < masks_->text_start.size(); ++w) (*mask)[w] |= masks_->text_start[w];
}

bool TextOrJsonConstraint::accept(int token) {
    switch (mode_) {
        case Mode::Text: return TextTokenMasks::has(masks_->any_text, token);
        case Mode::Json: return json_->accept(token);
        case Mode::Undecided:
            if (TextTokenMasks::has(masks_->text_start, token)) {
                mode_ = Mode::Text;
                return true;
            }
            if (!json_->accept(token)) return false;
            mode_ = Mode::Json;
            return true;
    }
    return false;
}

bool TextOrJsonConstraint::complete() const { return mode_ != Mode::Json || json_->complete(); }

}  // namespace es::server
