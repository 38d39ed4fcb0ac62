#include "tokenizer.h"

#include <algorithm>

#include <sentencepiece_processor.h>

namespace es {

struct Tokenizer::Impl {
    sentencepiece::SentencePieceProcessor sp;
    bool ok = false;
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
    impl_->ok = impl_->sp.GetPieceSize() > 0;
    if (!impl_->ok && error) *error = "tokenizer.model has no pieces";
    return impl_->ok;
}

bool Tokenizer::loaded() const { return impl_ && impl_->ok; }

std::vector<int> Tokenizer::encode(const std::string& text) const {
    std::vector<int> ids;
    if (loaded()) impl_->sp.Encode(text, &ids);
    return ids;
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
    std::string out;
    if (!loaded()) return out;
    const int n = vocab_size();
    std::vector<int> valid;
    valid.reserve(ids.size());
    for (int id : ids)
        if (id >= 0 && id < n) valid.push_back(id);
    impl_->sp.Decode(valid, &out);
    return out;
}

std::string Tokenizer::piece(int id) const {
    if (!loaded() || id < 0 || id >= vocab_size()) return {};
    return impl_->sp.IdToPiece(id);
}

int Tokenizer::piece_to_id(const std::string& piece) const {
    if (!loaded()) return -1;
    const int id = impl_->sp.PieceToId(piece);
    if (id == impl_->sp.unk_id() && piece != impl_->sp.IdToPiece(id)) return -1;
    return id;
}

int Tokenizer::vocab_size() const { return loaded() ? impl_->sp.GetPieceSize() : 0; }
int Tokenizer::bos_id() const { return loaded() ? impl_->sp.bos_id() : -1; }
int Tokenizer::eos_id() const { return loaded() ? impl_->sp.eos_id() : -1; }
int Tokenizer::pad_id() const { return loaded() ? impl_->sp.pad_id() : -1; }
int Tokenizer::unk_id() const { return loaded() ? impl_->sp.unk_id() : -1; }
bool Tokenizer::is_control(int id) const {
    return loaded() && id >= 0 && id < vocab_size() && impl_->sp.IsControl(id);
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
