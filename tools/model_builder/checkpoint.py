"""A Hugging Face Gemma3ForConditionalGeneration checkpoint folder: config normalisation (both key
styles), lazy tensor access across shards, tensor-name normalisation, shape validation and LoRA merge."""
import json
import math
import os
import re

import numpy as np

from . import BuildError
from .safetensors_io import SafetensorsFile

# Gemma3TextConfig / SiglipVisionConfig / Gemma3Config defaults (hub configs omit keys equal to them).
TEXT_DEFAULTS = dict(max_position_embeddings=131072, vocab_size=262208, hidden_size=2304, intermediate_size=9216, num_hidden_layers=26,
                     num_attention_heads=8, num_key_value_heads=4, head_dim=256, hidden_activation="gelu_pytorch_tanh",
                     rms_norm_eps=1e-6, rope_theta=1000000.0, rope_local_base_freq=10000.0, query_pre_attn_scalar=256,
                     sliding_window=4096, sliding_window_pattern=6, final_logit_softcapping=None,
                     attn_logit_softcapping=None, rope_scaling=None, tie_word_embeddings=True)
VISION_DEFAULTS = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                       num_channels=3, image_size=224, patch_size=16, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6)
TOP_DEFAULTS = dict(mm_tokens_per_image=256, boi_token_index=255999, eoi_token_index=256000, image_token_index=262144)
GELU_TANH = ("gelu_pytorch_tanh", "gelu_new", "gelu_fast")

_PREFIXES = [(re.compile(r"^(?:model\.)?language_model\.(?:model\.)?"), "text."),
             (re.compile(r"^(?:model\.)?vision_tower\.(?:vision_model\.)?"), "vision."),
             (re.compile(r"^(?:model\.)?multi_modal_projector\."), "proj."),
             (re.compile(r"^(?:language_model\.)?lm_head\."), "lm_head.")]


def normalise_name(name):
    for rx, new in _PREFIXES:
        m = rx.match(name)
        if m:
            return new + name[m.end():]
    return None


def _rope(rp, default_theta):
    if rp is None:
        return default_theta, 1.0
    kind = rp.get("rope_type", rp.get("type", "default"))
    theta = float(rp.get("rope_theta", default_theta))
    if kind == "default":
        return theta, 1.0
    if kind == "linear":
        return theta, float(rp["factor"])
    raise BuildError(f"config.json: rope type '{kind}' is not supported (Gemma-3 uses 'default' and 'linear')")


