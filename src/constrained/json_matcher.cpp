#include "constrained/json_matcher.h"

#include <algorithm>
#include <cstring>

namespace es {

namespace {

enum FrameKind : uint8_t { FDocument, FObject, FArray, FString, FNumber, FLiteral };
// Document: before the value, inside it, after it.
enum : uint8_t { DBefore, DInside, DAfter };
// Object: after '{', inside a key, after the key, after ':', inside the value, after the value, after ','.
enum : uint8_t { OOpen, OKey, OAfterKey, OColon, OValue, OAfterValue, OComma };
// Array: after '[', inside an item, after an item, after ','.
enum : uint8_t { AOpen, AValue, AAfterValue, AComma };
enum : uint8_t { NStart, NMinus, NZero, NInt, NDot, NFrac, NExp, NExpSign, NExpDigits };

constexpr uint8_t kNegative = 1;      // number
constexpr uint8_t kEscape = 1;        // string: after a backslash
constexpr uint8_t kSurrogate = 2;     // string: \uD? seen, the next hex digit must not make a surrogate
constexpr uint8_t kFreeKey = 1;       // object key: an additional (undeclared) key is still possible

bool is_ws(uint8_t b) { return b == ' ' || b == '\n' || b == '\r' || b == '\t'; }
bool is_digit(uint8_t b) { return b >= '0' && b <= '9'; }
bool is_hex(uint8_t b) { return is_digit(b) || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F'); }

int64_t pow10(int n) {
    int64_t p = 1;
    while (n-- > 0) p *= 10;
    return p;
}

// Is there a multiple of `step` (counted from `start`) in [start, stop] ∩ [L, H]?
bool grid_hit(int64_t start, int64_t stop, int64_t step, int64_t L, int64_t H) {
    int64_t first = std::max(L, start);
    const int64_t off = first - start;
    if (off % step) first += step - off % step;
    return first <= std::min(H, stop);
}

// Starts a UTF-8 character at lead byte b; false when b cannot start one.
bool utf8_lead(uint8_t b, MatchFrame& f) {
    if (b < 0x80) { f.pending = 0; return true; }
    if (b >= 0xC2 && b <= 0xDF) { f.pending = 1; f.next_lo = 0x80; f.next_hi = 0xBF; return true; }
    if (b >= 0xE0 && b <= 0xEF) {
        f.pending = 2;
        f.next_lo = b == 0xE0 ? 0xA0 : 0x80;
        f.next_hi = b == 0xED ? 0x9F : 0xBF;  // no surrogates
        return true;
    }
    if (b >= 0xF0 && b <= 0xF4) {
        f.pending = 3;
        f.next_lo = b == 0xF0 ? 0x90 : 0x80;
        f.next_hi = b == 0xF4 ? 0x8F : 0xBF;
        return true;
    }
    return false;
}
bool utf8_continue(uint8_t b, MatchFrame& f) {
    if (b < f.next_lo || b > f.next_hi) return false;
    --f.pending;
    f.next_lo = 0x80;
    f.next_hi = 0xBF;
    return true;
}

}  // namespace

bool MatchFrame::operator==(const MatchFrame& o) const {
    return node == o.node && kind == o.kind && phase == o.phase && depth == o.depth && ws == o.ws &&
           pending == o.pending && flags == o.flags && next_lo == o.next_lo && next_hi == o.next_hi &&
           count == o.count && pos == o.pos && lo == o.lo && hi == o.hi && prop == o.prop && seen == o.seen &&
           value == o.value;
}

int number_min_extra(const SchemaNode& n, const MatchFrame& f) {
    if (!n.bounded) {
        switch (f.phase) {
            case NZero: case NInt: case NFrac: case NExpDigits: return 0;
            default: return 1;
        }
    }
    const int F = n.frac_digits;
    const int64_t S = pow10(F);
    int best = kUnreachable;
    const bool start = f.phase == NStart;
    for (int sign = 0; sign < 2; ++sign) {
        const bool neg = start ? sign == 1 : (f.flags & kNegative) != 0;
        if (!start && sign == 1) break;
        int64_t L, H;  // magnitudes allowed
        if (!neg) { if (n.hi < 0) continue; L = std::max<int64_t>(n.lo, 0); H = n.hi; }
        else { if (n.lo > 0) continue; L = std::max<int64_t>(-n.hi, 0); H = -n.lo; }
        const int offset = start && neg ? 1 : 0;
        auto try_block = [&](int64_t A, int64_t B, int cost_int, bool need_frac) {
            if (!need_frac && grid_hit(A * S, B * S, S, L, H)) best = std::min(best, offset + cost_int);
            for (int fd = 1; fd <= F; ++fd) {
                if (offset + cost_int + 1 + fd >= best) break;
                const int64_t step = pow10(F - fd);
                if (grid_hit(A * S, B * S + S - step, step, L, H)) best = std::min(best, offset + cost_int + (need_frac ? 0 : 1) + fd);
            }
        };
        switch (f.phase) {
            case NStart: case NMinus:
                for (int j = 1; j <= n.int_digits; ++j) {
                    const int64_t A = j == 1 ? 0 : pow10(j - 1), B = pow10(j) - 1;
                    try_block(A, B, j, false);
                }
                break;
            case NZero: try_block(0, 0, 0, false); break;
            case NInt:
                for (int j = 0; f.count + j <= n.int_digits; ++j) {
                    const int64_t p = pow10(j);
                    try_block(f.value * p, f.value * p + p - 1, j, false);
                }
                break;
            case NDot: try_block(f.value, f.value, 0, true); break;
            case NFrac: {
                const int64_t width = pow10(F - f.pos);
                const int64_t base = f.value * width;
                for (int f1 = 0; f.pos + f1 <= F; ++f1) {
                    const int64_t step = pow10(F - f.pos - f1);
                    if (grid_hit(base, base + width - step, step, L, H)) { best = std::min(best, f1); break; }
                }
                break;
            }
            default: break;
        }
    }
    return best;
}

void JsonMatcher::start(MatchState* st) const {
    st->frames.clear();
    st->ends.clear();
    MatchFrame d;
    d.kind = FDocument;
    d.phase = DBefore;
    st->frames.push_back(d);
    st->ends.push_back(1);
}

void JsonMatcher::emit(const std::vector<MatchFrame>& st, MatchState* out) const {
    // The same parse reached twice (overlapping alternatives that converged) is kept once.
    uint32_t begin = 0;
    for (uint32_t e : out->ends) {
        if (e - begin == st.size() && std::equal(st.begin(), st.end(), out->frames.begin() + begin)) return;
        begin = e;
    }
    out->frames.insert(out->frames.end(), st.begin(), st.end());
    out->ends.push_back(uint32_t(out->frames.size()));
}

void JsonMatcher::child_done(std::vector<MatchFrame>& st) const {
    st.pop_back();
    MatchFrame& p = st.back();
    p.ws = 0;
    if (p.kind == FDocument) p.phase = DAfter;
    else if (p.kind == FObject) p.phase = OAfterValue;
    else if (p.kind == FArray) p.phase = AAfterValue;
}

bool JsonMatcher::lazily_complete(const MatchFrame& f) const {
    const SchemaNode& n = s_->nodes[size_t(f.node)];
    if (f.kind == FNumber) {
        if (f.phase != NZero && f.phase != NInt && f.phase != NFrac && f.phase != NExpDigits) return false;
        if (!n.bounded) return true;
        const int64_t mag = f.value * pow10(n.frac_digits - (f.phase == NFrac ? f.pos : 0));
        const int64_t v = (f.flags & kNegative) ? -mag : mag;
        return v >= n.lo && v <= n.hi;
    }
    if (f.kind == FLiteral) return n.texts[size_t(f.lo)].size() == size_t(f.pos);
    return false;
}

void JsonMatcher::open_value(std::vector<MatchFrame>& st, int node, int depth, uint8_t b, MatchState* out) const {
    const SchemaNode& n = s_->nodes[size_t(node)];
    if (n.kind == SchemaKind::AnyOf) {
        for (size_t i = 0; i < n.alternatives.size(); ++i) {
            if (i + 1 == n.alternatives.size()) {
                open_value(st, n.alternatives[i], depth, b, out);
            } else {
                std::vector<MatchFrame> copy = st;
                open_value(copy, n.alternatives[i], depth, b, out);
            }
        }
        return;
    }
    MatchFrame f;
    f.node = node;
    f.depth = uint8_t(depth);
    switch (n.kind) {
        case SchemaKind::Object:
            if (b != '{' || depth >= s_->limits.max_output_depth) return;
            f.kind = FObject;
            f.phase = OOpen;
            st.push_back(f);
            emit(st, out);
            return;
        case SchemaKind::Array:
            if (b != '[' || depth >= s_->limits.max_output_depth) return;
            f.kind = FArray;
            f.phase = AOpen;
            st.push_back(f);
            emit(st, out);
            return;
        case SchemaKind::String:
            if (b != '"') return;
            f.kind = FString;
            if (n.pattern >= 0) f.seen = kPatternStart;
            st.push_back(f);
            emit(st, out);
            return;
        case SchemaKind::Integer: case SchemaKind::Number:
            if (b != '-' && !is_digit(b)) return;
            f.kind = FNumber;
            f.phase = NStart;
            st.push_back(f);
            step(st, b, out);
            return;
        case SchemaKind::Literal:
            f.kind = FLiteral;
            f.lo = 0;
            f.hi = int32_t(n.texts.size());
            f.pos = 0;
            st.push_back(f);
            step(st, b, out);
            return;
        default:
            return;
    }
}

void JsonMatcher::step(std::vector<MatchFrame>& st, uint8_t b, MatchState* out) const {
    const int max_ws = s_->limits.max_whitespace;
    for (;;) {
        MatchFrame& f = st.back();
        const SchemaNode& n = s_->nodes[size_t(f.node < 0 ? s_->root : f.node)];
        switch (f.kind) {
            case FDocument: {
                if (is_ws(b)) {
                    if (f.phase == DInside || f.ws >= max_ws) return;
                    ++f.ws;
                    emit(st, out);
                    return;
                }
                if (f.phase != DBefore) return;
                f.phase = DInside;
                f.ws = 0;
                open_value(st, s_->root, 0, b, out);
                return;
            }
            case FObject: {
                const int np = int(n.properties.size());
                auto can_add_key = [&]() {
                    if (n.additional >= 0) return true;
                    for (int i = 0; i < np; ++i)
                        if (!(f.seen >> i & 1)) return true;
                    return false;
                };
                auto required_done = [&]() {
                    for (int i = 0; i < np; ++i)
                        if (n.properties[size_t(i)].required && !(f.seen >> i & 1)) return false;
                    return true;
                };
                if (is_ws(b) && f.phase != OKey) {
                    if (f.ws >= max_ws) return;
                    ++f.ws;
                    emit(st, out);
                    return;
                }
                switch (f.phase) {
                    case OOpen: case OComma:
                        if (b == '"' && can_add_key()) {
                            f.phase = OKey;
                            f.ws = 0;
                            f.lo = 0;
                            f.hi = np;
                            f.pos = 1;
                            f.count = 0;
                            f.pending = 0;
                            f.flags = n.additional >= 0 ? kFreeKey : 0;
                            emit(st, out);
                        } else if (b == '}' && f.phase == OOpen && required_done()) {
                            child_done(st);
                            emit(st, out);
                        }
                        return;
                    case OKey: {
                        // Declared keys still matching, as written (canonical JSON).
                        int lo = f.lo, hi = f.hi;
                        int exact = -1;
                        int nlo = hi, nhi = hi;
                        for (int i = lo; i < hi; ++i) {
                            const std::string& k = n.properties[size_t(i)].key;
                            if (k.size() > size_t(f.pos) && uint8_t(k[size_t(f.pos)]) == b) {
                                if (nlo == hi) nlo = i;
                                nhi = i + 1;
                                if (b == '"' && k.size() == size_t(f.pos) + 1) exact = i;
                            }
                        }
                        // A quote closes the key unless it continues a declared key (an escaped quote).
                        if (b == '"' && (exact >= 0 || nlo == nhi)) {
                            if (exact >= 0) {
                                if (f.seen >> exact & 1) return;  // written already
                                f.seen |= uint64_t(1) << exact;
                                f.prop = exact;
                            } else if ((f.flags & kFreeKey) && f.pending == 0) {
                                f.prop = -1;
                            } else {
                                return;
                            }
                            f.phase = OAfterKey;
                            f.ws = 0;
                            emit(st, out);
                            return;
                        }
                        // An additional key: plain characters only (no escapes, so it
                        // can never spell a declared key differently).
                        bool free_ok = (f.flags & kFreeKey) != 0;
                        if (free_ok) {
                            if (f.pending) free_ok = utf8_continue(b, f);
                            else if (b < 0x20 || b == '\\' || b == '"') free_ok = false;
                            else if (f.count >= s_->limits.max_key_length) free_ok = false;
                            else if ((free_ok = utf8_lead(b, f))) ++f.count;
                        }
                        f.flags = free_ok ? kFreeKey : 0;
                        f.lo = nlo;
                        f.hi = nhi;
                        ++f.pos;
                        if (nlo == nhi && !free_ok) return;
                        emit(st, out);
                        return;
                    }
                    case OAfterKey:
                        if (b != ':') return;
                        f.phase = OColon;
                        f.ws = 0;
                        emit(st, out);
                        return;
                    case OColon: {
                        f.phase = OValue;
                        f.ws = 0;
                        const int child = f.prop >= 0 ? n.properties[size_t(f.prop)].node : n.additional;
                        open_value(st, child, f.depth + 1, b, out);
                        return;
                    }
                    case OAfterValue:
                        if (b == ',' && can_add_key()) {
                            f.phase = OComma;
                            f.ws = 0;
                            emit(st, out);
                        } else if (b == '}' && required_done()) {
                            child_done(st);
                            emit(st, out);
                        }
                        return;
                    default:
                        return;
                }
            }
            case FArray: {
                if (is_ws(b)) {
                    if (f.phase == AValue || f.ws >= max_ws) return;
                    ++f.ws;
                    emit(st, out);
                    return;
                }
                if ((f.phase == AOpen || f.phase == AAfterValue) && b == ']') {
                    if (f.count < n.min_items) return;
                    child_done(st);
                    emit(st, out);
                    return;
                }
                if (f.phase == AAfterValue) {
                    if (b != ',' || f.count >= n.max_items) return;
                    f.phase = AComma;
                    f.ws = 0;
                    emit(st, out);
                    return;
                }
                if (f.count >= n.max_items) return;
                ++f.count;
                f.phase = AValue;
                f.ws = 0;
                open_value(st, n.items, f.depth + 1, b, out);
                return;
            }
            case FString: {
                if (n.pattern >= 0) {
                    // Printable ASCII as it is, nothing escaped (string_pattern.h).
                    const StringPattern& p = s_->patterns[size_t(n.pattern)];
                    if (b == '"') {
                        if (!pattern_accepts(p, f.seen)) return;
                        child_done(st);
                        emit(st, out);
                        return;
                    }
                    if (!pattern_writable(b) || f.count >= n.max_length) return;
                    const uint64_t next = pattern_step(p, f.seen, b);
                    if (!next || pattern_distance(p, next) > n.max_length - f.count - 1) return;
                    f.seen = next;
                    ++f.count;
                    emit(st, out);
                    return;
                }
                if (f.flags & kEscape) {
                    f.flags &= uint8_t(~kEscape);
                    if (b == 'u') f.pending = 4;
                    else if (!(b == '"' || b == '\\' || b == '/' || b == 'b' || b == 'f' || b == 'n' || b == 'r' || b == 't')) return;
                    f.next_lo = 0; f.next_hi = 0;  // marks "hex digits due", not UTF-8
                    if (b != 'u') f.pending = 0;
                    emit(st, out);
                    return;
                }
                if (f.pending && f.next_hi == 0) {  // \uXXXX
                    if (!is_hex(b)) return;
                    // No surrogates (\uD800-\uDFFF): validators count a pair as one
                    // character and a lone one is not text.
                    if (f.pending == 4 && (b == 'd' || b == 'D')) f.flags |= kSurrogate;
                    else if (f.pending == 3 && (f.flags & kSurrogate) && !is_digit(b) ) return;
                    else if (f.pending == 3 && (f.flags & kSurrogate) && b >= '8') return;
                    if (f.pending == 3) f.flags &= uint8_t(~kSurrogate);
                    if (--f.pending == 0) { f.next_lo = 0x80; f.next_hi = 0xBF; }
                    emit(st, out);
                    return;
                }
                if (f.pending) {
                    if (!utf8_continue(b, f)) return;
                    emit(st, out);
                    return;
                }
                if (b == '"') {
                    if (f.count < n.min_length) return;
                    child_done(st);
                    emit(st, out);
                    return;
                }
                if (b < 0x20 || f.count >= n.max_length) return;
                if (b == '\\') {
                    f.flags |= kEscape;
                } else if (!utf8_lead(b, f)) {
                    return;
                }
                ++f.count;
                emit(st, out);
                return;
            }
            case FNumber: {
                bool took = true;
                switch (f.phase) {
                    case NStart:
                        if (b == '-') { f.phase = NMinus; f.flags |= kNegative; }
                        else if (b == '0') f.phase = NZero;
                        else if (is_digit(b)) { f.phase = NInt; f.count = 1; f.value = b - '0'; }
                        else took = false;
                        break;
                    case NMinus:
                        if (b == '0') f.phase = NZero;
                        else if (is_digit(b)) { f.phase = NInt; f.count = 1; f.value = b - '0'; }
                        else return;  // '-' alone is not a number
                        break;
                    case NZero: case NInt:
                        if (is_digit(b) && f.phase == NInt && f.count < n.int_digits) {
                            ++f.count;
                            if (n.bounded) f.value = f.value * 10 + (b - '0');
                        } else if (b == '.' && n.frac_digits > 0) {
                            f.phase = NDot;
                        } else if ((b == 'e' || b == 'E') && n.exponent) {
                            f.phase = NExp;
                        } else {
                            took = false;
                        }
                        break;
                    case NDot: case NFrac:
                        if (is_digit(b) && f.pos < n.frac_digits) {
                            f.phase = NFrac;
                            ++f.pos;
                            if (n.bounded) f.value = f.value * 10 + (b - '0');
                        } else if (f.phase == NFrac && (b == 'e' || b == 'E') && n.exponent) {
                            f.phase = NExp;
                        } else if (f.phase == NDot) {
                            return;
                        } else {
                            took = false;
                        }
                        break;
                    case NExp:
                        if (b == '+' || b == '-') f.phase = NExpSign;
                        else if (is_digit(b)) { f.phase = NExpDigits; f.pos = 1; }
                        else return;
                        break;
                    case NExpSign:
                        if (!is_digit(b)) return;
                        f.phase = NExpDigits;
                        f.pos = 1;
                        break;
                    case NExpDigits:
                        if (is_digit(b) && f.pos < 2) ++f.pos;
                        else took = false;
                        break;
                }
                if (took) {
                    if (n.bounded && number_min_extra(n, f) >= kUnreachable) return;
                    emit(st, out);
                    return;
                }
                if (!lazily_complete(f)) return;
                child_done(st);
                continue;  // the byte belongs to the parent
            }
            case FLiteral: {
                // texts are sorted: those continuing with b are contiguous.
                int nlo = f.hi, nhi = f.hi;
                for (int i = f.lo; i < f.hi; ++i) {
                    const std::string& t = n.texts[size_t(i)];
                    if (t.size() > size_t(f.pos) && uint8_t(t[size_t(f.pos)]) == b) {
                        if (nlo == f.hi) nlo = i;
                        nhi = i + 1;
                    } else if (nlo != f.hi) {
                        break;
                    }
                }
                if (nlo == nhi) {
                    if (!lazily_complete(f)) return;
                    child_done(st);
                    continue;
                }
                f.lo = nlo;
                f.hi = nhi;
                ++f.pos;
                // The only text left is complete: close now (strings, true, objects... end themselves).
                if (nhi - nlo == 1 && n.texts[size_t(nlo)].size() == size_t(f.pos)) child_done(st);
                emit(st, out);
                return;
            }
        }
        return;
    }
}

bool JsonMatcher::advance(const MatchState& in, uint8_t byte, MatchState* out) const {
    // The common case inside a free string: one parse, an ASCII character.
    if (in.ends.size() == 1 && byte >= 0x20 && byte < 0x7F && byte != '"' && byte != '\\') {
        const MatchFrame& top = in.frames.back();
        if (top.kind == FString && !(top.flags & kEscape) && top.pending == 0 && s_->nodes[size_t(top.node)].pattern < 0) {
            if (top.count >= s_->nodes[size_t(top.node)].max_length) { out->frames.clear(); out->ends.clear(); return false; }
            out->frames.assign(in.frames.begin(), in.frames.end());
            out->ends.assign(1, uint32_t(in.frames.size()));
            ++out->frames.back().count;
            return true;
        }
    }
    out->frames.clear();
    out->ends.clear();
    uint32_t begin = 0;
    for (uint32_t e : in.ends) {
        work_.assign(in.frames.begin() + begin, in.frames.begin() + e);
        begin = e;
        step(work_, byte, out);
    }
    return !out->ends.empty();
}

bool JsonMatcher::advance_bytes(MatchState* st, const std::string& bytes) const {
    MatchState next;
    for (char c : bytes) {
        if (!advance(*st, uint8_t(c), &next)) { *st = MatchState(); return false; }
        std::swap(*st, next);
    }
    return true;
}

bool JsonMatcher::complete(const MatchState& st) const {
    uint32_t begin = 0;
    for (uint32_t e : st.ends) {
        const MatchFrame& top = st.frames[e - 1];
        if (top.kind == FDocument && top.phase == DAfter) return true;
        if (e - begin == 2 && lazily_complete(top)) return true;
        begin = e;
    }
    return false;
}

int JsonMatcher::object_after_cost(const MatchFrame& f, uint64_t seen) const {
    const SchemaNode& n = s_->nodes[size_t(f.node)];
    long long sum = 0;
    int count = 0;
    for (size_t i = 0; i < n.properties.size(); ++i) {
        const SchemaProperty& p = n.properties[i];
        if (!p.required || (seen >> i & 1)) continue;
        sum += int(p.key.size()) + 1 + s_->min_value_bytes(p.node, f.depth + 1);
        ++count;
    }
    return int(std::min<long long>(sum + count + 1, kUnreachable));  // a comma before each, then '}'
}

int JsonMatcher::object_key_cost(const MatchFrame& f, bool free_only) const {
    const SchemaNode& n = s_->nodes[size_t(f.node)];
    int best = kUnreachable;
    if (!free_only) {
        for (int i = f.lo; i < f.hi; ++i) {
            if (f.seen >> i & 1) continue;
            const SchemaProperty& p = n.properties[size_t(i)];
            const long long c = (long long)(p.key.size() - size_t(f.pos)) + 1 + s_->min_value_bytes(p.node, f.depth + 1) +
                                object_after_cost(f, f.seen | (uint64_t(1) << i));
            best = int(std::min<long long>(best, c));
        }
    }
    if (f.flags & kFreeKey) {
        // Close the key now (one more character when that would spell a declared key written already).
        int close = 1 + f.pending;
        for (int i = f.lo; i < f.hi; ++i)
            if (n.properties[size_t(i)].key.size() == size_t(f.pos) + 1 && (f.seen >> i & 1)) close += 1;
        const long long c = (long long)close + 1 + s_->min_value_bytes(n.additional, f.depth + 1) + object_after_cost(f, f.seen);
        best = int(std::min<long long>(best, c));
    }
    return best;
}

int JsonMatcher::frame_cost(const MatchFrame& f) const {
    const SchemaNode& n = s_->nodes[size_t(f.node < 0 ? s_->root : f.node)];
    switch (f.kind) {
        case FDocument:
            return f.phase == DBefore ? s_->min_value_bytes(s_->root, 0) : 0;
        case FObject: {
            switch (f.phase) {
                case OOpen: {
                    const int c = object_after_cost(f, f.seen);
                    return c == 1 ? 1 : c - 1;  // no comma before the first key
                }
                case OComma: {
                    const int c = object_after_cost(f, f.seen);
                    if (c > 1) return c - 1;
                    // Nothing required is left, but a key must follow the comma.
                    int best = kUnreachable;
                    for (size_t i = 0; i < n.properties.size(); ++i)
                        if (!(f.seen >> i & 1))
                            best = std::min(best, int(n.properties[i].key.size()) + 1 + s_->min_value_bytes(n.properties[i].node, f.depth + 1));
                    if (n.additional >= 0) best = std::min(best, 3 + s_->min_value_bytes(n.additional, f.depth + 1));
                    return std::min(kUnreachable, best + 1);
                }
                case OKey: return object_key_cost(f, false);
                case OAfterKey: case OColon: {
                    const int child = f.prop >= 0 ? n.properties[size_t(f.prop)].node : n.additional;
                    return std::min<int>(kUnreachable, (f.phase == OAfterKey ? 1 : 0) + s_->min_value_bytes(child, f.depth + 1) + object_after_cost(f, f.seen));
                }
                case OValue: case OAfterValue: return object_after_cost(f, f.seen);
            }
            return kUnreachable;
        }
        case FArray: {
            const int mv = s_->min_value_bytes(n.items, f.depth + 1);
            if (f.phase == AOpen) {
                if (n.min_items == 0) return 1;
                return int(std::min<long long>((long long)n.min_items * mv + n.min_items, kUnreachable));
            }
            if (f.phase == AComma) {
                const int k = std::max(1, n.min_items - f.count);
                return int(std::min<long long>((long long)k * mv + k, kUnreachable));
            }
            const int k = std::max(0, n.min_items - f.count);
            return int(std::min<long long>((long long)k * (mv + 1) + 1, kUnreachable));
        }
        case FString: {
            if (n.pattern >= 0) return pattern_distance(s_->patterns[size_t(n.pattern)], f.seen) + 1;
            const int due = (f.flags & kEscape) ? 1 : f.pending;
            return due + std::max(0, n.min_length - f.count) + 1;
        }
        case FNumber:
            return number_min_extra(n, f);
        case FLiteral: {
            int best = kUnreachable;
            for (int i = f.lo; i < f.hi; ++i) best = std::min(best, int(n.texts[size_t(i)].size()) - f.pos);
            return best;
        }
    }
    return kUnreachable;
}

int JsonMatcher::min_completion(const MatchState& st) const {
    int best = kUnreachable;
    uint32_t begin = 0;
    for (uint32_t e : st.ends) {
        long long sum = 0;
        for (uint32_t i = begin; i < e && sum < kUnreachable; ++i) sum += frame_cost(st.frames[i]);
        best = int(std::min<long long>(best, sum));
        begin = e;
    }
    return best;
}

int JsonMatcher::free_text_room(const MatchState& st, int* cost) const {
    if (st.ends.size() != 1) return -1;
    const MatchFrame& top = st.frames.back();
    const SchemaNode& n = s_->nodes[size_t(top.node < 0 ? s_->root : top.node)];
    if (top.kind == FString) {
        if ((top.flags & kEscape) || top.pending || n.pattern >= 0) return -1;
        *cost = min_completion(st);  // plain characters only lower it
        return n.max_length - top.count;
    }
    if (top.kind == FObject && top.phase == OKey && (top.flags & kFreeKey) && top.pending == 0) {
        // After plain characters the key may no longer match a declared one:
        // count only the additional-key way out (and the frames below).
        long long below = 0;
        for (size_t i = 0; i + 1 < st.frames.size(); ++i) below += frame_cost(st.frames[i]);
        MatchFrame f = top;
        f.lo = f.hi = 0;  // no declared key left
        // A lower bound: a character more may make the key spell a declared key
        // written already, which costs one more (see allowed_tokens).
        *cost = int(std::min<long long>(below + object_key_cost(f, true), kUnreachable));
        return s_->limits.max_key_length - top.count;
    }
    return -1;
}

uint8_t JsonMatcher::string_frame_kind() { return FString; }

std::vector<std::string> JsonMatcher::written_key_rests(const MatchState& st) const {
    std::vector<std::string> rests;
    if (st.ends.size() != 1) return rests;
    const MatchFrame& top = st.frames.back();
    if (top.kind != FObject || top.phase != OKey) return rests;
    const SchemaNode& n = s_->nodes[size_t(top.node)];
    for (int i = top.lo; i < top.hi; ++i) {
        const std::string& k = n.properties[size_t(i)].key;
        if ((top.seen >> i & 1) && k.size() > size_t(top.pos) + 1) rests.push_back(k.substr(size_t(top.pos), k.size() - 1 - size_t(top.pos)));
    }
    return rests;
}

bool JsonMatcher::without_free_text(const MatchState& st, MatchState* out) const {
    if (st.ends.size() != 1) return false;
    const MatchFrame& top = st.frames.back();
    const SchemaNode& n = s_->nodes[size_t(top.node < 0 ? s_->root : top.node)];
    if (top.kind == FString) {
        if (top.count >= n.min_length) return false;
        *out = st;
        return true;
    }
    if (top.kind == FObject && top.phase == OKey) {
        if (top.lo >= top.hi) return false;
        *out = st;
        out->frames.back().flags = uint8_t(out->frames.back().flags & ~kFreeKey);
        return true;
    }
    *out = st;
    return true;
}

}  // namespace es
