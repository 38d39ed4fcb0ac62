// gemma3_package.cpp: see gemma3_package.h.
#include "inference/gemma3_package.h"

#include <openssl/evp.h>

#include <algorithm>
#include <fstream>
#include <memory>

#include "variant_rule_data.h"  // generated from web/assistant/variant_rule.json

namespace es::server {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const char* kVariants[] = {"fp32", "fp16", "q4", "q4f16"};

std::string suffix_of(const std::string& variant) {
    return variant == "fp32" ? "" : "_" + variant;
}

std::string hex(const unsigned char* d, unsigned n) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (unsigned i = 0; i < n; ++i) {
        s += digits[d[i] >> 4];
        s += digits[d[i] & 15];
    }
    return s;
}

// SHA-256 of a file, streamed; "" when it cannot be read.
std::string sha256_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), std::streamsize(buf.size()));
        if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), size_t(in.gcount()));
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    return hex(md, len);
}

bool read_bytes(const fs::path& path, std::vector<uint8_t>* out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return true;
}

std::string token_text(const json& v, const std::string& fallback) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
    return fallback;
}

int int_or(const json& j, const char* key, int fallback) {
    if (j.is_object() && j.contains(key) && j[key].is_number_integer()) return j[key].get<int>();
    return fallback;
}

std::string template_from(const json& t) {
    if (t.is_string()) return t.get<std::string>();
    if (t.is_array())
        for (const auto& x : t)
            if (x.is_object() && x.value("name", "") == "default" && x.contains("template") && x["template"].is_string())
                return x["template"].get<std::string>();
    return {};
}

class Reader {
public:
    explicit Reader(Gemma3Package& p) : p_(p) {}
    std::string error;

    const json* entry(const std::string& rel) const {
        if (!p_.has_manifest || !p_.manifest.contains("files") || !p_.manifest["files"].is_array()) return nullptr;
        for (const auto& f : p_.manifest["files"])
            if (f.is_object() && f.value("path", "") == rel) return &f;
        return nullptr;
    }

    // Checks one file: present, and when there is a manifest, listed with the
    // same size and sha256. Sets error and returns false otherwise.
    bool check(const std::string& rel) {
        const fs::path path = p_.dir / rel;
        std::error_code ec;
        if (!fs::is_regular_file(path, ec)) {
            error = path.string() + ": missing from the model package (copy the whole package folder again)";
            return false;
        }
        if (!p_.has_manifest) return true;
        const json* e = entry(rel);
        if (!e) {
            error = path.string() + ": not listed in manifest.json (the package was changed after it was built)";
            return false;
        }
        const auto size = fs::file_size(path, ec);
        if (e->contains("size") && (*e)["size"].is_number_unsigned() && size != (*e)["size"].get<uint64_t>()) {
            error = path.string() + ": " + std::to_string(size) + " bytes, manifest.json says " +
                    std::to_string((*e)["size"].get<uint64_t>()) +
                    " (truncated or corrupt copy: copy the package again)";
            return false;
        }
        if (e->contains("sha256") && (*e)["sha256"].is_string() && sha256_file(path) != (*e)["sha256"].get<std::string>()) {
            error = path.string() + ": contents do not match manifest.json's sha256 (corrupt copy: copy the package again)";
            return false;
        }
        return true;
    }

    bool bytes(const std::string& rel, std::vector<uint8_t>* out) {
        if (!check(rel)) return false;
        if (!read_bytes(p_.dir / rel, out)) {
            error = (p_.dir / rel).string() + ": cannot be read (check its permissions)";
            return false;
        }
        return true;
    }
    bool text(const std::string& rel, std::string* out) {
        std::vector<uint8_t> b;
        if (!bytes(rel, &b)) return false;
        out->assign(b.begin(), b.end());
        return true;
    }
    bool parse(const std::string& rel, json* out) {
        std::string t;
        if (!text(rel, &t)) return false;
        *out = json::parse(t, nullptr, false);
        if (out->is_discarded() || !out->is_object()) {
            error = (p_.dir / rel).string() + ": not a valid JSON object (the file is damaged)";
            return false;
        }
        return true;
    }
    bool exists(const std::string& rel) const {
        std::error_code ec;
        return fs::is_regular_file(p_.dir / rel, ec);
    }

private:
    Gemma3Package& p_;
};

}  // namespace

