// constraint_bindings.cpp: JSON-schema constraints over any vocabulary, for JS
// code that runs its own sampling loop (and for tools/bench). The chat's own
// generation takes a schema directly (es_generation_start's "json_schema").
// Errors: 0 returns, with the message in es_constraint_last_error().
#include <emscripten/emscripten.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "constrained/json_constraint.h"

namespace {

std::string g_error;
std::map<int, std::shared_ptr<es::TokenVocabulary>> g_vocabularies;
std::map<int, std::unique_ptr<es::JsonConstraint>> g_constraints;
std::vector<uint32_t> g_mask;
int g_next = 1;

es::JsonConstraint* constraint(int h) {
    auto it = g_constraints.find(h);
    if (it == g_constraints.end()) { g_error = "no constraint with handle " + std::to_string(h); return nullptr; }
    return it->second.get();
}

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE const char* es_constraint_last_error() { return g_error.c_str(); }

// Token i's bytes are bytes[ends[i-1] .. ends[i]) (ends[-1] = 0); an empty
// token is never allowed (control and special tokens).
EMSCRIPTEN_KEEPALIVE int es_constraint_vocabulary_create(const uint8_t* bytes, const int32_t* ends, int count) {
    if (count <= 0) { g_error = "the vocabulary is empty"; return 0; }
    std::vector<std::string> tokens(static_cast<size_t>(count));
    int32_t begin = 0;
    for (int i = 0; i < count; ++i) {
        if (ends[i] < begin) { g_error = "token ends must not decrease"; return 0; }
        tokens[size_t(i)].assign(reinterpret_cast<const char*>(bytes) + begin, size_t(ends[i] - begin));
        begin = ends[i];
    }
    const int h = g_next++;
    g_vocabularies[h] = std::make_shared<es::TokenVocabulary>(std::move(tokens));
    return h;
}
EMSCRIPTEN_KEEPALIVE void es_constraint_vocabulary_free(int h) { g_vocabularies.erase(h); }

EMSCRIPTEN_KEEPALIVE int es_constraint_create(int vocabulary, const char* schema_json) {
    auto it = g_vocabularies.find(vocabulary);
    if (it == g_vocabularies.end()) { g_error = "no vocabulary with handle " + std::to_string(vocabulary); return 0; }
    auto c = es::JsonConstraint::create(schema_json ? schema_json : "", es::SchemaLimits(), it->second, &g_error);
    if (!c) return 0;
    const int h = g_next++;
    g_constraints[h] = std::move(c);
    return h;
}
EMSCRIPTEN_KEEPALIVE void es_constraint_free(int h) { g_constraints.erase(h); }
EMSCRIPTEN_KEEPALIVE void es_constraint_reset(int h) { if (auto* c = constraint(h)) c->reset(); }
EMSCRIPTEN_KEEPALIVE int es_constraint_min_tokens(int h) { auto* c = constraint(h); return c ? c->min_tokens() : -1; }
// The content tokens allowed next with `remaining` tokens left (this one
// included): a bitmask, 32 ids per word; returns the word count (the words are
// at es_constraint_mask()).
EMSCRIPTEN_KEEPALIVE int es_constraint_allowed_tokens(int h, int remaining) {
    auto* c = constraint(h);
    if (!c) return -1;
    c->allowed_tokens(remaining, &g_mask);
    return int(g_mask.size());
}
EMSCRIPTEN_KEEPALIVE uint32_t* es_constraint_mask() { return g_mask.data(); }
EMSCRIPTEN_KEEPALIVE int es_constraint_accept_token(int h, int token) { auto* c = constraint(h); return c && c->accept(token) ? 1 : 0; }
EMSCRIPTEN_KEEPALIVE int es_constraint_is_complete(int h) { auto* c = constraint(h); return c && c->complete() ? 1 : 0; }

}  // extern "C"
