// constrained_sample: JSON-schema-constrained sampling outside the app, for
// tests and measurements (src/constrained/README.md).
//
//   constrained_sample sample TOKENIZER.model MODEL.safetensors SCHEMAS.json PER_SCHEMA OUT.jsonl
//       [--temperature T] [--max-new-tokens N] [--seed S]
//     Samples PER_SCHEMA outputs for every schema of SCHEMAS.json ({"name": schema})
//     from the random tiny model's tied embeddings used as a bigram model
//     (logits = E · E[previous token]), one seed per output, and writes one JSON
//     line per output: {"schema", "seed", "text", "reason", "tokens"}. Prints
//     the mean and worst time of one step's token mask.
//
//   constrained_sample bench SCHEMAS.json VOCAB_SIZE [STEPS]
//     The per-step mask cost on a synthetic vocabulary of VOCAB_SIZE tokens
//     (shaped like Gemma's 262k one: byte pieces, ASCII, words with and
//     without a leading space, digits, punctuation runs, multi-byte text).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "assistant/generation.h"
#include "assistant/sampler.h"
#include "assistant/tokenizer.h"
#include "constrained/json_constraint.h"

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// This thread's CPU time: the machine is shared, wall time would count other work.
#include <ctime>
static double cpu_seconds() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

namespace {

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        std::fprintf(stderr, "cannot read %s\n", path.c_str());
        std::exit(2);
    }
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// language_model.model.embed_tokens.weight (F32 [vocab, hidden]) from a safetensors file.
std::vector<float> read_embeddings(const std::string& path, int* vocab, int* hidden) {
    const std::string b = read_file(path);
    uint64_t n = 0;
    std::memcpy(&n, b.data(), 8);
    const json h = json::parse(b.substr(8, n));
    const json& e = h.at("language_model.model.embed_tokens.weight");
    if (e.at("dtype") != "F32") { std::fprintf(stderr, "embeddings are not F32\n"); std::exit(2); }
    *vocab = e["shape"][0];
    *hidden = e["shape"][1];
    const size_t begin = e["data_offsets"][0], end = e["data_offsets"][1];
    std::vector<float> w((end - begin) / 4);
    std::memcpy(w.data(), b.data() + 8 + n + begin, end - begin);
    return w;
}