class ModelConfig:
    """Normalised Gemma-3 VLM hyper-parameters."""

    def __init__(self, cfg, where="config.json"):
        archs = cfg.get("architectures") or []
        if cfg.get("model_type") != "gemma3" or (archs and "Gemma3ForConditionalGeneration" not in archs):
            raise BuildError(f"{where}: unknown architecture {archs or cfg.get('model_type')!r}; "
                             "this builder converts Gemma3ForConditionalGeneration (model_type 'gemma3', e.g. MedGemma-4B)")
        if "text_config" not in cfg or "vision_config" not in cfg:
            raise BuildError(f"{where}: missing text_config or vision_config")
        t = dict(TEXT_DEFAULTS); t.update({k: v for k, v in cfg["text_config"].items()})
        v = dict(VISION_DEFAULTS); v.update(cfg["vision_config"])
        top = dict(TOP_DEFAULTS); top.update({k: cfg[k] for k in TOP_DEFAULTS if k in cfg})
        self.raw = cfg
        self.vocab_size = int(t["vocab_size"]); self.hidden = int(t["hidden_size"])
        self.intermediate = int(t["intermediate_size"]); self.layers = int(t["num_hidden_layers"])
        self.heads = int(t["num_attention_heads"]); self.kv_heads = int(t["num_key_value_heads"])
        self.head_dim = int(t["head_dim"]); self.eps = float(t["rms_norm_eps"])
        self.max_positions = int(t.get("max_position_embeddings") or 131072)
        self.query_pre_attn_scalar = float(t["query_pre_attn_scalar"])
        self.sliding_window = int(t["sliding_window"]) if t.get("sliding_window") else None
        self.final_softcap = t.get("final_logit_softcapping"); self.attn_softcap = t.get("attn_logit_softcapping")
        self.tie = bool(cfg.get("tie_word_embeddings", t.get("tie_word_embeddings", True)))
        if t.get("hidden_activation", "gelu_pytorch_tanh") not in GELU_TANH:
            raise BuildError(f"{where}: hidden_activation {t.get('hidden_activation')!r} not supported")
        if self.heads % self.kv_heads:
            raise BuildError(f"{where}: num_attention_heads {self.heads} not a multiple of num_key_value_heads {self.kv_heads}")
        # Layer types: new style 'layer_types', old style 'sliding_window_pattern'.
        if t.get("layer_types"):
            lt = list(t["layer_types"])
            if len(lt) != self.layers or any(x not in ("sliding_attention", "full_attention") for x in lt):
                raise BuildError(f"{where}: layer_types must list {self.layers} of 'sliding_attention'/'full_attention'")
        else:
            pat = int(t.get("sliding_window_pattern") or t.get("_sliding_window_pattern") or 6)
            lt = ["sliding_attention" if (i + 1) % pat else "full_attention" for i in range(self.layers)]
        self.layer_types = lt
        if "sliding_attention" in lt and not self.sliding_window:
            raise BuildError(f"{where}: sliding layers but no sliding_window")
        # RoPE: new style 'rope_parameters' {full_attention:{..}, sliding_attention:{..}}, old style keys.
        rp = t.get("rope_parameters")
        if rp and ("full_attention" in rp or "sliding_attention" in rp):
            self.rope_global = _rope(rp.get("full_attention"), float(t["rope_theta"]))
            self.rope_local = _rope(rp.get("sliding_attention"), float(t["rope_local_base_freq"]))
        else:
            self.rope_global = _rope(rp or t.get("rope_scaling"), float(t["rope_theta"]))
            self.rope_local = (float(t["rope_local_base_freq"]), 1.0)
        self.v_hidden = int(v["hidden_size"]); self.v_intermediate = int(v["intermediate_size"])
        self.v_layers = int(v["num_hidden_layers"]); self.v_heads = int(v["num_attention_heads"])
        self.channels = int(v["num_channels"]); self.image_size = int(v["image_size"])
        self.patch = int(v["patch_size"]); self.v_eps = float(v["layer_norm_eps"])
        if v.get("hidden_act", "gelu_pytorch_tanh") not in GELU_TANH:
            raise BuildError(f"{where}: vision hidden_act {v.get('hidden_act')!r} not supported")
        if v.get("vision_use_head"):
            raise BuildError(f"{where}: vision_use_head=true is not a Gemma-3 vision tower")
        self.mm_tokens = int(top["mm_tokens_per_image"])
        self.image_token_id = int(top["image_token_index"])
        self.boi_token_id = int(top["boi_token_index"]); self.eoi_token_id = int(top["eoi_token_index"])
        eos = cfg.get("eos_token_id", t.get("eos_token_id", 1))
        self.eos_ids = list(eos) if isinstance(eos, list) else [eos]
        self.patches_side = self.image_size // self.patch
        side = int(round(math.sqrt(self.mm_tokens)))
        if self.image_size % self.patch or side * side != self.mm_tokens or self.patches_side % side:
            raise BuildError(f"{where}: image_size {self.image_size}, patch_size {self.patch} and mm_tokens_per_image "
                             f"{self.mm_tokens} do not give a whole pooling kernel")
        self.pool = self.patches_side // side
        if self.v_hidden % self.v_heads:
            raise BuildError(f"{where}: vision hidden_size not a multiple of heads")

    def summary(self):
        return {"num_hidden_layers": self.layers, "num_attention_heads": self.heads,
                "num_key_value_heads": self.kv_heads, "head_dim": self.head_dim, "hidden_size": self.hidden,
                "vocab_size": self.vocab_size, "sliding_window": self.sliding_window, "layer_types": self.layer_types,
                "max_position_embeddings": self.max_positions, "image_size": self.image_size, "mm_tokens_per_image": self.mm_tokens,
                "image_token_id": self.image_token_id, "boi_token_id": self.boi_token_id,
                "eoi_token_id": self.eoi_token_id, "eos_token_ids": self.eos_ids}

    def expected_shapes(self):
        """normalised tensor name -> shape, for every tensor the converter uses."""
        H, D, I = self.hidden, self.head_dim, self.intermediate
        s = {"text.embed_tokens.weight": (self.vocab_size, H), "text.norm.weight": (H,)}
        for i in range(self.layers):
            p = f"text.layers.{i}."
            s.update({p + "input_layernorm.weight": (H,), p + "post_attention_layernorm.weight": (H,),
                      p + "pre_feedforward_layernorm.weight": (H,), p + "post_feedforward_layernorm.weight": (H,),
                      p + "self_attn.q_proj.weight": (self.heads * D, H), p + "self_attn.k_proj.weight": (self.kv_heads * D, H),
                      p + "self_attn.v_proj.weight": (self.kv_heads * D, H), p + "self_attn.o_proj.weight": (H, self.heads * D),
                      p + "self_attn.q_norm.weight": (D,), p + "self_attn.k_norm.weight": (D,),
                      p + "mlp.gate_proj.weight": (I, H), p + "mlp.up_proj.weight": (I, H), p + "mlp.down_proj.weight": (H, I)})
        V, VI = self.v_hidden, self.v_intermediate
        s.update({"vision.embeddings.patch_embedding.weight": (V, self.channels, self.patch, self.patch),
                  "vision.embeddings.patch_embedding.bias": (V,),
                  "vision.embeddings.position_embedding.weight": (self.patches_side ** 2, V),
                  "vision.post_layernorm.weight": (V,), "vision.post_layernorm.bias": (V,),
                  "proj.mm_input_projection_weight": (V, H), "proj.mm_soft_emb_norm.weight": (V,)})
        for i in range(self.v_layers):
            p = f"vision.encoder.layers.{i}."
            for n in ("layer_norm1", "layer_norm2"):
                s[p + n + ".weight"] = (V,); s[p + n + ".bias"] = (V,)
            for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
                s[p + f"self_attn.{n}.weight"] = (V, V); s[p + f"self_attn.{n}.bias"] = (V,)
            s.update({p + "mlp.fc1.weight": (VI, V), p + "mlp.fc1.bias": (VI,),
                      p + "mlp.fc2.weight": (V, VI), p + "mlp.fc2.bias": (V,)})
        if not self.tie:
            s["lm_head.weight"] = (self.vocab_size, H)
        return s


