#!/usr/bin/env python3
"""Make a random (seedable) Hugging Face Gemma3ForConditionalGeneration checkpoint of any shape, or
re-save an existing one in another form, for the model builder's tests and memory proofs.

  make_tiny_checkpoint.py OUT [--layers 2 --hidden 64 ...]            random weights
  make_tiny_checkpoint.py OUT --from CKPT [--dtype bf16 --shards 3 --key-style old --names new]
  make_tiny_checkpoint.py OUT --preset medgemma-4b --layers 2 --dtype bf16 --shards 4   full widths
  make_tiny_checkpoint.py OUT ... --lora LORA_DIR --lora-rank 4       also write a PEFT LoRA adapter

Options cover what real checkpoints vary in: config key style (new rope_parameters/layer_types or old
rope_theta/rope_local_base_freq/rope_scaling/sliding_window_pattern), tensor name style, dtype
(f32/bf16/f16), sharding (model.safetensors.index.json). Tensors are generated and written one at a
time, so a 262k-vocabulary checkpoint never sits in memory. Tokenizer files come from the tiny
oracle (tests/fixtures/tiny-gemma3)."""
import argparse
import json
import math
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_builder.checkpoint import Checkpoint  # noqa: E402
from model_builder.quant import dequantize_rows, quantize_rows  # noqa: E402
from model_builder.safetensors_io import f32_to_bf16_bits, write_file  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "..", "tests", "fixtures", "tiny-gemma3", "checkpoint")
PRESETS = {
    # MedGemma-4B / Gemma-3-4B widths (SigLIP so400m vision tower, 262,208-token vocabulary).
    "medgemma-4b": dict(hidden=2560, intermediate=10240, heads=8, kv_heads=4, head_dim=256, vocab=262208,
                        query_pre_attn_scalar=256, sliding_window=1024, sliding_pattern=6, layers=34,
                        v_hidden=1152, v_intermediate=4304, v_layers=27, v_heads=16, image_size=896, patch=14,
                        mm_tokens=256, image_token=262144, boi=255999, eoi=256000),
    "tiny": dict(hidden=64, intermediate=128, heads=4, kv_heads=2, head_dim=16, vocab=1024, query_pre_attn_scalar=16,
                 sliding_window=16, sliding_pattern=3, layers=6, v_hidden=32, v_intermediate=64, v_layers=2, v_heads=2,
                 image_size=64, patch=8, mm_tokens=16, image_token=8, boi=6, eoi=7),
}
PREFIX = {  # tensor name styles seen in the wild
    "hub": ("language_model.model.", "vision_tower.vision_model.", "multi_modal_projector."),
    "new": ("model.language_model.", "model.vision_tower.vision_model.", "model.multi_modal_projector."),
    "oracle": ("language_model.model.", "vision_tower.", "multi_modal_projector."),
}
TAG = {"f32": "F32", "bf16": "BF16", "f16": "F16"}