int sample(int argc, char** argv) {
    if (argc < 7) return 2;
    double temperature = 1.5;
    int max_new = 160;
    uint64_t seed0 = 1;
    for (int i = 7; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--temperature")) temperature = std::atof(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--max-new-tokens")) max_new = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--seed")) seed0 = std::strtoull(argv[i + 1], nullptr, 10);
    }
    es::Tokenizer tok;
    const std::string model = read_file(argv[2]);
    std::string error;
    if (!tok.load(reinterpret_cast<const uint8_t*>(model.data()), model.size(), &error)) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 2;
    }
    int vocab = 0, hidden = 0;
    const std::vector<float> E = read_embeddings(argv[3], &vocab, &hidden);
    const json schemas = json::parse(read_file(argv[4]));
    const int per_schema = std::atoi(argv[5]);
    std::ofstream out(argv[6]);
    auto vocabulary = es::TokenVocabulary::from_tokenizer(tok);
    std::vector<float> logits(static_cast<size_t>(vocab));
    std::vector<std::vector<float>> rows(static_cast<size_t>(vocab));
    double mask_seconds = 0, worst = 0;
    long steps = 0;
    for (auto it = schemas.begin(); it != schemas.end(); ++it) {
        auto cs = std::make_shared<es::CompiledSchema>();
        if (!es::compile_json_schema(it.value().dump(), es::SchemaLimits(), cs.get(), &error)) {
            std::fprintf(stderr, "%s: %s\n", it.key().c_str(), error.c_str());
            return 1;
        }
        for (int k = 0; k < per_schema; ++k) {
            std::shared_ptr<es::JsonConstraint> c = es::JsonConstraint::create(cs, vocabulary, &error);
            if (!c) { std::fprintf(stderr, "%s\n", error.c_str()); return 1; }
            es::GenerationConfig g;
            g.max_new_tokens = max_new;
            g.stop_ids = {tok.eos_id(), tok.piece_to_id("<end_of_turn>")};
            g.sampler.temperature = float(temperature);
            g.sampler.seed = seed0 + uint64_t(k);
            g.constraint = c;
            es::Generator gen;
            gen.start(g, {tok.bos_id()});
            int prev = tok.bos_id();
            for (;;) {
                // A bigram model: the row depends on the previous token only, so it is kept.
                std::vector<float>& row = rows[size_t(prev)];
                if (row.empty()) {
                    row.resize(size_t(vocab));
                    const float* p = &E[size_t(prev) * size_t(hidden)];
                    for (int v = 0; v < vocab; ++v) {
                        const float* q = &E[size_t(v) * size_t(hidden)];
                        float d = 0;
                        for (int i = 0; i < hidden; ++i) d += p[i] * q[i];
                        row[size_t(v)] = d;
                    }
                }
                std::copy(row.begin(), row.end(), logits.begin());
                const double t0 = cpu_seconds();
                const es::StepResult r = gen.on_logits(logits.data(), vocab);
                const double s = cpu_seconds() - t0;
                mask_seconds += s;
                worst = std::max(worst, s);
                ++steps;
                if (r.finished) break;
                prev = r.token;
            }
            std::vector<int> ids = gen.generated();
            if (gen.reason() == es::FinishReason::StopToken) ids.pop_back();
            out << json{{"schema", it.key()}, {"seed", g.sampler.seed}, {"text", tok.decode(ids)},
                        {"constraint_text", c->text()}, {"reason", es::finish_reason_name(gen.reason())},
                        {"error", gen.error()}, {"tokens", gen.generated().size()}}
                       .dump(-1, ' ', false, json::error_handler_t::replace)
                << "\n";
        }
    }
    std::printf("{\"steps\": %ld, \"step_cpu_mean_us\": %.1f, \"step_cpu_worst_us\": %.1f, \"vocab\": %d}\n", steps,
                1e6 * mask_seconds / double(std::max(1L, steps)), 1e6 * worst, vocabulary->size());
    return 0;
}

// A synthetic vocabulary shaped like Gemma's: see the header comment.
std::vector<std::string> synthetic_vocabulary(int size) {
    std::vector<std::string> v;
    std::set<std::string> seen;
    auto add = [&](const std::string& s) {
        if (int(v.size()) < size && !s.empty() && seen.insert(s).second) v.push_back(s);
    };
    v.push_back("");  // <pad>
    v.push_back("");  // <eos>
    v.push_back("");  // <bos>
    for (int b = 0; b < 256; ++b) { v.push_back(std::string(1, char(b))); seen.insert(v.back()); }
    es::Rng rng(42);
    const char* letters = "etaoinshrdlcumwfgypbvkjxqz";
    const char* punct[] = {"\"", "\",", "\":", "\": \"", "\"}", "{\"", "\\n", "\\\"", "\n", "\n\n", "  ", "    ", "\t",
                           ",", ".", ":", "{", "}", "[", "]", "},", "],", "(", ")", "</", "/>", "==", "--", "**"};
    for (const char* p : punct) add(p);
    for (int n = 2; n <= 31; ++n) add(std::string(size_t(n), ' '));
    for (int n = 2; n <= 31; ++n) add(std::string(size_t(n), '\n'));
    // Words: letter strings with a Zipf-like length spread, half with a leading space,
    // some capitalised; 15% multi-byte (Cyrillic, CJK), 3% with a quote or backslash.
    while (int(v.size()) < size) {
        const double u = rng.uniform();
        std::string w;
        if (u < 0.10) {
            const int n = 1 + int(rng.next() % 4);
            for (int i = 0; i < n; ++i) {
                const uint32_t cp = 0x4E00 + uint32_t(rng.next() % 20000);
                w += char(0xE0 | (cp >> 12));
                w += char(0x80 | ((cp >> 6) & 0x3F));
                w += char(0x80 | (cp & 0x3F));
            }
        } else if (u < 0.15) {
            const int n = 2 + int(rng.next() % 8);
            for (int i = 0; i < n; ++i) {
                const uint32_t cp = 0x430 + uint32_t(rng.next() % 32);
                w += char(0xC0 | (cp >> 6));
                w += char(0x80 | (cp & 0x3F));
            }
        } else {
            const int n = 2 + int(std::min<uint64_t>(rng.next() % 6 + rng.next() % 6, 14));
            for (int i = 0; i < n; ++i) {
                const double r = rng.uniform();
                w += letters[int(r * r * 26) % 26];
            }
            if (rng.uniform() < 0.2) w[0] = char(w[0] - 32);
            if (u > 0.97) w += rng.uniform() < 0.5 ? "\"" : "\\";
        }
        add(rng.uniform() < 0.5 ? " " + w : w);
    }
    return v;
}

