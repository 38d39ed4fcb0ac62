// text_tokens.h: the words ROUGE and BLEU count, as Google's rouge_score
// tokenises (its default, no stemming): lower case, every run of characters
// other than a-z and 0-9 is a separator, so "Polyp, 5-mm." -> polyp 5 mm.
// Letters outside ASCII are separators too (rouge_score drops them the same
// way); scores of non-English text therefore count only its ASCII words.
#pragma once
#include <string>
#include <vector>

namespace es {

std::vector<std::string> text_tokens(const std::string& text);

}  // namespace es
