#include "constrained/string_pattern.h"

#include <algorithm>
#include <cctype>

namespace es {

namespace {

constexpr int kMaxPositions = 62;
constexpr int kFar = 1 << 28;

std::bitset<128> writable_set() {
    std::bitset<128> s;
    for (int c = 0; c < 128; ++c) s[size_t(c)] = pattern_writable(uint8_t(c));
    return s;
}

std::bitset<128> class_of(char e) {
    std::bitset<128> s;
    switch (e) {
        case 'd': case 'D':
            for (int c = '0'; c <= '9'; ++c) s.set(size_t(c));
            break;
        case 'w': case 'W':
            for (int c = 0; c < 128; ++c) if (std::isalnum(c) || c == '_') s.set(size_t(c));
            break;
        case 's': case 'S':
            for (int c : {' ', '\t', '\n', '\r', '\f', '\v'}) s.set(size_t(c));
            break;
        default: break;
    }
    if (e == 'D' || e == 'W' || e == 'S') s.flip();
    return s;
}

// A character the pattern names after a backslash, outside classes of characters.
bool escaped_literal(char e) {
    const std::string punct = ".-\\/()[]{}*+?^$|\"'#:,;=!<>@%&~`_ ";
    return punct.find(e) != std::string::npos;
}

struct Item {
    std::bitset<128> chars;
    int min = 1, max = 1;  // max -1: unbounded
};

}  // namespace

bool compile_string_pattern(const std::string& pat, StringPattern* out, std::string* error) {
    auto fail = [&](const std::string& why) {
        *error = "the pattern \"" + pat + "\" " + why;
        return false;
    };
    *out = StringPattern();
    size_t i = 0, end = pat.size();
    if (i < end && pat[i] == '^') { out->anchored_start = true; ++i; }
    if (end > i && pat[end - 1] == '$' && (end < 2 || pat[end - 2] != '\\')) { out->anchored_end = true; --end; }
    std::vector<Item> items;
    while (i < end) {
        const char c = pat[i];
        Item it;
        if (c == '(' || c == ')' || c == '|')
            return fail("uses groups or alternatives ( | ), which are not supported; list fixed choices with enum instead");
        if (c == '^' || c == '$') return fail("uses ^ or $ inside; only at the very start and end are they supported");
        if (c == '*' || c == '+' || c == '?' || c == '{') return fail("has a quantifier with nothing before it");
        if (c == '.') {
            it.chars.set();
            it.chars.reset('\n');
            it.chars.reset('\r');
            ++i;
        } else if (c == '\\') {
            if (i + 1 >= end) return fail("ends with a lone backslash");
            const char e = pat[i + 1];
            if (std::string("dDwWsS").find(e) != std::string::npos) it.chars = class_of(e);
            else if (escaped_literal(e)) it.chars.set(size_t(uint8_t(e)));
            else return fail(std::string("uses \\") + e + ", which is not supported (only \\d \\w \\s, their negations and escaped punctuation are)");
            i += 2;
        } else if (c == '[') {
            ++i;
            bool negate = false;
            if (i < end && pat[i] == '^') { negate = true; ++i; }
            bool closed = false, any = false;
            while (i < end) {
                if (pat[i] == ']' && any) { closed = true; ++i; break; }
                int lo;
                if (pat[i] == '\\') {
                    if (i + 1 >= end) return fail("ends inside a class of characters");
                    const char e = pat[i + 1];
                    i += 2;
                    if (std::string("dDwWsS").find(e) != std::string::npos) { it.chars |= class_of(e); any = true; continue; }
                    if (e == 'n') lo = '\n';
                    else if (e == 't') lo = '\t';
                    else if (escaped_literal(e)) lo = uint8_t(e);
                    else return fail(std::string("uses \\") + e + " in a class of characters, which is not supported");
                } else {
                    if (uint8_t(pat[i]) >= 0x80) return fail("uses non-ASCII characters, which are not supported in patterns");
                    lo = uint8_t(pat[i++]);
                }
                int hi = lo;
                if (i + 1 < end && pat[i] == '-' && pat[i + 1] != ']') {
                    hi = uint8_t(pat[i + 1]);
                    if (pat[i + 1] == '\\' || hi >= 0x80) return fail("has a range of characters that is not supported");
                    i += 2;
                    if (hi < lo) return fail("has a range of characters written backwards");
                }
                for (int x = lo; x <= hi; ++x) it.chars.set(size_t(x));
                any = true;
            }
            if (!closed) return fail("has a class of characters [ without its ]");
            if (negate) it.chars.flip();
        } else {
            if (uint8_t(c) >= 0x80) return fail("uses non-ASCII characters, which are not supported in patterns");
            it.chars.set(size_t(uint8_t(c)));
            ++i;
        }
        // A quantifier.
        if (i < end && (pat[i] == '?' || pat[i] == '*' || pat[i] == '+')) {
            it.min = pat[i] == '+' ? 1 : 0;
            it.max = pat[i] == '?' ? 1 : -1;
            ++i;
        } else if (i < end && pat[i] == '{') {
            size_t j = i + 1;
            auto number = [&](int* v) {
                size_t k = j;
                long x = 0;
                while (j < end && pat[j] >= '0' && pat[j] <= '9' && x < 1000) x = x * 10 + (pat[j++] - '0');
                *v = int(x);
                return j > k;
            };
            int a = 0, b = 0;
            if (!number(&a)) return fail("has a { that is not a {n}, {n,} or {n,m} quantifier");
            b = a;
            if (j < end && pat[j] == ',') {
                ++j;
                if (!number(&b)) b = -1;
            }
            if (j >= end || pat[j] != '}') return fail("has a { that is not a {n}, {n,} or {n,m} quantifier");
            if (b >= 0 && b < a) return fail("has a {n,m} quantifier with m below n");
            it.min = a;
            it.max = b;
            i = j + 1;
        }
        if (i < end && pat[i] == '?') ++i;  // lazy: the same strings match
        it.chars &= writable_set();
        items.push_back(it);
    }
    // Expand to positions: min copies, then (max - min) optional ones or one optional loop.
    std::vector<std::bitset<128>> pos_chars;
    std::vector<bool> optional, loop;
    for (const Item& it : items) {
        const int copies = it.max < 0 ? it.min + 1 : it.max;
        if (int(pos_chars.size()) + copies > kMaxPositions)
            return fail("is too long for the constrained decoder (at most " + std::to_string(kMaxPositions) + " characters' worth of atoms and repeats)");
        for (int k = 0; k < copies; ++k) {
            pos_chars.push_back(it.chars);
            optional.push_back(k >= it.min);
            loop.push_back(it.max < 0 && k == copies - 1);
        }
    }
    const int n = int(pos_chars.size());
    out->chars = pos_chars;
    out->follow.assign(size_t(n), 0);
    out->nullable = std::all_of(optional.begin(), optional.end(), [](bool b) { return b; });
    for (int p = 0; p < n; ++p) {
        if (loop[size_t(p)]) out->follow[size_t(p)] |= uint64_t(1) << p;
        for (int q = p + 1; q < n; ++q) {
            out->follow[size_t(p)] |= uint64_t(1) << q;
            if (!optional[size_t(q)]) break;
        }
    }
    for (int q = 0; q < n; ++q) {
        out->first |= uint64_t(1) << q;
        if (!optional[size_t(q)]) break;
    }
    for (int q = n - 1; q >= 0; --q) {
        out->last |= uint64_t(1) << q;
        if (!optional[size_t(q)]) break;
    }
    // Fewest characters to a match, over characters that can be written.
    out->distance.assign(size_t(n), kFar);
    for (int p = 0; p < n; ++p)
        if (out->last >> p & 1) out->distance[size_t(p)] = 0;
    for (int round = 0; round <= n; ++round)
        for (int p = 0; p < n; ++p)
            for (int q = 0; q < n; ++q)
                if ((out->follow[size_t(p)] >> q & 1) && out->chars[size_t(q)].any())
                    out->distance[size_t(p)] = std::min(out->distance[size_t(p)], 1 + out->distance[size_t(q)]);
    out->start_distance = out->nullable ? 0 : kFar;
    for (int q = 0; q < n; ++q)
        if ((out->first >> q & 1) && out->chars[size_t(q)].any())
            out->start_distance = std::min(out->start_distance, 1 + out->distance[size_t(q)]);
    if (out->start_distance >= kFar)
        return fail("can only match characters that a JSON string here cannot hold as they are (quotes, backslashes, control or non-ASCII characters)");
    return true;
}

uint64_t pattern_step(const StringPattern& p, uint64_t state, uint8_t c) {
    if (c >= 128) return 0;
    const int n = int(p.chars.size());
    uint64_t reach = 0;
    if (state & kPatternStart) reach |= p.first;
    for (int q = 0; q < n; ++q)
        if (state >> q & 1) reach |= p.follow[size_t(q)];
    uint64_t next = 0;
    for (int q = 0; q < n; ++q)
        if ((reach >> q & 1) && p.chars[size_t(q)][c]) next |= uint64_t(1) << q;
    if (!p.anchored_start) next |= kPatternStart;  // a match may begin at any character
    // Unanchored end: once a match has been read, whatever follows is fine.
    if (!p.anchored_end && (pattern_accepts(p, state) || pattern_accepts(p, next))) next |= kPatternMatched;
    return next;
}

bool pattern_accepts(const StringPattern& p, uint64_t state) {
    if (state & kPatternMatched) return true;
    if ((state & kPatternStart) && p.nullable) return true;
    return (state & p.last & ~(kPatternStart | kPatternMatched)) != 0;
}

int pattern_distance(const StringPattern& p, uint64_t state) {
    if (pattern_accepts(p, state)) return 0;
    int best = kFar;
    if (state & kPatternStart) best = std::min(best, p.start_distance);
    for (int q = 0; q < int(p.chars.size()); ++q)
        if (state >> q & 1) best = std::min(best, p.distance[size_t(q)]);
    return best;
}

}  // namespace es
