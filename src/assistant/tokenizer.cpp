#include "assistant/tokenizer.h"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include <sentencepiece_processor.h>

namespace es {

struct Tokenizer::Impl {
    sentencepiece::SentencePieceProcessor sp;
    bool ok = false;
    int sp_size = 0;
    // Special strings matched in text before SentencePiece sees it, longest first.
    std::vector<std::pair<std::string, int>> specials;
    std::map<int, std::string> added;  // ids beyond the SentencePiece vocabulary
    void sort_specials() {
        std::stable_sort(specials.begin(), specials.end(),
                         [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
    }
};

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
        add_special_token(it.value()["content"].get<std::string>(), id);
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