def make_config(p, key_style, layer_types):
    text = dict(hidden_size=p["hidden"], intermediate_size=p["intermediate"], num_hidden_layers=p["layers"],
                num_attention_heads=p["heads"], num_key_value_heads=p["kv_heads"], head_dim=p["head_dim"],
                query_pre_attn_scalar=p["query_pre_attn_scalar"], sliding_window=p["sliding_window"],
                vocab_size=p["vocab"], rms_norm_eps=1e-6, hidden_activation="gelu_pytorch_tanh",
                max_position_embeddings=131072, model_type="gemma3_text", final_logit_softcapping=None,
                attn_logit_softcapping=None, bos_token_id=2, eos_token_id=1, pad_token_id=0)
    if key_style == "new":
        text["layer_types"] = layer_types
        text["rope_parameters"] = {"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0},
                                   "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}
    else:
        pat = p["sliding_pattern"]
        if layer_types != ["sliding_attention" if (i + 1) % pat else "full_attention" for i in range(p["layers"])]:
            raise SystemExit("--key-style old can only express layer types given by a sliding_window_pattern")
        text.update(rope_theta=1000000.0, rope_local_base_freq=10000.0, sliding_window_pattern=pat,
                    rope_scaling={"rope_type": "linear", "factor": 8.0})
    vision = dict(model_type="siglip_vision_model", hidden_size=p["v_hidden"], intermediate_size=p["v_intermediate"],
                  num_hidden_layers=p["v_layers"], num_attention_heads=p["v_heads"], num_channels=3,
                  image_size=p["image_size"], patch_size=p["patch"], layer_norm_eps=1e-6,
                  hidden_act="gelu_pytorch_tanh", vision_use_head=False)
    return {"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3", "text_config": text,
            "vision_config": vision, "mm_tokens_per_image": p["mm_tokens"], "boi_token_index": p["boi"],
            "eoi_token_index": p["eoi"], "image_token_index": p["image_token"], "eos_token_id": [1, 5],
            "tie_word_embeddings": True, "initializer_range": 0.02}


def mixed_style(cfg):
    """config.json as transformers 4.56-4.57 saves Gemma-3 (the MedGemma 1.5 generation of checkpoints):
    layer_types next to the old rope keys (rope_theta, rope_local_base_freq, rope_scaling), the private
    _sliding_window_pattern, "dtype" for torch_dtype, use_bidirectional_attention, string eos lists."""
    t = cfg["text_config"]
    rp = t.pop("rope_parameters", None)
    if rp:
        t["rope_theta"] = rp["full_attention"]["rope_theta"]
        t["rope_local_base_freq"] = rp["sliding_attention"]["rope_theta"]
        fa = rp["full_attention"]
        t["rope_scaling"] = {"rope_type": "linear", "factor": fa["factor"]} if fa.get("rope_type") == "linear" else None
    lt = t.get("layer_types") or []
    full = [i for i, x in enumerate(lt) if x == "full_attention"]
    t["_sliding_window_pattern"] = full[0] + 1 if full else len(lt) + 1
    t.pop("sliding_window_pattern", None)
    t["use_bidirectional_attention"] = False
    t.setdefault("attention_bias", False); t.setdefault("attention_dropout", 0.0)
    cfg.pop("torch_dtype", None)
    cfg["dtype"] = "bfloat16"
    cfg["transformers_version"] = "4.57.1"
    cfg.setdefault("initializer_range", 0.02)
    return cfg


def to_tag(a, tag):
    if tag == "BF16":
        return f32_to_bf16_bits(a)
    return a.astype(np.float16 if tag == "F16" else np.float32)


def q4_grid(a, block):
    """Round a 2-D weight onto the 4-bit grid the builder uses (so its q4 package is lossless)."""
    packed, s, z = quantize_rows(a.astype(np.float32), block)
    return dequantize_rows(packed, s, z, a.shape[1]).astype(np.float32)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--from", dest="src", help="re-save this checkpoint (values kept, converted to --dtype)")
    ap.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    for k in ("layers", "hidden", "intermediate", "heads", "kv_heads", "head_dim", "vocab", "sliding_window",
              "sliding_pattern", "query_pre_attn_scalar", "v_hidden", "v_intermediate", "v_layers", "v_heads",
              "image_size", "patch", "mm_tokens"):
        ap.add_argument("--" + k.replace("_", "-"), type=int, dest=k)
    ap.add_argument("--no-sliding", action="store_true", help="every layer global (full_attention)")
    ap.add_argument("--key-style", choices=["new", "old", "mixed"], default="new",
                    help="config.json key style: new (transformers 5: rope_parameters), old (4.50: "
                         "sliding_window_pattern), mixed (4.57, MedGemma 1.5: layer_types + rope_scaling)")
    ap.add_argument("--names", choices=sorted(PREFIX), default="hub", help="tensor name style")
    ap.add_argument("--dtype", choices=sorted(TAG), default="f32")
    ap.add_argument("--shards", type=int, default=1, help="number of safetensors shards (1 = model.safetensors)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--std", type=float, default=0.1, help="std of random matrices (norm weights use 0.3)")
    ap.add_argument("--q4-grid", type=int, metavar="BLOCK", help="put 2-D weights on the 4-bit grid of this block size")
    ap.add_argument("--lora", metavar="DIR", help="also write a random PEFT LoRA adapter here")
    ap.add_argument("--lora-rank", type=int, default=4)
    a = ap.parse_args(argv)

    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    if a.src:
        ck = Checkpoint(a.src)
        cfg = json.load(open(os.path.join(a.src, "config.json")))
        shapes = ck.config.expected_shapes()
        get = lambda k: ck.f32(k)  # noqa: E731
        p = None
        if a.key_style == "old":
            t = cfg["text_config"]
            lt = t.pop("layer_types", None); rp = t.pop("rope_parameters", None)
            if rp:
                t["rope_theta"] = rp["full_attention"]["rope_theta"]
                t["rope_local_base_freq"] = rp["sliding_attention"]["rope_theta"]
                if rp["full_attention"].get("rope_type") == "linear":
                    t["rope_scaling"] = {"rope_type": "linear", "factor": rp["full_attention"]["factor"]}
            if lt:
                pats = [q for q in range(1, len(lt) + 2)
                        if lt == ["sliding_attention" if (i + 1) % q else "full_attention" for i in range(len(lt))]]
                if not pats:
                    raise SystemExit("layer_types have no sliding_window_pattern equivalent")
                t["sliding_window_pattern"] = pats[0]
            t.pop("_sliding_window_pattern", None)
        src_dir = a.src
    else:
        p = dict(PRESETS[a.preset])
        p.update({k: v for k, v in vars(a).items() if k in p and v is not None})
        lt = ["full_attention"] * p["layers"] if a.no_sliding else \
            ["sliding_attention" if (i + 1) % p["sliding_pattern"] else "full_attention" for i in range(p["layers"])]
        cfg = make_config(p, "new" if a.key_style == "mixed" else a.key_style, lt)
        from model_builder.checkpoint import ModelConfig
        shapes = ModelConfig(cfg).expected_shapes()
        src_dir = ORACLE

        def get(k):
            shape = shapes[k]
            if len(shape) == 1:
                std = 0.3 if "norm" in k else 0.02
                return (rng.standard_normal(shape, dtype=np.float32) * std).astype(np.float32)
            w = rng.standard_normal(shape, dtype=np.float32)
            w *= np.float32(a.std)
            if a.q4_grid and len(shape) == 2:
                w = q4_grid(w if not k.startswith("proj.mm_input") else w.T, a.q4_grid)
                w = np.ascontiguousarray(w.T) if k.startswith("proj.mm_input") else w
            return w

    tp, vp, pp = PREFIX[a.names]
    def hf_name(k):
        head, rest = k.split(".", 1)
        return {"text": tp, "vision": vp, "proj": pp, "lm_head": "lm_head."}[head] + rest
    tag = TAG[a.dtype]

    def produce(k):
        shape = shapes[k]
        if a.src is None and not a.q4_grid and len(shape) == 2 and shape[0] * shape[1] > (64 << 20):
            # huge random matrices (the 262k x 2560 embeddings) are made in row chunks
            def chunks():
                for r in range(0, shape[0], 8192):
                    n = min(8192, shape[0] - r)
                    yield to_tag(rng.standard_normal((n, shape[1]), dtype=np.float32) * np.float32(a.std), tag)
            return chunks()
        return to_tag(get(k), tag)
    keys = list(shapes)
    per = math.ceil(len(keys) / a.shards)
    groups = [keys[i:i + per] for i in range(0, len(keys), per)]
    weight_map, total = {}, 0
    for si, group in enumerate(groups):
        fname = "model.safetensors" if a.shards == 1 else f"model-{si + 1:05d}-of-{len(groups):05d}.safetensors"
        specs = [(hf_name(k), tag, shapes[k], (lambda k=k: produce(k))) for k in group]
        write_file(os.path.join(a.out, fname), specs, {"format": "pt"})
        for k in group:
            weight_map[hf_name(k)] = fname
            total += int(np.prod(shapes[k], dtype=np.int64))
    if a.shards > 1:
        json.dump({"metadata": {"total_size": total * (4 if tag == "F32" else 2)}, "weight_map": weight_map},
                  open(os.path.join(a.out, "model.safetensors.index.json"), "w"), indent=2)
    cfg["torch_dtype"] = {"f32": "float32", "bf16": "bfloat16", "f16": "float16"}[a.dtype]
    if a.key_style == "mixed":
        dt = cfg.pop("torch_dtype")
        cfg = mixed_style(cfg)
        cfg["dtype"] = dt
    json.dump(cfg, open(os.path.join(a.out, "config.json"), "w"), indent=2)
    for f in ("tokenizer.model", "tokenizer_config.json", "generation_config.json", "preprocessor_config.json"):
        if os.path.isfile(os.path.join(src_dir, f)):
            shutil.copyfile(os.path.join(src_dir, f), os.path.join(a.out, f))
    if not a.src:
        pc = json.load(open(os.path.join(a.out, "preprocessor_config.json")))
        pc["size"] = {"height": p["image_size"], "width": p["image_size"]}
        json.dump(pc, open(os.path.join(a.out, "preprocessor_config.json"), "w"), indent=2)
    if a.lora:
        write_lora(a.lora, shapes, hf_name, a.lora_rank, rng)
    print(f"wrote {a.out}: {total:,} parameters, {len(groups)} shard(s), {a.dtype}")


def write_lora(folder, shapes, hf_name, r, rng):
    os.makedirs(folder, exist_ok=True)
    targets = ["q_proj", "v_proj", "o_proj", "down_proj"]
    specs = []
    for k, shape in shapes.items():
        if k.startswith("text.") and any(f".{t}." in k for t in targets):
            base = "base_model.model." + hf_name(k)[:-len(".weight")]
            A = (rng.standard_normal((r, shape[1]), dtype=np.float32) * 0.1).astype(np.float32)
            B = (rng.standard_normal((shape[0], r), dtype=np.float32) * 0.1).astype(np.float32)
            specs.append((base + ".lora_A.weight", "F32", A.shape, lambda A=A: A))
            specs.append((base + ".lora_B.weight", "F32", B.shape, lambda B=B: B))
    write_file(os.path.join(folder, "adapter_model.safetensors"), specs, {"format": "pt"})
    json.dump({"peft_type": "LORA", "r": r, "lora_alpha": 2 * r, "target_modules": targets, "use_rslora": False,
               "use_dora": False, "fan_in_fan_out": False, "bias": "none", "task_type": "CAUSAL_LM"},
              open(os.path.join(folder, "adapter_config.json"), "w"), indent=2)


if __name__ == "__main__":
    main()
