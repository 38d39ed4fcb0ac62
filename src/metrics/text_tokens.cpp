// text_tokens.cpp: see text_tokens.h.
#include "metrics/text_tokens.h"

namespace es {

std::vector<std::string> text_tokens(const std::string& text) {
    std::vector<std::string> tokens;
    std::string current;
    for (char ch : text) {
        const char c = (ch >= 'A' && ch <= 'Z') ? char(ch - 'A' + 'a') : ch;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            current += c;
        } else if (!current.empty()) {
            tokens.push_back(current);
            current.clear();
        }
    }
    if (!current.empty()) tokens.push_back(current);
    return tokens;
}

}  // namespace es
