// string_pattern.h: the subset of JSON Schema's "pattern" (ECMA-262 regular
// expressions, matched anywhere in the string unless anchored) that the
// constrained decoder follows exactly: literal characters, '.', classes
// ([a-z0-9_], [^...]), \d \w \s and their negations, escaped punctuation, and
// the quantifiers ? * + {n} {n,} {n,m} on single atoms, with ^ and $ at the
// ends. No groups, alternation, backreferences or lookaround (refused). Such
// a pattern is a Glushkov automaton of at most 62 positions, so a state is one
// 64-bit set. Strings under a pattern are written in printable ASCII without
// escapes (any other character would need \u or a byte the pattern cannot
// be checked against here).
#pragma once
#include <bitset>
#include <cstdint>
#include <string>
#include <vector>

namespace es {

struct StringPattern {
    std::vector<std::bitset<128>> chars;  // per position: the characters it matches (writable ones only)
    std::vector<uint64_t> follow;         // per position: positions that may come next
    std::vector<int> distance;            // per position: fewest characters more to a match
    uint64_t first = 0, last = 0;
    bool nullable = false;
    bool anchored_start = false, anchored_end = false;
    int start_distance = 0;
};

constexpr uint64_t kPatternStart = uint64_t(1) << 63;    // nothing matched yet (or, unanchored, a match may still begin)
constexpr uint64_t kPatternMatched = uint64_t(1) << 62;  // unanchored end: a match was found, the rest is free

// False with a plain-words reason when the pattern is outside the subset or
// can never be written.
bool compile_string_pattern(const std::string& pattern, StringPattern* out, std::string* error);
// The state after character c (0: no way to match any more).
uint64_t pattern_step(const StringPattern& p, uint64_t state, uint8_t c);
bool pattern_accepts(const StringPattern& p, uint64_t state);
// Fewest characters more that make the string match (a large number when none can).
int pattern_distance(const StringPattern& p, uint64_t state);
// Characters a string under a pattern may contain as they are.
inline bool pattern_writable(uint8_t c) { return c >= 0x20 && c < 0x7F && c != '"' && c != '\\'; }

}  // namespace es
