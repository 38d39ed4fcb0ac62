#!/usr/bin/env python3
"""On the GPU machine (PyTorch + transformers, no network): make a random checkpoint with MedGemma-4B's
configuration with Hugging Face transformers itself, save it as a Hugging Face checkpoint (bf16 safetensors +
the tiny oracle's tokenizer files), and write the transformers reference for tools/bench/gpu/webgpu_run.mjs:
the prompt (ids, pixel-values shape), the pixel values (px.f32) and transformers' greedy tokens.

  python3 tools/bench/gpu/make_reference.py OUT_CKPT OUT_PROMPT_JSON OUT_PIXELS [--tokens 32] [--layers 34]

The configuration comes from tools/make_tiny_checkpoint.py's medgemma-4b preset (the same one
tools/bench/fullsize.sh uses), with the image / begin / end-of-image ids of the oracle's tokenizer. The
reference runs in float32 on the GPU with token_type_ids (image tokens attend to each other, as in
transformers' Gemma-3), which is what decoder_token_types computes."""
import argparse
import json
import os
import shutil
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from make_tiny_checkpoint import PRESETS, make_config  # noqa: E402

ORACLE = os.path.join(ROOT, "tests", "fixtures", "tiny-gemma3", "checkpoint")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ckpt")
    ap.add_argument("prompt")
    ap.add_argument("pixels")
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--layers", type=int, default=None, help="fewer decoder layers (a quick trial)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    import torch
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration

    p = dict(PRESETS["medgemma-4b"])
    if a.layers:
        p["layers"] = a.layers
    lt = ["sliding_attention" if (i + 1) % p["sliding_pattern"] else "full_attention" for i in range(p["layers"])]
    cfg = make_config(p, "new", lt)
    oracle = json.load(open(os.path.join(ORACLE, "config.json")))
    for k in ("image_token_index", "boi_token_index", "eoi_token_index"):
        cfg[k] = oracle[k]
    t0 = time.time()
    torch.manual_seed(a.seed)
    config = Gemma3Config(**{k: v for k, v in cfg.items() if k != "architectures"})
    config.architectures = ["Gemma3ForConditionalGeneration"]
    with torch.device("cuda"):
        model = Gemma3ForConditionalGeneration(config).to(torch.bfloat16)
    model.eval()
    os.makedirs(a.ckpt, exist_ok=True)
    model.save_pretrained(a.ckpt, safe_serialization=True, max_shard_size="3GB")
    for f in ("tokenizer.model", "tokenizer_config.json", "generation_config.json", "preprocessor_config.json",
              "special_tokens_map.json", "chat_template.jinja"):
        if os.path.isfile(os.path.join(ORACLE, f)):
            shutil.copyfile(os.path.join(ORACLE, f), os.path.join(a.ckpt, f))
    # The preprocessor must describe the 896 px tower.
    pp = json.load(open(os.path.join(a.ckpt, "preprocessor_config.json")))
    pp["size"] = {"height": p["image_size"], "width": p["image_size"]}
    json.dump(pp, open(os.path.join(a.ckpt, "preprocessor_config.json"), "w"), indent=2)
    print(f"checkpoint: {sum(t.numel() for t in model.parameters()):,} parameters, {time.time() - t0:.0f} s", flush=True)

    # Prompt: <bos> text <start_of_image> 256 x <image_soft_token> <end_of_image> text (oracle token ids).
    head = [2, 4, 363, 284, 19]
    tail = [488, 336, 750, 276, 5, 19, 4, 847, 357, 978, 19]
    ids = head + [cfg["boi_token_index"]] + [cfg["image_token_index"]] * p["mm_tokens"] + [cfg["eoi_token_index"]] + tail
    size = p["image_size"]
    i = np.arange(3 * size * size, dtype=np.float64)
    px = (np.sin(i * 0.001) * 0.9).astype(np.float32).reshape(1, 3, size, size)  # webgpu_run.mjs's fixed image
    px.tofile(a.pixels)
    t1 = time.time()
    model = model.float()
    with torch.no_grad():
        inp = torch.tensor([ids], device="cuda")
        tti = (inp == cfg["image_token_index"]).long()
        out = model.generate(input_ids=inp, attention_mask=torch.ones_like(inp), token_type_ids=tti,
                             pixel_values=torch.from_numpy(px).cuda(), max_new_tokens=a.tokens, do_sample=False,
                             eos_token_id=None, pad_token_id=0)
    ref = out[0, len(ids):].tolist()
    print(f"transformers reference ({time.time() - t1:.0f} s): {ref}", flush=True)
    json.dump({"ids": ids, "dims": list(px.shape), "reference_ids": ref},
              open(a.prompt, "w"))


if __name__ == "__main__":
    main()