std::string sha256_hex(const uint8_t* data, size_t size) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_Digest(data, size, md, &len, EVP_sha256(), nullptr);
    return hex(md, len);
}

std::string Gemma3Package::graph_path(const std::string& graph, const std::string& variant) const {
    if (has_manifest) {
        const json& g = manifest.contains("graphs") ? manifest["graphs"] : json();
        if (g.is_object() && g.contains(graph) && g[graph].is_object() && g[graph].contains(variant) &&
            g[graph][variant].is_string())
            return g[graph][variant].get<std::string>();
        return {};
    }
    // A public export: transformers.js' file names; only its three graphs.
    std::string base = graph == "vision_encoder" ? "vision_encoder"
                       : graph == "embed_tokens" ? "embed_tokens"
                       : graph == "decoder"      ? "decoder_model_merged"
                                                 : "";
    if (base.empty() || std::find(std::begin(kVariants), std::end(kVariants), variant) == std::end(kVariants)) return {};
    const std::string file = base + suffix_of(variant) + ".onnx";
    std::error_code ec;
    if (!fs::is_regular_file(dir / "onnx" / file, ec)) return {};
    return "onnx/" + file;
}

std::vector<std::string> Gemma3Package::variants() const {
    std::vector<std::string> out;
    for (const char* v : kVariants)
        if (!graph_path("vision_encoder", v).empty() && !graph_path("embed_tokens", v).empty() &&
            !graph_path("decoder", v).empty())
            out.push_back(v);
    return out;
}

std::string Gemma3Package::check_graph_files(const std::string& rel) const {
    Gemma3Package& self = const_cast<Gemma3Package&>(*this);
    Reader r(self);
    if (!r.check(rel)) return r.error;
    std::vector<std::string> external;
    if (has_manifest) {
        if (const json* e = r.entry(rel); e && e->contains("external_data") && (*e)["external_data"].is_array())
            for (const auto& x : (*e)["external_data"])
                if (x.is_string()) external.push_back(x.get<std::string>());
    } else {
        // transformers.js_config.use_external_data_format: {"<file>.onnx": chunks}.
        const std::string base = fs::path(rel).filename().string();
        const json& tj = config.contains("transformers.js_config") ? config["transformers.js_config"] : json();
        if (tj.is_object() && tj.contains("use_external_data_format") && tj["use_external_data_format"].is_object() &&
            tj["use_external_data_format"].contains(base)) {
            const json& n = tj["use_external_data_format"][base];
            const int chunks = n.is_boolean() ? (n.get<bool>() ? 1 : 0) : n.is_number_integer() ? n.get<int>() : 0;
            for (int i = 0; i < chunks; ++i)
                external.push_back(rel + "_data" + (i ? "_" + std::to_string(i) : std::string()));
        }
    }
    for (const auto& x : external)
        if (!r.check(x)) return r.error;
    return {};
}