int bench(int argc, char** argv) {
    if (argc < 4) return 2;
    const json schemas = json::parse(read_file(argv[2]));
    const int size = std::atoi(argv[3]);
    const int steps_wanted = argc > 4 ? std::atoi(argv[4]) : 200;
    std::vector<std::string> tokens = synthetic_vocabulary(size);
    const double t0 = cpu_seconds();
    auto vocabulary = std::make_shared<es::TokenVocabulary>(std::move(tokens));
    const double build_ms = 1e3 * (cpu_seconds() - t0);
    std::printf("{\"vocab\": %d, \"index_build_cpu_ms\": %.1f, \"index_mib\": %.1f, \"plain_tokens\": %zu, \"other_trie_nodes\": %zu, \"plain_trie_nodes\": %zu}\n",
                vocabulary->size(), build_ms, double(vocabulary->memory_bytes()) / 1048576.0,
                vocabulary->plain_by_chars().size(), vocabulary->other_trie().nodes(), vocabulary->plain_trie().nodes());
    std::vector<uint32_t> mask;
    for (auto it = schemas.begin(); it != schemas.end(); ++it) {
        std::string error;
        std::shared_ptr<es::JsonConstraint> c = es::JsonConstraint::create(it.value().dump(), es::SchemaLimits(), vocabulary, &error);
        if (!c) { std::fprintf(stderr, "%s: %s\n", it.key().c_str(), error.c_str()); return 1; }
        es::Rng rng(7);
        double total = 0, worst = 0;
        int steps = 0, outputs = 0;
        long allowed_sum = 0;
        while (steps < steps_wanted) {
            c->reset();
            const int max_new = 96;
            for (int k = 0; k < max_new && steps < steps_wanted; ++k) {
                const double a = cpu_seconds();
                c->allowed_tokens(max_new - k, &mask);
                const double s = cpu_seconds() - a;
                total += s;
                worst = std::max(worst, s);
                ++steps;
                std::vector<int> ids;
                for (size_t w = 0; w < mask.size(); ++w)
                    for (uint32_t bits = mask[w]; bits; bits &= bits - 1) ids.push_back(int(w * 32) + __builtin_ctz(bits));
                allowed_sum += long(ids.size());
                if (ids.empty() || (c->complete() && rng.uniform() < 0.3)) break;
                c->accept(ids[size_t(rng.next() % ids.size())]);
            }
            ++outputs;
        }
        std::printf("{\"schema\": \"%s\", \"steps\": %d, \"mask_cpu_mean_us\": %.1f, \"mask_cpu_worst_us\": %.1f, \"allowed_mean\": %.0f}\n",
                    it.key().c_str(), steps, 1e6 * total / steps, 1e6 * worst, double(allowed_sum) / steps);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    int rc = 2;
    if (mode == "sample") rc = sample(argc, argv);
    else if (mode == "bench") rc = bench(argc, argv);
    if (rc == 2)
        std::fprintf(stderr,
                     "usage: constrained_sample sample TOKENIZER.model MODEL.safetensors SCHEMAS.json PER_SCHEMA OUT.jsonl [--temperature T] [--max-new-tokens N] [--seed S]\n"
                     "       constrained_sample bench SCHEMAS.json VOCAB_SIZE [STEPS]\n");
    return rc;
}