def read_json(path, what):
    if not os.path.isfile(path):
        raise BuildError(f"missing {what}: {path}")
    try:
        with open(path) as f:
            return json.load(f)
    except ValueError as e:
        raise BuildError(f"{path}: malformed JSON: {e}")


class LoraAdapter:
    """A PEFT LoRA adapter; merged as W += scale * B @ A while tensors stream through."""

    def __init__(self, folder):
        cfg = read_json(os.path.join(folder, "adapter_config.json"), "LoRA adapter config")
        st = os.path.join(folder, "adapter_model.safetensors")
        if not os.path.isfile(st):
            raise BuildError(f"missing LoRA weights: {st} (only safetensors adapters are supported)")
        if cfg.get("peft_type", "LORA") != "LORA":
            raise BuildError(f"{folder}/adapter_config.json: peft_type {cfg.get('peft_type')} is not LORA")
        if cfg.get("use_dora"):
            raise BuildError(f"{folder}/adapter_config.json: DoRA adapters are not supported")
        if cfg.get("fan_in_fan_out"):
            raise BuildError(f"{folder}/adapter_config.json: fan_in_fan_out adapters are not supported")
        self.r, self.alpha = int(cfg["r"]), float(cfg.get("lora_alpha", cfg["r"]))
        self.rslora = bool(cfg.get("use_rslora"))
        self.rank_pattern = cfg.get("rank_pattern") or {}
        self.alpha_pattern = cfg.get("alpha_pattern") or {}
        self.file = SafetensorsFile(st)
        self.pairs = {}  # normalised weight name -> (A name, B name)
        for n in self.file.names():
            m = re.match(r"^(?:base_model\.model\.)?(.*)\.lora_([AB])(?:\.default)?\.weight$", n)
            if not m:
                if "lora_embedding" in n or "magnitude" in n or "modules_to_save" in n:
                    raise BuildError(f"{st}: tensor {n} (LoRA on embeddings / DoRA / modules_to_save) is not supported")
                raise BuildError(f"{st}: unexpected tensor {n} (not a lora_A/lora_B weight)")
            target = normalise_name(m.group(1) + ".weight")
            if target is None:
                raise BuildError(f"{st}: cannot map LoRA tensor {n} onto the model")
            a, b = self.pairs.get(target, (None, None))
            self.pairs[target] = (n, b) if m.group(2) == "A" else (a, n)
        for t, (a, b) in self.pairs.items():
            if a is None or b is None:
                raise BuildError(f"{st}: LoRA pair for {t} is incomplete (need lora_A and lora_B)")
        if not self.pairs:
            raise BuildError(f"{st}: no lora_A/lora_B tensors found")

    def scale_for(self, target):
        r, alpha = self.r, self.alpha
        for pat, val in self.rank_pattern.items():
            if re.search(pat, target):
                r = int(val)
        for pat, val in self.alpha_pattern.items():
            if re.search(pat, target):
                alpha = float(val)
        return alpha / math.sqrt(r) if self.rslora else alpha / r

    def delta(self, target, shape):
        a, b = self.file.get_f32(self.pairs[target][0]), self.file.get_f32(self.pairs[target][1])
        if a.ndim != 2 or b.ndim != 2 or b.shape[1] != a.shape[0] or (b.shape[0], a.shape[1]) != tuple(shape):
            raise BuildError(f"LoRA tensors for {target} have shapes A{list(a.shape)} B{list(b.shape)}, "
                             f"which do not fit the weight {list(shape)}")
        return (b.astype(np.float64) @ a.astype(np.float64) * self.scale_for(target)).astype(np.float32)