PackageOpenResult open_gemma3_package(const fs::path& dir) {
    PackageOpenResult res;
    Gemma3Package& p = res.package;
    p.dir = dir;
    Reader r(p);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        res.error = dir.string() + ": not a folder (give --model the folder of a model package)";
        return res;
    }
    if (r.exists("manifest.json")) {
        p.has_manifest = true;  // so check() does not look for manifest.json in itself
        std::string text;
        std::vector<uint8_t> b;
        if (!read_bytes(dir / "manifest.json", &b)) {
            res.error = (dir / "manifest.json").string() + ": cannot be read";
            return res;
        }
        p.manifest = json::parse(b.begin(), b.end(), nullptr, false);
        if (p.manifest.is_discarded() || !p.manifest.is_object()) {
            res.error = (dir / "manifest.json").string() + ": not a valid JSON object (the file is damaged)";
            return res;
        }
        if (p.manifest.value("format", "") != "endoscribe-model-package") {
            res.error = (dir / "manifest.json").string() + ": not an EndoScribe model package manifest (format \"" +
                        p.manifest.value("format", "") + "\")";
            return res;
        }
    } else {
        p.notices.push_back("no manifest.json: files are not integrity-checked (public export?)");
    }
    if (!r.parse("config.json", &p.config)) return res.error = r.error, res;
    json gen = json::object(), special = json::object(), tokcfg;
    if (r.exists("generation_config.json") && !r.parse("generation_config.json", &gen)) return res.error = r.error, res;
    if (r.exists("special_tokens_map.json") && !r.parse("special_tokens_map.json", &special)) return res.error = r.error, res;
    if (!r.text("tokenizer_config.json", &p.tokenizer_config)) return res.error = r.error, res;
    tokcfg = json::parse(p.tokenizer_config, nullptr, false);
    if (tokcfg.is_discarded() || !tokcfg.is_object()) {
        res.error = (dir / "tokenizer_config.json").string() + ": not a valid JSON object (the file is damaged)";
        return res;
    }
    if (!r.bytes("tokenizer.model", &p.tokenizer_model)) return res.error = r.error, res;
    if (r.exists("preprocessor_config.json")) {
        if (!r.text("preprocessor_config.json", &p.preprocessor_config)) return res.error = r.error, res;
    } else if (r.exists("processor_config.json")) {
        json proc;
        if (!r.parse("processor_config.json", &proc)) return res.error = r.error, res;
        if (proc.contains("image_processor") && proc["image_processor"].is_object())
            p.preprocessor_config = proc["image_processor"].dump();
    }
    if (p.preprocessor_config.empty()) {
        res.error = (dir / "preprocessor_config.json").string() +
                    ": missing (the package must say how images are prepared for the vision encoder)";
        return res;
    }

    // Model facts: the manifest's, else config.json's (package.js `model`).
    const json& cfg = p.config;
    const json& text = cfg.contains("text_config") && cfg["text_config"].is_object() ? cfg["text_config"] : cfg;
    Gemma3Facts& f = p.facts;
    const json m = p.has_manifest && p.manifest.contains("model") ? p.manifest["model"] : json::object();
    auto pick = [&](const char* key, const json& fallback_obj, const char* fallback_key) {
        return int_or(m, key, int_or(fallback_obj, fallback_key, 0));
    };
    f.num_hidden_layers = pick("num_hidden_layers", text, "num_hidden_layers");
    f.num_key_value_heads = pick("num_key_value_heads", text, "num_key_value_heads");
    f.hidden_size = pick("hidden_size", text, "hidden_size");
    const int heads = int_or(text, "num_attention_heads", 0);
    f.head_dim = pick("head_dim", text, "head_dim");
    if (!f.head_dim && heads) f.head_dim = f.hidden_size / heads;
    f.vocab_size = pick("vocab_size", text, "vocab_size");
    const json vision = cfg.contains("vision_config") ? cfg["vision_config"] : json::object();
    f.image_size = pick("image_size", vision, "image_size");
    f.mm_tokens_per_image = pick("mm_tokens_per_image", cfg, "mm_tokens_per_image");
    f.image_token_id = int_or(m, "image_token_id", int_or(cfg, "image_token_index", int_or(cfg, "image_token_id", -1)));
    f.max_position_embeddings = int_or(text, "max_position_embeddings", int_or(m, "max_position_embeddings", 0));
    json eos = m.contains("eos_token_ids") ? m["eos_token_ids"]
               : gen.contains("eos_token_id") ? gen["eos_token_id"]
               : cfg.contains("eos_token_id") ? cfg["eos_token_id"]
                                              : text.value("eos_token_id", json());
    if (eos.is_number_integer()) f.eos_token_ids = {eos.get<int>()};
    else if (eos.is_array())
        for (const auto& x : eos)
            if (x.is_number_integer()) f.eos_token_ids.push_back(x.get<int>());
    if (f.num_hidden_layers <= 0 || f.num_key_value_heads <= 0 || f.head_dim <= 0 || f.hidden_size <= 0 ||
        f.vocab_size <= 0) {
        res.error = (dir / (p.has_manifest ? "manifest.json" : "config.json")).string() +
                    ": the model's sizes (layers, heads, hidden size, vocabulary) are missing; is this a Gemma-3 package?";
        return res;
    }
    if (f.eos_token_ids.empty()) {
        res.error = (dir / "generation_config.json").string() + ": no eos_token_id, so answers could never end";
        return res;
    }

    // Chat configuration (package.js chatConfig).
    ConversationConfig& c = p.chat;
    auto tok = [&](const char* key, const std::string& d) {
        return token_text(tokcfg.contains(key) ? tokcfg[key] : special.contains(key) ? special[key] : json(), d);
    };
    c.bos_token = tok("bos_token", "<bos>");
    c.eos_token = tok("eos_token", "<eos>");
    c.boi_token = tok("boi_token", "<start_of_image>");
    c.eoi_token = tok("eoi_token", "<end_of_image>");
    c.image_token = tok("image_token", "<image_soft_token>");
    c.mm_tokens_per_image = f.mm_tokens_per_image > 0 ? f.mm_tokens_per_image : 256;
    c.stop_ids = f.eos_token_ids;
    c.chat_template = template_from(tokcfg.value("chat_template", json()));
    if (c.chat_template.empty() && r.exists("chat_template.jinja") && !r.text("chat_template.jinja", &c.chat_template))
        return res.error = r.error, res;
    if (c.chat_template.empty() && r.exists("chat_template.json")) {
        json t;
        if (!r.parse("chat_template.json", &t)) return res.error = r.error, res;
        c.chat_template = template_from(t.value("chat_template", json()));
    }
    if (c.chat_template.empty()) {
        res.error = (dir / "tokenizer_config.json").string() +
                    ": the package has no chat template (tokenizer_config.json \"chat_template\" or chat_template.jinja)";
        return res;
    }
    if (cfg.contains("endoscribe") && cfg["endoscribe"].is_object())
        p.test_model = cfg["endoscribe"].value("test_model", false);
    res.ok = true;
    return res;
}

