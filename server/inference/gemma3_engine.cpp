// gemma3_engine.cpp: see gemma3_engine.h.
#include "inference/gemma3_engine.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

#include "assistant/conversation.h"
#include "assistant/generation.h"
#include "assistant/image_preprocess.h"
#include "assistant/label_scoring.h"
#include "assistant/sampler.h"
#include "assistant/tokenizer.h"
#include "constrained/json_constraint.h"
#include "constrained/token_vocabulary.h"
#include "image/image.h"
#include "inference/chat_prompt.h"
#include "inference/gemma3_model.h"
#include "inference/gemma3_package.h"
#include "inference/ort_tensors.h"
#include "inference/stop_strings.h"
#include "inference/text_or_json_constraint.h"

namespace es::server {

namespace {
constexpr size_t kRememberedAnswers = 512;
}

struct Gemma3Engine::Model {
    ModelInfo info;
    Gemma3Package package;
    std::unique_ptr<Gemma3Model> net;
    es::Tokenizer tokenizer;
    es::ImagePreprocessConfig preprocess;
    ConversationConfig chat;
    int context = 0;
    std::vector<std::string> notices;
    // Built on the first constrained request (~0.2 s for a 262k vocabulary), then shared.
    std::shared_ptr<const es::TokenVocabulary> vocab;
    std::shared_ptr<const TextTokenMasks> text_masks;
};

struct Gemma3Engine::Sequence {
    uint64_t id = 0;
    Model* model = nullptr;
    std::vector<int> tokens;                // prompt + generated
    std::shared_ptr<const KvState> kv;      // holds tokens[0, kv->length)
    std::vector<float> logits;              // the row the next token is sampled from
    bool need_feed = false;                 // tokens.back() must run through the decoder first
    es::Generator generator;
    std::unique_ptr<es::TextStream> stream;
    EngineStopFilter stop;
    bool logprobs = false;
    int top_logprobs = 0;
    bool finished = false;
    bool stopped_by_string = false;
    std::string finish_reason;
    std::vector<int> answer;                // generated ids
    std::vector<std::string> image_keys;    // the prompt's images, for the KV cache key
};

Gemma3Engine::Gemma3Engine(const OnnxRuntime& runtime, const EngineOptions& options)
    : runtime_(runtime),
      options_(options),
      kv_cache_(options.kv_cache_bytes, options.kv_cache_age_seconds),
      image_cache_(options.image_cache_bytes, options.image_cache_age_seconds) {}

Gemma3Engine::~Gemma3Engine() {
    // Sessions and tensors go before the environment.
    sequences_.clear();
    kv_cache_.clear();
    models_.clear();
}

std::unique_ptr<Gemma3Engine> Gemma3Engine::load(const OnnxRuntime& runtime, const std::vector<ModelSpec>& specs,
                                                 const EngineOptions& options, std::string* error) {
    if (!runtime.ok) {
        *error = runtime.error;
        return nullptr;
    }
    std::unique_ptr<Gemma3Engine> e(new Gemma3Engine(runtime, options));
    e->env_ = std::make_unique<Ort::Env>(ORT_LOGGING_LEVEL_ERROR, "endoscribe-server");
    const bool cuda = runtime.provider == ExecutionProvider::Cuda;
    for (const ModelSpec& spec : specs) {
        PackageOpenResult opened = open_gemma3_package(spec.dir);
        if (!opened.ok) {
            *error = opened.error;
            return nullptr;
        }
        auto m = std::make_unique<Model>();
        m->package = std::move(opened.package);
        const Gemma3Package& pkg = m->package;
        std::string name = spec.name;
        if (name.empty()) name = std::filesystem::absolute(spec.dir).lexically_normal().filename().string();
        if (name.empty()) name = std::filesystem::absolute(spec.dir).lexically_normal().parent_path().filename().string();
        for (const auto& other : e->models_)
            if (other->info.id == name) {
                *error = "two models are named \"" + name + "\": give each --model its own --model-name";
                return nullptr;
            }
        std::string variant = spec.variant.empty() ? default_variant(pkg, cuda) : spec.variant;
        if (variant.empty()) {
            *error = spec.dir.string() + ": no complete variant (vision_encoder, embed_tokens and decoder graphs) found in onnx/";
            return nullptr;
        }
        std::string err;
        if (!m->tokenizer.load(pkg.tokenizer_model.data(), pkg.tokenizer_model.size(), &err) ||
            !m->tokenizer.add_tokens_from_config(pkg.tokenizer_config, &err)) {
            *error = (spec.dir / "tokenizer.model").string() + ": cannot be read as a SentencePiece tokenizer (" + err + ")";
            return nullptr;
        }
        if (!es::parse_preprocessor_config(pkg.preprocessor_config, &m->preprocess, &err)) {
            *error = (spec.dir / "preprocessor_config.json").string() + ": " + err;
            return nullptr;
        }
        m->chat = pkg.chat;
        m->chat.max_context = 0;  // the client owns the conversation: too long is an error, not a silent cut
        {
            es::Conversation probe;
            if (!probe.init(&m->tokenizer, m->chat, &err)) {
                *error = (spec.dir / "tokenizer_config.json").string() + ": the chat template cannot be used (" + err + ")";
                return nullptr;
            }
        }
        try {
            m->net = std::make_unique<Gemma3Model>(*e->env_, runtime, pkg, variant);
        } catch (const std::exception& ex) {
            *error = ex.what();
            return nullptr;
        }
        const Gemma3Facts& f = pkg.facts;
        try {
            // One token through embed_tokens and the decoder: ONNX Runtime's first run
            // allocates and plans (~50 ms on the tiny model), so the first client does not wait for it.
            DecodeInput warm;
            warm.new_tokens = 1;
            warm.embeds = m->net->embed({m->tokenizer.bos_id() >= 0 ? m->tokenizer.bos_id() : 0});
            warm.positions = {0};
            warm.want_present = false;
            m->net->decode(warm);
        } catch (const std::exception& ex) {
            *error = spec.dir.string() + ": the model does not run (" + ex.what() + ")";
            return nullptr;
        }
        m->context = options.context_limit;
        if (f.max_position_embeddings > 0 && (m->context <= 0 || f.max_position_embeddings < m->context))
            m->context = f.max_position_embeddings;
        m->info.id = name;
        m->info.input_modalities = {"text", "image"};
        m->info.variant = variant;
        m->info.execution_provider = execution_provider_name(runtime.provider);
        m->info.context_length = m->context;
        m->info.image_size = f.image_size > 0 ? f.image_size : m->preprocess.width;
        m->info.test_model = pkg.test_model;
        m->notices = pkg.notices;
        for (const auto& n : m->net->notices()) m->notices.push_back(n);
        if (pkg.test_model) m->notices.push_back("test model with random weights: its answers are meaningless");
        e->models_.push_back(std::move(m));
    }
    if (e->models_.empty()) {
        *error = "no model given (--model DIR)";
        return nullptr;
    }
    return e;
}

std::vector<std::string> Gemma3Engine::describe() const {
    std::vector<std::string> out;
    for (const auto& m : models_) {
        std::string s = "model \"" + m->info.id + "\" (" + m->package.dir.string() + "): variant " + m->info.variant +
                        ", " + m->info.execution_provider + " execution provider, " +
                        (m->net->decoder_graph() == "decoder" ? std::string("decoder_model_merged") : m->net->decoder_graph()) +
                        ", context " + std::to_string(m->context) + " tokens";
        for (const auto& n : m->notices) s += "; " + n;
        out.push_back(s);
    }
    return out;
}

std::vector<ModelInfo> Gemma3Engine::models() const {
    std::vector<ModelInfo> out;
    for (const auto& m : models_) out.push_back(m->info);
    return out;
}

int Gemma3Engine::max_batch() const {
    if (!options_.batched_decode) return 1;
    return std::max(1, options_.max_batch);
}

Gemma3Engine::Model* Gemma3Engine::find_model(const std::string& name, std::string* error) {
    if (name.empty() && models_.size() == 1) return models_.front().get();
    for (const auto& m : models_)
        if (m->info.id == name) return m.get();
    std::string list;
    for (const auto& m : models_) list += (list.empty() ? "" : ", ") + m->info.id;
    *error = "The model \"" + name + "\" is not loaded on this server (loaded: " + list + ").";
    return nullptr;
}

void Gemma3Engine::update_cache_bytes() { cache_bytes_ = kv_cache_.bytes() + image_cache_.bytes(); }

// ---- prompt -------------------------------------------------------------------

bool Gemma3Engine::build_prompt(Model& m, const std::vector<ChatMessage>& messages, Prompt* p) {
    ChatPromptModel cm{m.info.id, &m.tokenizer, &m.chat, &m.preprocess, m.context};
    auto cached_image = [&](const std::string& key) {
        auto f = image_cache_.get(key);
        if (f) ++stats_.image_cache_hits;
        return f;
    };
    auto answer_ids = [&](const std::string& text, std::vector<int>* ids) {
        const std::string key = m.info.id + std::string(1, '\0') + text;
        for (auto it = answers_.begin(); it != answers_.end(); ++it)
            if (it->first == key) {
                *ids = it->second;
                answers_.splice(answers_.begin(), answers_, it);
                return true;
            }
        return false;
    };
    return build_chat_prompt(cm, messages, cached_image, answer_ids, p);
}

// ---- prefill --------------------------------------------------------------------

bool Gemma3Engine::prefill(Model& m, Prompt& p, std::vector<float>* last_row, std::shared_ptr<const KvState>* kv_out,
                           int* cached, std::string* error) {
    const int image_id = m.package.facts.image_token_id;
    const std::vector<int>& tokens = p.tokens;
    const size_t n = tokens.size();
    std::vector<std::string> image_keys;
    for (const PromptImage& img : p.images) image_keys.push_back(img.key);
    KvPrefixCache::Match match =
        kv_cache_.longest(m.info.id, kv_cache_key(tokens, tokens.size(), image_id, image_keys));
    size_t reuse = std::min(match.length, n - 1);  // at least one token runs, for its logits
    // Never split an image's tokens across runs (they attend to each other).
    while (reuse > 0 && tokens[reuse] == image_id && tokens[reuse - 1] == image_id) --reuse;
    std::shared_ptr<const KvState> kv;
    if (reuse > 0) {
        if (size_t(match.kv->length) == reuse) {
            kv = match.kv;
        } else {
            auto cut = std::make_shared<KvState>();
            cut->length = int(reuse);
            for (const auto& t : match.kv->tensors) {
                cut->tensors.push_back(kv_prefix(t, int64_t(reuse)));
                cut->bytes += tensor_bytes(cut->tensors.back());
            }
            kv = cut;
        }
    }
    // Image runs: run r belongs to image `owner[r]`, sub-image `sub[r]` (0 = the image, then its crops).
    std::vector<int> owner, sub;
    for (size_t i = 0; i < p.images.size(); ++i) {
        const int count = p.images[i].features ? 1 + p.images[i].features->crops : p.images[i].pixels.images;
        for (int c = 0; c < count; ++c) owner.push_back(int(i)), sub.push_back(c);
    }
    std::vector<int> run_of(n, -1);
    int runs = 0;
    for (size_t i = 0; i < n; ++i)
        if (tokens[i] == image_id) run_of[i] = (i > 0 && tokens[i - 1] == image_id) ? run_of[i - 1] : runs++;
    if (runs != int(owner.size())) {
        *error = "the prompt has " + std::to_string(runs) + " image token runs for " + std::to_string(owner.size()) +
                 " images (does the text contain the image token?)";
        return false;
    }
    const int mm = m.package.facts.mm_tokens_per_image, H = m.package.facts.hidden_size;
    // Encode the images whose tokens are to be run (the cached part needs none).
    for (size_t i = reuse; i < n; ++i) {
        if (run_of[i] < 0) continue;
        PromptImage& img = p.images[size_t(owner[size_t(run_of[i])])];
        if (img.features) continue;
        auto f = std::make_shared<ImageFeatures>();
        f->crops = img.pixels.images - 1;
        f->features = m.net->encode_images(img.pixels.data, img.pixels.images, img.pixels.height, img.pixels.width);
        ++stats_.image_encodes;
        img.features = f;
        image_cache_.put(img.key, f);
    }
    const std::vector<int> pending(tokens.begin() + std::ptrdiff_t(reuse), tokens.end());
    DecodeInput in;
    in.batch = 1;
    in.new_tokens = int(pending.size());
    in.embeds = m.net->embed(pending);
    in.token_types.assign(pending.size(), 0);
    in.positions.resize(pending.size());
    for (size_t k = 0; k < pending.size(); ++k) {
        const size_t i = reuse + k;
        in.positions[k] = int64_t(i);
        if (run_of[i] < 0) continue;
        const int r = run_of[i];
        size_t row = 0;  // index of this token inside its run
        for (size_t j = i; j > 0 && tokens[j - 1] == image_id; --j) ++row;
        if (row >= size_t(mm)) {
            *error = "an image token run is longer than mm_tokens_per_image";
            return false;
        }
        const ImageFeatures& f = *p.images[size_t(owner[size_t(r)])].features;
        const float* src = f.features.data() + (size_t(sub[size_t(r)]) * mm + row) * size_t(H);
        std::copy(src, src + H, in.embeds.begin() + std::ptrdiff_t(k * size_t(H)));
        in.token_types[k] = 1;
    }
    in.past = kv.get();
    in.keep_rows = 1;
    DecodeOutput out = m.net->decode(in);
    ++stats_.decoder_runs;
    stats_.prefilled_tokens += pending.size();
    stats_.cached_tokens += reuse;
    *last_row = std::move(out.logits);
    *kv_out = std::move(out.present);
    *cached = int(reuse);
    update_cache_bytes();
    return true;
}

// ---- chat -----------------------------------------------------------------------

SequenceStart Gemma3Engine::start(const ChatRequest& request) {
    SequenceStart res;
    Model* m = find_model(request.model, &res.message);
    if (!m) {
        res.error = EngineError::UnknownModel;
        return res;
    }
    Prompt p;
    if (!build_prompt(*m, request.messages, &p)) {
        res.error = p.error;
        res.message = p.message;
        return res;
    }
    es::GenerationConfig g;
    const int room = m->context - int(p.tokens.size());
    g.max_new_tokens = std::max(0, std::min(request.max_tokens, room));
    if (request.schema) {
        if (!m->vocab) {
            m->vocab = es::TokenVocabulary::from_tokenizer(m->tokenizer);
            m->text_masks = TextTokenMasks::build(*m->vocab);
        }
        std::string err;
        std::unique_ptr<es::JsonConstraint> json = es::JsonConstraint::create(request.schema, m->vocab, &err);
        if (!json) {
            res.error = EngineError::BadRequest;
            res.message = "The answer's schema cannot be used with this model: " + err;
            return res;
        }
        const int need = json->min_tokens() + 1;  // the shortest value and the end of the answer
        if (!request.schema_optional && need > g.max_new_tokens) {
            res.error = EngineError::BadRequest;
            res.message = "The shortest answer the schema allows takes " + std::to_string(need) +
                          " tokens, but only " + std::to_string(g.max_new_tokens) +
                          (g.max_new_tokens < request.max_tokens ? " fit in the model's context after this prompt."
                                                                 : " are allowed (max_tokens). Raise max_tokens.");
            return res;
        }
        if (request.schema_optional)
            g.constraint = std::make_shared<TextOrJsonConstraint>(std::move(json), m->text_masks);
        else
            g.constraint = std::move(json);
    }
    auto s = std::make_unique<Sequence>();
    int cached = 0;
    try {
        std::string err;
        if (!prefill(*m, p, &s->logits, &s->kv, &cached, &err)) {
            res.error = EngineError::Internal;
            res.message = "The model could not read this prompt: " + err;
            return res;
        }
    } catch (const std::exception& e) {
        res.error = EngineError::Internal;
        res.message = std::string("The model failed while reading the prompt: ") + e.what();
        return res;
    }
    s->id = next_sequence_++;
    s->model = m;
    s->tokens = p.tokens;
    for (const PromptImage& img : p.images) s->image_keys.push_back(img.key);
    g.stop_ids = m->package.facts.eos_token_ids;
    g.sampler.temperature = std::max(0.0f, request.temperature);
    g.sampler.top_p = request.top_p > 0 && request.top_p < 1 ? request.top_p : 1.0f;
    g.sampler.top_k = std::max(0, request.top_k);
    g.sampler.seed = request.seed ? *request.seed : (uint64_t(std::random_device{}()) << 32 | std::random_device{}());
    s->generator.start(g, p.tokens);
    s->stream = std::make_unique<es::TextStream>(m->tokenizer);
    s->stop = EngineStopFilter(request.stop);
    s->logprobs = request.logprobs;
    s->top_logprobs = std::clamp(request.top_logprobs, 0, 20);
    res.sequence = s->id;
    res.prompt_tokens = int(p.tokens.size());
    res.cached_prompt_tokens = cached;
    sequences_[s->id] = std::move(s);
    return res;
}

void Gemma3Engine::run_single(Sequence& s) {
    Model& m = *s.model;
    DecodeInput in;
    in.batch = 1;
    in.new_tokens = 1;
    in.embeds = m.net->embed({s.tokens.back()});
    in.positions = {int64_t(s.kv->length)};
    in.past = s.kv.get();
    in.keep_rows = 1;
    DecodeOutput out = m.net->decode(in);
    ++stats_.decoder_runs;
    s.logits = std::move(out.logits);
    s.kv = std::move(out.present);
    s.need_feed = false;
}

void Gemma3Engine::run_batch(const std::vector<Sequence*>& group) {
    Model& m = *group.front()->model;
    const int B = int(group.size());
    int P = 0;
    for (Sequence* s : group) P = std::max(P, s->kv->length);
    std::vector<int> ids;
    DecodeInput in;
    in.batch = B;
    in.new_tokens = 1;
    in.attention_mask.assign(size_t(B) * size_t(P + 1), 0);
    for (int b = 0; b < B; ++b) {
        const Sequence& s = *group[size_t(b)];
        ids.push_back(s.tokens.back());
        in.positions.push_back(s.kv->length);
        for (int k = P - s.kv->length; k <= P; ++k) in.attention_mask[size_t(b) * size_t(P + 1) + size_t(k)] = 1;
    }
    // embed_tokens takes [1, S]: the B new tokens in one run, one row each.
    in.embeds = m.net->embed(ids);
    KvState past;
    past.batch = B;
    past.length = P;
    const size_t layers = group.front()->kv->tensors.size();
    for (size_t t = 0; t < layers; ++t) {
        std::vector<const Ort::Value*> rows;
        for (Sequence* s : group) rows.push_back(&s->kv->tensors[t]);
        past.tensors.push_back(kv_stack_left_padded(rows));
    }
    in.past = &past;
    in.keep_rows = 1;
    DecodeOutput out = m.net->decode(in);
    ++stats_.decoder_runs;
    ++stats_.batched_runs;
    const size_t V = size_t(m.package.facts.vocab_size);
    for (int b = 0; b < B; ++b) {
        Sequence& s = *group[size_t(b)];
        const int len = s.kv->length + 1;
        auto kv = std::make_shared<KvState>();
        kv->length = len;
        for (const auto& t : out.present->tensors) {
            kv->tensors.push_back(kv_row(t, b, 0, len));
            kv->bytes += tensor_bytes(kv->tensors.back());
        }
        s.logits.assign(out.logits.begin() + std::ptrdiff_t(size_t(b) * V), out.logits.begin() + std::ptrdiff_t(size_t(b + 1) * V));
        s.kv = std::move(kv);
        s.need_feed = false;
    }
}

TokenOut Gemma3Engine::emit(Sequence& s) {
    TokenOut out;
    out.sequence = s.id;
    Model& m = *s.model;
    const int V = m.package.facts.vocab_size;
    es::StepResult r = s.generator.on_logits(s.logits.data(), V);
    out.token = r.token;
    if (r.token >= 0) {
        ++stats_.generated_tokens;
        s.tokens.push_back(r.token);
        s.answer.push_back(r.token);
        if (s.logprobs) {
            const std::vector<double> lp = es::log_softmax(s.logits.data(), V);
            out.logprob = lp[size_t(r.token)];
            if (s.top_logprobs > 0) {
                std::vector<int> idx(static_cast<size_t>(V));
                std::iota(idx.begin(), idx.end(), 0);
                const size_t k = std::min(size_t(s.top_logprobs), idx.size());
                std::partial_sort(idx.begin(), idx.begin() + std::ptrdiff_t(k), idx.end(), [&](int a, int b) {
                    return lp[size_t(a)] > lp[size_t(b)] || (lp[size_t(a)] == lp[size_t(b)] && a < b);
                });
                for (size_t i = 0; i < k; ++i) out.top.push_back({m.tokenizer.decode({idx[i]}), lp[size_t(idx[i])]});
            }
        }
        const auto& stops = m.package.facts.eos_token_ids;
        if (std::find(stops.begin(), stops.end(), r.token) == stops.end()) out.text = s.stop.push(s.stream->push(r.token));
    }
    if (s.stop.stopped()) {
        s.finished = true;
        s.stopped_by_string = true;
        s.finish_reason = "stop";
    } else if (r.finished) {
        s.finished = true;
        s.finish_reason = r.reason == es::FinishReason::StopToken ? "stop"
                          : r.reason == es::FinishReason::MaxTokens ? "length"
                          : r.reason == es::FinishReason::Error     ? "error"
                                                                     : "stop";
        if (r.reason == es::FinishReason::Error)
            out.error = s.generator.error().empty() ? "The model could not go on writing the answer." : s.generator.error();
        out.text += s.stop.flush();
    } else {
        s.need_feed = true;
    }
    out.finished = s.finished;
    out.finish_reason = s.finish_reason;
    return out;
}

std::vector<TokenOut> Gemma3Engine::step(const std::vector<uint64_t>& ids) {
    std::vector<TokenOut> outs(ids.size());
    std::vector<Sequence*> seqs(ids.size(), nullptr);
    for (size_t i = 0; i < ids.size(); ++i) {
        auto it = sequences_.find(ids[i]);
        outs[i].sequence = ids[i];
        if (it == sequences_.end() || it->second->finished) {
            outs[i].finished = true;
            outs[i].finish_reason = it == sequences_.end() ? "error" : it->second->finish_reason;
            continue;
        }
        seqs[i] = it->second.get();
    }
    // Decoder runs first: sequences of one model together when batching is on.
    std::vector<Sequence*> waiting;
    for (Sequence* s : seqs)
        if (s && s->need_feed && std::find(waiting.begin(), waiting.end(), s) == waiting.end()) waiting.push_back(s);
    std::vector<Sequence*> failed;
    auto run_one = [&](Sequence* s) {
        try {
            run_single(*s);
        } catch (const std::exception&) {
            failed.push_back(s);
        }
    };
    if (options_.batched_decode) {
        // Groups of one model, shortest caches first; a group closes when it is
        // full or when left padding would more than double the cache it runs
        // over (a long conversation is not made to carry short ones, nor the reverse).
        std::stable_sort(waiting.begin(), waiting.end(), [](const Sequence* a, const Sequence* b) {
            return a->model != b->model ? a->model < b->model : a->kv->length < b->kv->length;
        });
        while (!waiting.empty()) {
            Model* model = waiting.front()->model;
            std::vector<Sequence*> group, rest;
            size_t real = 0;
            for (Sequence* s : waiting) {
                const size_t len = size_t(s->kv->length) + 1;
                const bool fits = s->model == model && int(group.size()) < max_batch() && rest.empty() &&
                                  len * (group.size() + 1) <= 2 * (real + len);
                if (fits) {
                    group.push_back(s);
                    real += len;
                } else {
                    rest.push_back(s);
                }
            }
            waiting = rest;
            if (group.size() == 1) {
                run_one(group.front());
                continue;
            }
            try {
                run_batch(group);
            } catch (const std::exception&) {
                for (Sequence* s : group) run_one(s);  // the batch failed: each on its own
            }
        }
    } else {
        for (Sequence* s : waiting) run_one(s);
    }
    for (size_t i = 0; i < ids.size(); ++i) {
        Sequence* s = seqs[i];
        if (!s) continue;
        if (std::find(failed.begin(), failed.end(), s) != failed.end()) {
            s->finished = true;
            s->finish_reason = "error";
            outs[i].finished = true;
            outs[i].finish_reason = "error";
            outs[i].text = s->stop.flush();
            continue;
        }
        if (s->finished) {  // listed twice
            outs[i].finished = true;
            outs[i].finish_reason = s->finish_reason;
            continue;
        }
        outs[i] = emit(*s);
    }
    update_cache_bytes();
    return outs;
}

void Gemma3Engine::finish(uint64_t id) {
    auto it = sequences_.find(id);
    if (it == sequences_.end()) return;
    Sequence& s = *it->second;
    Model& m = *s.model;
    if (s.kv && s.kv->length > 0 && s.finish_reason != "error")
        kv_cache_.put(m.info.id,
                      kv_cache_key(s.tokens, size_t(s.kv->length), m.package.facts.image_token_id, s.image_keys), s.kv);
    // Remember the ids of a complete answer by the text the client got.
    if (s.finished && !s.stopped_by_string && !s.answer.empty()) {
        const std::string key = m.info.id + std::string(1, '\0') + s.stop.shown();
        answers_.remove_if([&](const auto& e) { return e.first == key; });
        answers_.emplace_front(key, s.answer);
        if (answers_.size() > kRememberedAnswers) answers_.pop_back();
    }
    sequences_.erase(it);
    update_cache_bytes();
}

// ---- label scoring ----------------------------------------------------------------

LabelScoreResult Gemma3Engine::score_labels(const LabelScoreRequest& request) {
    LabelScoreResult res;
    Model* m = find_model(request.model, &res.message);
    if (!m) {
        res.error = EngineError::UnknownModel;
        return res;
    }
    Prompt p;
    if (!build_prompt(*m, request.messages, &p)) {
        res.error = p.error;
        res.message = p.message;
        return res;
    }
    es::LabelScorer scorer;
    std::string err;
    // <end_of_turn> on Gemma-3, as the app scores (web/assistant/runtime.js classify).
    const int end_id = request.end_of_answer ? m->package.facts.eos_token_ids.back() : -1;
    if (!scorer.begin(m->tokenizer, request.labels, end_id, &err)) {
        res.error = EngineError::BadRequest;
        res.message = "The labels cannot be scored: " + err;
        return res;
    }
    try {
        std::vector<float> row;
        std::shared_ptr<const KvState> kv;
        int cached = 0;
        if (!prefill(*m, p, &row, &kv, &cached, &err)) {
            res.error = EngineError::Internal;
            res.message = "The model could not read this prompt: " + err;
            return res;
        }
        const int V = m->package.facts.vocab_size;
        scorer.set_prefix_logits(row.data(), V);
        const int P = kv->length;
        const size_t n = scorer.size();
        const bool packed = m->net->has_token_types();
        const size_t max_rows = packed ? std::max<size_t>(1, options_.label_logits_budget / (4 * size_t(V))) : 1;
        for (size_t i = 0; i < n;) {
            std::vector<size_t> group;
            size_t rows = 0;
            for (; i < n && (group.empty() || rows + scorer.run_tokens(i).size() <= max_rows); ++i) {
                const size_t r = scorer.run_tokens(i).size();
                if (r) group.push_back(i), rows += r;
            }
            if (group.empty()) continue;
            std::vector<int> ids;
            DecodeInput in;
            for (size_t g = 0; g < group.size(); ++g) {
                const std::vector<int> run = scorer.run_tokens(group[g]);
                for (size_t k = 0; k < run.size(); ++k) {
                    ids.push_back(run[k]);
                    in.positions.push_back(P + int64_t(k));
                    in.token_types.push_back(packed ? int64_t(2 + g) : 0);
                }
            }
            in.batch = 1;
            in.new_tokens = int(ids.size());
            in.embeds = m->net->embed(ids);
            in.past = kv.get();
            in.keep_rows = int(ids.size());
            in.want_present = false;
            DecodeOutput out = m->net->decode(in);
            ++stats_.decoder_runs;
            size_t at = 0;
            for (size_t j : group) {
                const size_t r = scorer.run_tokens(j).size();
                if (!scorer.add_label_logits(j, out.logits.data() + at * size_t(V), int(r), V, &err))
                    throw std::runtime_error(err);
                at += r;
            }
        }
        // The prompt's cache serves a follow-up (e.g. a chat about the same image).
        std::vector<std::string> image_keys;
        for (const PromptImage& img : p.images) image_keys.push_back(img.key);
        kv_cache_.put(m->info.id,
                      kv_cache_key(p.tokens, size_t(kv->length), m->package.facts.image_token_id, image_keys), kv);
        update_cache_bytes();
    } catch (const std::exception& e) {
        res.error = EngineError::Internal;
        res.message = std::string("The model failed while scoring the labels: ") + e.what();
        return res;
    }
    res.probabilities = scorer.probabilities();
    res.log_likelihoods = scorer.log_likelihoods();
    res.prompt_tokens = int(p.tokens.size());
    return res;
}

}  // namespace es::server