class Checkpoint:
    def __init__(self, folder, adapter=None):
        if not os.path.isdir(folder):
            raise BuildError(f"checkpoint folder not found: {folder}")
        self.folder = folder
        self.config = ModelConfig(read_json(os.path.join(folder, "config.json"), "config.json"),
                                  os.path.join(folder, "config.json"))
        index = os.path.join(folder, "model.safetensors.index.json")
        single = os.path.join(folder, "model.safetensors")
        self.files, self.where = {}, {}
        if os.path.isfile(index):
            wm = read_json(index, "shard index").get("weight_map")
            if not isinstance(wm, dict) or not wm:
                raise BuildError(f"{index}: no weight_map")
            for name, shard in wm.items():
                p = os.path.join(folder, shard)
                if shard not in self.files:
                    if not os.path.isfile(p):
                        raise BuildError(f"missing shard {shard} listed in {index}")
                    self.files[shard] = SafetensorsFile(p)
                if name not in self.files[shard].header:
                    raise BuildError(f"{index} puts {name} in {shard}, but that shard does not contain it")
                self.where[name] = shard
        elif os.path.isfile(single):
            self.files["model.safetensors"] = SafetensorsFile(single)
            self.where = {n: "model.safetensors" for n in self.files["model.safetensors"].names()}
        else:
            raise BuildError(f"no weights in {folder}: need model.safetensors or model.safetensors.index.json")
        self.names = {}
        for n in self.where:
            k = normalise_name(n)
            if k is not None:
                self.names[k] = n
        if self.config.tie and "lm_head.weight" in self.names:
            pass  # a saved tied lm_head is a copy of the embeddings; the embeddings are used
        exp = self.config.expected_shapes()
        for k, shape in exp.items():
            if k not in self.names:
                raise BuildError(f"checkpoint has no tensor for {k} (looked for Hugging Face names such as "
                                 f"'language_model.model.*', 'model.language_model.*', 'vision_tower.vision_model.*')")
            got = tuple(self.info(k)["shape"])
            if got != tuple(shape):
                raise BuildError(f"tensor {self.names[k]} has shape {list(got)}, config.json implies {list(shape)}")
        self.dtypes = sorted({self.info(k)["dtype"] for k in exp})
        self.adapter = LoraAdapter(adapter) if adapter else None
        if self.adapter:
            for t in self.adapter.pairs:
                if t not in exp or len(exp[t]) != 2:
                    raise BuildError(f"LoRA adapter targets {t}, which is not a linear weight of this model")
        self.merged = set()

    def info(self, key):
        n = self.names[key]
        return self.files[self.where[n]].info(n)

    def rows_f32(self, key, row0, row1):
        """Rows of a (large, never LoRA-targeted) tensor as float32, for streaming."""
        if self.adapter and key in self.adapter.pairs:
            raise BuildError(f"internal: {key} is LoRA-targeted and cannot be streamed by rows")
        n = self.names[key]
        return self.files[self.where[n]].get_f32(n, row0, row1)

    def f32(self, key):
        """One tensor as float32 (a new array), with the LoRA delta merged when the adapter targets it."""
        n = self.names[key]
        w = self.files[self.where[n]].get_f32(n)
        if self.adapter and key in self.adapter.pairs:
            w = np.array(w, dtype=np.float32, copy=True)
            w += self.adapter.delta(key, w.shape)
            self.merged.add(key)
        return w
