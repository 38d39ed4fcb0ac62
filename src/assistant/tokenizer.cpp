#include "assistant/tokenizer.h"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include <sentencepiece_processor.h>

namespace es {
namespace {
// A user-defined piece: SentencePiece matches it wherever it appears in text.
// `type_at` is where the piece's type byte sits in the serialized model.
struct UserPiece {
    std::string text;
    int id;
    size_t type_at;
};
}  // namespace

struct Tokenizer::Impl {
    sentencepiece::SentencePieceProcessor sp;
    bool ok = false;
    int sp_size = 0;
    // Special strings matched in text before SentencePiece sees it, longest first.
    std::vector<std::pair<std::string, int>> specials;
    std::map<int, std::string> added;  // ids beyond the SentencePiece vocabulary
    std::vector<UserPiece> user_defined;
    std::set<std::string> ordinary;  // user-defined pieces tokenizer_config.json marks "special": false
    std::set<std::string> marked_special;  // ... and those it marks "special": true
    // A user-defined piece typed text must not produce: marked special, or,
    // when the config says nothing, named like a control token ("<...>").
    // Unmarked whitespace runs and the like stay ordinary text.
    bool guarded_user_piece(const std::string& t) const {
        if (ordinary.count(t)) return false;
        if (marked_special.count(t)) return true;
        return t.size() >= 3 && t.front() == '<' && t.back() == '>';
    }
    std::vector<std::string> guarded;  // strings typed text must not turn into special ids, longest first
    std::vector<std::string> guarded_by_first[256];  // the same, by first byte
    std::string model_bytes;
    // The model with the guarded user-defined pieces made control pieces, so
    // SentencePiece spells them out; built the first time typed text needs it.
    mutable std::unique_ptr<sentencepiece::SentencePieceProcessor> text_sp;
    bool defer_sort = false;  // while reading tokenizer_config.json: sort once at the end
    void sort_specials() {
        if (defer_sort) return;
        std::stable_sort(specials.begin(), specials.end(),
                         [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
        guarded.clear();
        for (const auto& s : specials) guarded.push_back(s.first);
        for (const auto& u : user_defined)
            if (guarded_user_piece(u.text)) guarded.push_back(u.text);
        std::sort(guarded.begin(), guarded.end());
        guarded.erase(std::unique(guarded.begin(), guarded.end()), guarded.end());
        std::stable_sort(guarded.begin(), guarded.end(),
                         [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
        for (auto& v : guarded_by_first) v.clear();
        for (const auto& g : guarded) guarded_by_first[uint8_t(g[0])].push_back(g);
        text_sp.reset();
    }
};

namespace {

bool read_varint(const std::string& b, size_t* p, size_t end, uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        const uint8_t c = uint8_t(b[(*p)++]);
        *v |= uint64_t(c & 0x7f) << shift;
        if (!(c & 0x80)) return true;
    }
    return false;
}

bool skip_field(const std::string& b, size_t* p, size_t end, int wire_type) {
    uint64_t v;
    switch (wire_type) {
        case 0: return read_varint(b, p, end, &v);
        case 1: *p += 8; return *p <= end;
        case 2: if (!read_varint(b, p, end, &v) || v > end - *p) return false; *p += size_t(v); return true;
        case 5: *p += 4; return *p <= end;
        default: return false;
    }
}

// The user-defined pieces of a serialized ModelProto (field 1, repeated
// SentencePiece {1: piece, 3: type}; type 4 = USER_DEFINED), read from the
// protobuf wire format directly (the core carries no protobuf schema).
std::vector<UserPiece> user_defined_pieces(const std::string& b) {
    std::vector<UserPiece> out;
    size_t p = 0;
    int index = 0;
    while (p < b.size()) {
        uint64_t tag;
        if (!read_varint(b, &p, b.size(), &tag)) break;
        const int field = int(tag >> 3), wt = int(tag & 7);
        if (field != 1 || wt != 2) {
            if (!skip_field(b, &p, b.size(), wt)) break;
            continue;
        }
        uint64_t len;
        if (!read_varint(b, &p, b.size(), &len) || len > b.size() - p) break;
        const size_t end = p + size_t(len);
        std::string text;
        uint64_t type = 1;
        size_t type_at = 0;
        while (p < end) {
            uint64_t t;
            if (!read_varint(b, &p, end, &t)) break;
            const int f = int(t >> 3), w = int(t & 7);
            if (f == 1 && w == 2) {
                uint64_t n;
                if (!read_varint(b, &p, end, &n) || n > end - p) break;
                text.assign(b, p, size_t(n));
                p += size_t(n);
            } else if (f == 3 && w == 0) {
                type_at = p;
                if (!read_varint(b, &p, end, &type)) break;
            } else if (!skip_field(b, &p, end, w)) {
                break;
            }
        }
        p = end;
        if (type == 4 && !text.empty() && p - type_at >= 1) out.push_back({text, index, type_at});
        ++index;
    }
    return out;
}

}  // namespace

Tokenizer::Tokenizer() : impl_(new Impl) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

bool Tokenizer::load(const uint8_t* data, size_t size, std::string* error) {
    impl_.reset(new Impl);
    if (!data || size == 0) {
        if (error) *error = "tokenizer.model is empty";
        return false;
    }
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    const auto status = impl_->sp.LoadFromSerializedProto(bytes);
    if (!status.ok()) {
        if (error) *error = "tokenizer.model is not a SentencePiece model: " + status.ToString();
        impl_.reset(new Impl);
        return false;
    }
    impl_->sp_size = impl_->sp.GetPieceSize();
    impl_->model_bytes = bytes;
    for (auto& u : user_defined_pieces(bytes))
        if (u.id < impl_->sp_size && impl_->sp.IdToPiece(u.id) == u.text) impl_->user_defined.push_back(u);
    impl_->ok = impl_->sp_size > 0;
    if (!impl_->ok && error) *error = "tokenizer.model has no pieces";
    // Control pieces (<bos>, <eos>, <pad>) are never matched in text by
    // SentencePiece; HF tokenizers do match them, and chat templates emit them.
    for (int id = 0; id < impl_->sp_size; ++id)
        if (impl_->sp.IsControl(id)) {
            const std::string p = impl_->sp.IdToPiece(id);
            if (!p.empty()) impl_->specials.emplace_back(p, id);
        }
    impl_->sort_specials();
    return impl_->ok;
}

bool Tokenizer::loaded() const { return impl_ && impl_->ok; }

std::vector<int> Tokenizer::encode(const std::string& text) const {
    std::vector<int> ids;
    if (loaded()) impl_->sp.Encode(text, &ids);
    return ids;
}

std::vector<std::pair<size_t, size_t>> Tokenizer::special_spans(const std::string& text) const {
    std::vector<std::pair<size_t, size_t>> spans;
    if (!loaded()) return spans;
    for (size_t pos = 0; pos < text.size();) {
        bool matched = false;
        for (const auto& g : impl_->guarded_by_first[uint8_t(text[pos])])
            if (text.compare(pos, g.size(), g) == 0) {
                spans.emplace_back(pos, pos + g.size());
                pos += g.size();
                matched = true;
                break;
            }
        if (!matched) ++pos;
    }
    return spans;
}

std::vector<int> Tokenizer::encode_as_text(const std::string& text) const {
    std::vector<int> ids;
    if (!loaded()) return ids;
    bool needs_guard = false;
    for (const auto& u : impl_->user_defined)
        if (impl_->guarded_user_piece(u.text) && text.find(u.text) != std::string::npos) {
            needs_guard = true;
            break;
        }
    // Control pieces and added tokens are never matched by SentencePiece itself.
    if (!needs_guard) {
        impl_->sp.Encode(text, &ids);
        return ids;
    }
    if (!impl_->text_sp) {
        std::string patched = impl_->model_bytes;
        for (const auto& u : impl_->user_defined)
            if (impl_->guarded_user_piece(u.text)) patched[u.type_at] = 3;  // USER_DEFINED -> CONTROL
        auto sp = std::make_unique<sentencepiece::SentencePieceProcessor>();
        if (!sp->LoadFromSerializedProto(patched).ok()) return ids;  // cannot happen for a model that loaded
        impl_->text_sp = std::move(sp);
    }
    impl_->text_sp->Encode(text, &ids);
    return ids;
}

std::vector<int> Tokenizer::encode_with_special_tokens(const std::string& text) const {
    std::vector<int> ids;
    if (!loaded()) return ids;
    size_t pos = 0, plain = 0;
    auto flush = [&](size_t end) {
        if (end > plain) {
            std::vector<int> part;
            impl_->sp.Encode(text.substr(plain, end - plain), &part);
            ids.insert(ids.end(), part.begin(), part.end());
        }
    };
    while (pos < text.size()) {
        bool matched = false;
        {
            for (const auto& [str, id] : impl_->specials) {
                if (text.compare(pos, str.size(), str) == 0) {
                    flush(pos);
                    ids.push_back(id);
                    pos += str.size();
                    plain = pos;
                    matched = true;
                    break;
                }
            }
        }
        if (!matched) ++pos;
    }
    flush(text.size());
    return ids;
}

void Tokenizer::add_special_token(const std::string& text, int id) {
    if (!loaded() || text.empty() || id < 0) return;
    for (auto& s : impl_->specials)
        if (s.first == text) return;
    if (id < impl_->sp_size) {
        // Already a piece: only control pieces need the text match (user-defined
        // ones are matched by SentencePiece itself).
        if (!impl_->sp.IsControl(id)) return;
    } else {
        impl_->added[id] = text;
    }
    impl_->specials.emplace_back(text, id);
    impl_->sort_specials();
}

bool Tokenizer::add_tokens_from_config(const std::string& tokenizer_config_json, std::string* error) {
    auto j = nlohmann::json::parse(tokenizer_config_json, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        if (error) *error = "tokenizer_config.json is not a JSON object";
        return false;
    }
    if (!j.contains("added_tokens_decoder")) return true;
    const auto& a = j["added_tokens_decoder"];
    if (!a.is_object()) {
        if (error) *error = "tokenizer_config.json: added_tokens_decoder is not an object";
        return false;
    }
    impl_->defer_sort = true;
    struct SortAtEnd {
        Impl* impl;
        ~SortAtEnd() { impl->defer_sort = false; impl->sort_specials(); }
    } sort_at_end{impl_.get()};
    for (auto it = a.begin(); it != a.end(); ++it) {
        int id;
        try {
            id = std::stoi(it.key());
        } catch (...) {
            if (error) *error = "tokenizer_config.json: added token id '" + it.key() + "' is not a number";
            return false;
        }
        if (!it.value().is_object() || !it.value().contains("content") || !it.value()["content"].is_string()) {
            if (error) *error = "tokenizer_config.json: added token " + it.key() + " has no content";
            return false;
        }
        const std::string content = it.value()["content"].get<std::string>();
        const auto special = it.value().find("special");
        if (special != it.value().end() && special->is_boolean() && !special->get<bool>()) {
            // Not special (Gemma's HTML tags, whitespace runs): ordinary text
            // that SentencePiece keeps as one piece, as transformers does.
            impl_->ordinary.insert(content);
            if (id >= impl_->sp_size) add_special_token(content, id);
            continue;
        }
        impl_->marked_special.insert(content);
        add_special_token(content, id);
    }
    return true;
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
    std::string out;
    if (!loaded()) return out;
    std::vector<int> run;
    auto flush = [&]() {
        if (run.empty()) return;
        std::string part;
        impl_->sp.Decode(run, &part);
        out += part;
        run.clear();
    };
    for (int id : ids) {
        if (id >= 0 && id < impl_->sp_size) {
            run.push_back(id);
        } else {
            auto it = impl_->added.find(id);
            if (it != impl_->added.end()) {
                flush();
                out += it->second;
            }
        }
    }
    flush();
    return out;
}

std::string Tokenizer::piece(int id) const {
    if (!loaded() || id < 0) return {};
    if (id < impl_->sp_size) return impl_->sp.IdToPiece(id);
    auto it = impl_->added.find(id);
    return it == impl_->added.end() ? std::string() : it->second;
}

int Tokenizer::piece_to_id(const std::string& piece) const {
    if (!loaded()) return -1;
    for (const auto& [id, text] : impl_->added)
        if (text == piece) return id;
    const int id = impl_->sp.PieceToId(piece);
    if (id == impl_->sp.unk_id() && piece != impl_->sp.IdToPiece(id)) return -1;
    return id;
}

int Tokenizer::vocab_size() const {
    if (!loaded()) return 0;
    return impl_->added.empty() ? impl_->sp_size : std::max(impl_->sp_size, impl_->added.rbegin()->first + 1);
}
int Tokenizer::bos_id() const { return loaded() ? impl_->sp.bos_id() : -1; }
int Tokenizer::eos_id() const { return loaded() ? impl_->sp.eos_id() : -1; }
int Tokenizer::pad_id() const { return loaded() ? impl_->sp.pad_id() : -1; }
int Tokenizer::unk_id() const { return loaded() ? impl_->sp.unk_id() : -1; }
bool Tokenizer::is_control(int id) const {
    return loaded() && id >= 0 && id < impl_->sp_size && impl_->sp.IsControl(id);
}

std::string TextStream::push(int id) {
    ids_.push_back(id);
    const std::string full = tok_.decode(ids_);
    // Hold back an incomplete UTF-8 tail and U+FFFD from a byte piece that is
    // waiting for its continuation bytes.
    size_t end = full.size();
    size_t i = end;
    while (i > 0 && (static_cast<unsigned char>(full[i - 1]) & 0xC0) == 0x80) --i;
    if (i > 0) {
        const unsigned char lead = static_cast<unsigned char>(full[i - 1]);
        const size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        if (end - (i - 1) < need) end = i - 1;
    }
    // A trailing run of byte pieces (<0xE2><0x86>...) that is not yet a whole
    // character decodes to U+FFFD: hold the run back until it completes.
    static const std::string kReplacement = "\xEF\xBF\xBD";
    if (end >= 3 && full.compare(end - 3, 3, kReplacement) == 0) {
        size_t k = 0;
        while (k < ids_.size()) {
            const std::string p = tok_.piece(ids_[ids_.size() - 1 - k]);
            if (!(p.size() == 6 && p.rfind("<0x", 0) == 0)) break;
            ++k;
        }
        if (k > 0) {
            const std::vector<int> head(ids_.begin(), ids_.end() - k);
            const std::string safe = tok_.decode(head);
            if (full.compare(0, safe.size(), safe) == 0) end = std::min(end, safe.size());
        }
    }
    if (end <= emitted_.size() || full.compare(0, emitted_.size(), emitted_) != 0) return {};
    std::string delta = full.substr(emitted_.size(), end - emitted_.size());
    emitted_ = full.substr(0, end);
    return delta;
}

}  // namespace es