VariantRule variant_rule() {
    static const VariantRule rule = [] {
        VariantRule r;
        const json j = json::parse(kVariantRuleJson, nullptr, /*allow_exceptions=*/false);
        // The file is compiled in and checked by tests; a broken one keeps the documented values.
        if (j.is_object() && j.contains("fp32_max_bytes") && j["fp32_max_bytes"].is_number_unsigned())
            r.fp32_max_bytes = j["fp32_max_bytes"].get<uint64_t>();
        if (j.is_object() && j.contains("f16_twin") && j["f16_twin"].is_object()) {
            r.f16_twin.clear();
            for (const auto& [f32, f16] : j["f16_twin"].items())
                if (f16.is_string()) r.f16_twin[f32] = f16.get<std::string>();
        }
        return r;
    }();
    return rule;
}

uint64_t variant_weight_bytes(const Gemma3Package& package, const std::string& variant) {
    uint64_t n = 0;
    if (package.has_manifest) {
        // As the app counts (webgpu_check.js): every manifest file of the variant.
        const json& files = package.manifest.contains("files") ? package.manifest["files"] : json();
        if (files.is_array())
            for (const json& f : files)
                if (f.is_object() && f.value("variant", "") == variant && f.contains("size") && f["size"].is_number_unsigned())
                    n += f["size"].get<uint64_t>();
        return n;
    }
    // A public export: its graph files and their external data, as they are on disk.
    std::error_code ec;
    for (const char* graph : {"vision_encoder", "embed_tokens", "decoder"}) {
        const std::string rel = package.graph_path(graph, variant);
        if (rel.empty()) continue;
        for (const auto& entry : fs::directory_iterator(package.dir / "onnx", ec)) {
            const std::string name = "onnx/" + entry.path().filename().string();
            if (name == rel || name.rfind(rel + "_data", 0) == 0) n += entry.file_size(ec);
        }
    }
    return n;
}

std::string default_variant(const Gemma3Package& package, bool cuda) {
    const std::vector<std::string> have = package.variants();
    auto has = [&](const std::string& v) { return std::find(have.begin(), have.end(), v) != have.end(); };
    const VariantRule rule = variant_rule();
    // The weights: fp32 for a small package, q4 for a large one (or one without fp32).
    std::string v;
    if (has("q4") && (!has("fp32") || variant_weight_bytes(package, "fp32") > rule.fp32_max_bytes))
        v = "q4";
    else if (has("fp32"))
        v = "fp32";
    else
        for (const char* only_f16 : {"q4", "q4f16", "fp16"})
            if (has(only_f16)) {
                v = only_f16;
                break;
            }
    if (v.empty()) return {};
    // The activations: float16 on CUDA, float32 on the CPU (each when the package has that twin).
    for (const auto& [f32, f16] : rule.f16_twin) {
        if (cuda && v == f32 && has(f16)) return f16;
        if (!cuda && v == f16 && has(f32)) return f32;
    }
    return v;
}

}  // namespace es::server
