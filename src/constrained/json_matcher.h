// json_matcher.h: follows a JSON text byte by byte against a compiled schema.
// A state is a small set of parse stacks (more than one only while
// overlapping anyOf branches are both still possible); each stack is a few
// frames (document, object, array, string, number, literal). Every step is
// bounded: stacks are at most max_output_depth + 2 frames, and at most
// max_live_alternatives stacks are alive (checked when the schema compiles).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "constrained/json_schema.h"

namespace es {

struct MatchFrame {
    int32_t node = -1;
    uint8_t kind = 0;    // FrameKind in json_matcher.cpp
    uint8_t phase = 0;
    uint8_t depth = 0;
    uint8_t ws = 0;      // whitespace bytes in the current gap
    uint8_t pending = 0; // string/key: UTF-8 continuation bytes still due; \u hex digits still due
    uint8_t flags = 0;
    uint8_t next_lo = 0x80, next_hi = 0xBF;  // the range the next UTF-8 continuation byte must be in
    int32_t count = 0;   // string chars / array items / number integer digits / key chars
    int32_t pos = 0;     // literal and key: bytes matched; number: fraction digits
    int32_t lo = 0, hi = 0;  // literal / declared-key candidates [lo, hi)
    int32_t prop = -1;       // object: the property whose value comes next (-1: an additional one)
    uint64_t seen = 0;       // object: declared properties written
    int64_t value = 0;       // number: the digits read so far, as an integer
    bool operator==(const MatchFrame& o) const;
};

struct MatchState {
    std::vector<MatchFrame> frames;  // the stacks, one after another
    std::vector<uint32_t> ends;      // end offset of each stack in `frames`
    bool empty() const { return ends.empty(); }
    size_t stacks() const { return ends.size(); }
};

class JsonMatcher {
public:
    explicit JsonMatcher(const CompiledSchema* schema) : s_(schema) {}
    void start(MatchState* st) const;
    // out = in after `byte`; false (out empty) when no parse accepts it.
    bool advance(const MatchState& in, uint8_t byte, MatchState* out) const;
    bool advance_bytes(MatchState* st, const std::string& bytes) const;
    // The text so far is one complete value of the schema.
    bool complete(const MatchState& st) const;
    // Fewest bytes that complete the value (kUnreachable when none can).
    int min_completion(const MatchState& st) const;
    // When the state is a single parse inside free text (a string without
    // enum, or a new key of an object with additional properties) and no
    // escape or multi-byte character is half written: how many more plain
    // characters it takes (else -1), and *cost: for a string, min_completion
    // after any such run of characters is at most *cost; for a key, it is
    // at most *cost + 1 and, on the additional-key reading, at least *cost.
    int free_text_room(const MatchState& st, int* cost) const;
    // For a state in free text whose way out no longer fits the tokens left:
    // the state in which plain characters can still help (a string short of
    // its minLength; a key that may still become a declared one, its
    // additional-key reading dropped). False when plain characters cannot help.
    bool without_free_text(const MatchState& st, MatchState* out) const;
    static uint8_t string_frame_kind();
    // In a key (single parse): the rest of each declared key written already
    // that the key so far is a prefix of (without the closing quote). A token
    // spelling exactly that makes the key a duplicate, so the additional-key
    // reading needs one character more.
    std::vector<std::string> written_key_rests(const MatchState& st) const;

private:
    const CompiledSchema* s_;
    mutable std::vector<MatchFrame> work_;
    void step(std::vector<MatchFrame>& st, uint8_t b, MatchState* out) const;
    void open_value(std::vector<MatchFrame>& st, int node, int depth, uint8_t b, MatchState* out) const;
    void emit(const std::vector<MatchFrame>& st, MatchState* out) const;
    void child_done(std::vector<MatchFrame>& st) const;
    int frame_cost(const MatchFrame& f) const;
    int object_after_cost(const MatchFrame& f, uint64_t seen) const;
    int object_key_cost(const MatchFrame& f, bool free_only) const;
    bool lazily_complete(const MatchFrame& f) const;
};

// Fewest more bytes that make a number frame a complete in-range value.
int number_min_extra(const SchemaNode& n, const MatchFrame& f);

}  // namespace es
