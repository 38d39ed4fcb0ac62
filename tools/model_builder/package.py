"""Builds a whole package (PACKAGE.md) into a temporary folder next to the output and renames it into
place only when everything succeeded, so a failure never leaves a half-written package."""
import hashlib
import json
import os
import shutil
import time

from . import BuildError
from .checkpoint import Checkpoint, read_json
from .gemma3_graphs import LM_HEAD_ROWS, QuantOptions, Weights, build_decoder, build_embed, build_vision
from .onnx_graph import Graph, WeightStore
from .progress import Stage, peak_rss_mb, summary_table
from . import grounding as grounding_convention
from . import tokenizer_json

COPIED = ["config.json", "generation_config.json", "preprocessor_config.json", "tokenizer.model", "tokenizer_config.json"]
REQUIRED = ["tokenizer.model", "tokenizer_config.json", "preprocessor_config.json"]


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 22), b""):
            h.update(b)
    return h.hexdigest()


def _count_weights(cfg, graph):
    if graph == "vision":
        return 5 + cfg.v_layers * 16 + 3
    if graph == "embed":
        return 1
    return 1 + cfg.layers * 13 + 1


def check_inputs(folder):
    for f in REQUIRED:
        if not os.path.isfile(os.path.join(folder, f)):
            raise BuildError(f"missing {f} in {folder} (a Hugging Face Gemma-3 checkpoint has it)")
    tc = read_json(os.path.join(folder, "tokenizer_config.json"), "tokenizer_config.json")
    pc = read_json(os.path.join(folder, "preprocessor_config.json"), "preprocessor_config.json")
    if os.path.isfile(os.path.join(folder, "generation_config.json")):
        read_json(os.path.join(folder, "generation_config.json"), "generation_config.json")
    return tc, pc


def _template_of(value):
    """A chat_template value: a string, or a list of {name, template} whose "default" is used."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        for t in value:
            if isinstance(t, dict) and t.get("name") == "default" and isinstance(t.get("template"), str):
                return t["template"]
    return None


def chat_template(folder, tc):
    """The checkpoint's chat template and where it came from, as Hugging Face resolves it:
    chat_template.jinja, else chat_template.json (the processor's), else tokenizer_config.json's
    chat_template. Returns (template or None, source file name or None, files to copy as they are)."""
    jinja, js = os.path.join(folder, "chat_template.jinja"), os.path.join(folder, "chat_template.json")
    copies, found = [], []
    if os.path.isfile(jinja):
        try:
            with open(jinja, "rb") as f:
                text = f.read().decode("utf-8")
        except UnicodeDecodeError as e:
            raise BuildError(f"{jinja}: not UTF-8 text ({e})")
        if not text.strip():
            raise BuildError(f"{jinja}: empty chat template")
        copies.append("chat_template.jinja"); found.append((text, "chat_template.jinja"))
    if os.path.isfile(js):
        d = read_json(js, "chat_template.json")
        t = _template_of(d.get("chat_template")) if isinstance(d, dict) else None
        if not t:
            raise BuildError(f"{js}: no \"chat_template\" string in it")
        copies.append("chat_template.json"); found.append((t, "chat_template.json"))
    t = _template_of(tc.get("chat_template"))
    if t:
        found.append((t, "tokenizer_config.json"))
    return (found[0][0], found[0][1], copies) if found else (None, None, copies)


# Variant name -> (file suffix, 4-bit, float16): transformers.js' dtype names and suffixes.
VARIANTS = {"fp32": ("", False, False), "fp16": ("_fp16", False, True), "q4": ("_q4", True, False),
            "q4f16": ("_q4f16", True, True)}


def parse_variants(spec):
    """'fp32,q4f16' -> ['fp32', 'q4f16'] in VARIANTS order; errors name the unknown one."""
    names = [v.strip() for v in (spec.split(",") if isinstance(spec, str) else spec) if v.strip()]
    bad = [v for v in names if v not in VARIANTS]
    if bad or not names:
        raise BuildError(f"--variants: unknown variant {', '.join(bad) or '(none given)'}; "
                         f"choose from {', '.join(VARIANTS)} (comma-separated)")
    return [v for v in VARIANTS if v in names]


def build_package(src, out, quant="q4", block_size=32, quant_decoder=True, quant_lm_head=True,
                  quant_embeddings=True, quant_vision=True, accuracy_level=4, adapter=None, force=False,
                  chunk_bytes=2 << 30, quiet=False, log=print, attention="plain", grounding=None, test_model=None,
                  variants=None, vision_attention="chunked", vision_query_chunk=512, kv_cache="window"):
    """grounding: {box_format, box_order, region_input} (any subset) for config.json["endoscribe"]["grounding"],
    laid over the checkpoint's own block; None and no block in the checkpoint: nothing is written.
    test_model: a description (str) marks the package as a test model whose output is meaningless (random
    weights): config.json["endoscribe"] gets {"test_model": true, "description": ...}; the app then warns
    wherever its output appears."""
    t_start = time.time()
    if attention not in ("plain", "gqa"):
        raise BuildError(f"--attention must be plain or gqa (got {attention})")
    if kv_cache not in ("window", "whole"):
        raise BuildError(f"--kv-cache must be window or whole (got {kv_cache})")
    if quant not in ("q4", "none"):
        raise BuildError(f"--quant must be q4 or none (got {quant})")
    # --quant q4 (default) = fp32 + q4, --quant none = fp32; --variants names them outright.
    variants = parse_variants(variants if variants else (["fp32", "q4"] if quant == "q4" else ["fp32"]))
    quant = "q4" if any(VARIANTS[v][1] for v in variants) else "none"
    QuantOptions(vision_attention=vision_attention)  # validates the attention form before any work
    if test_model is not None and (not isinstance(test_model, str) or not test_model.strip()):
        raise BuildError("--test-model needs a description of what the model is (e.g. \"random weights\")")
    ck = Checkpoint(src, adapter)
    cfg = ck.config
    tc, pc = check_inputs(src)
    template = chat_template(src, tc)
    grounding = grounding_convention.resolve(cfg.raw, grounding_convention.validate(grounding or {}, "grounding"))
    size = pc.get("size") or {}
    if size and (size.get("height"), size.get("width")) != (cfg.image_size, cfg.image_size):
        raise BuildError(f"preprocessor_config.json: size {size} disagrees with vision_config.image_size {cfg.image_size}")
    tok_pieces = tokenizer_json.load_proto(os.path.join(src, "tokenizer.model")).pieces
    if len(tok_pieces) > cfg.vocab_size:
        raise BuildError(f"tokenizer.model has {len(tok_pieces)} pieces but config.json vocab_size is {cfg.vocab_size}")
    for name, tid in (("image_token_index", cfg.image_token_id), ("boi_token_index", cfg.boi_token_id),
                      ("eoi_token_index", cfg.eoi_token_id)):
        if not 0 <= tid < cfg.vocab_size:
            raise BuildError(f"config.json: {name} {tid} is outside the vocabulary ({cfg.vocab_size})")

    out = os.path.abspath(out.rstrip("/"))
    if os.path.exists(out) and not os.path.isdir(out):
        raise BuildError(f"output {out} exists and is not a folder")
    if os.path.exists(out) and os.listdir(out) and not force:
        raise BuildError(f"output folder {out} exists and is not empty (use --force to replace it)")
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    tmp = out + ".partial"
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    os.makedirs(os.path.join(tmp, "onnx"))
    try:
        rows, files_meta = _build_into(ck, cfg, src, tmp, variants, block_size, quant_decoder, quant_lm_head,
                                       quant_embeddings, quant_vision, accuracy_level, chunk_bytes, quiet, tc, attention,
                                       template, grounding, test_model, vision_attention, vision_query_chunk,
                                       kv_cache == "window")
        manifest = _manifest(ck, cfg, tmp, files_meta, quant, block_size, accuracy_level, adapter, attention,
                             template[1], grounding, variants, vision_attention, kv_cache == "window")
        with open(os.path.join(tmp, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    total = time.time() - t_start
    timed = {r[0]: r[1] for r in rows}
    table = [(f["path"], f["size"], timed.get(f["path"])) for f in manifest["files"]]
    if not quiet:
        log(summary_table(table, total))
    return {"manifest": manifest, "seconds": total, "peak_rss_mb": peak_rss_mb()}


def _build_into(ck, cfg, src, tmp, variant_names, block_size, qd, qh, qe, qv, acc, chunk_bytes, quiet, tc, attention,
                template, grounding, test_model=None, vision_attention="chunked", vision_query_chunk=512, kv_window=True):
    od = os.path.join(tmp, "onnx")
    rows, meta = [], {}
    variants = []
    for vname in variant_names:
        suffix, q4, f16 = VARIANTS[vname]
        variants.append((vname, suffix, QuantOptions(q4, block_size, qd, qh, qe, qv, acc, f16=f16,
                                                     vision_attention=vision_attention,
                                                     vision_query_chunk=vision_query_chunk)))
    for vname, suffix, q in variants:
        vq = q.enabled and q.vision
        eq = q.enabled and q.embeddings
        dq = q.enabled and (q.decoder or q.lm_head)
        jobs = [("vision_encoder", "vision", lambda g, W: build_vision(g, W, cfg, vq), vq,
                 ["vision_linears"] if vq else []),
                ("embed_tokens", "embed", lambda g, W: build_embed(g, W, cfg, eq), eq,
                 ["embeddings"] if eq else []),
                ("decoder_model_merged", "decoder", lambda g, W: build_decoder(g, W, cfg, q, False, attention), dq,
                 (["decoder_linears"] if q.enabled and q.decoder else []) + (["lm_head"] if q.enabled and q.lm_head else []))]
        for base, kind, fn, is_q, targets in jobs:
            t0 = time.time()
            name = base + suffix
            stage = Stage(f"{name}", _count_weights(cfg, kind), quiet)
            store = WeightStore(od, name + ".onnx", chunk_bytes)
            W = Weights(ck, store, q, stage)
            g = Graph(name, store)
            fn(g, W)
            graphs = [(name, g)]
            if kind == "decoder":
                g2 = Graph("decoder_token_types" + suffix, store)
                build_decoder(g2, W, cfg, q, token_types=True, logits_to_keep=True, kv_window=kv_window)
                graphs.append(("decoder_token_types" + suffix, g2))
                g3 = Graph("decoder_fused" + suffix, store)  # same interface, onnxruntime fused kernels (CPU/WASM)
                build_decoder(g3, W, cfg, q, token_types=True, attention="fused", logits_to_keep=True, kv_window=kv_window)
                graphs.append(("decoder_fused" + suffix, g3))
            data_files = store.close()
            for gname, gg in graphs:
                gg.save(os.path.join(od, gname + ".onnx"))
            secs = stage.finish()
            qinfo = ({"method": "GatherBlockQuantized" if kind == "embed" else "MatMulNBits", "bits": 4,
                      "block_size": block_size, "symmetric": False, "accuracy_level": acc if kind != "embed" else None,
                      "targets": targets} if is_q else None)
            graph_key = {"vision": "vision_encoder", "embed": "embed_tokens", "decoder": "decoder"}[kind]
            for gname, _ in graphs:
                gk = next((k for k in ("decoder_token_types", "decoder_fused") if gname.startswith(k)), graph_key)
                meta["onnx/" + gname + ".onnx"] = dict(kind="onnx", graph=gk, variant=vname,
                                                      dtype="float16" if q.f16 else "float32", quantization=qinfo,
                                                      external_data=["onnx/" + d for d in data_files])
                rows.append(("onnx/" + gname + ".onnx", secs if gname == name else None))
            for d in data_files:
                meta["onnx/" + d] = dict(kind="onnx_data", graph=graph_key, variant=vname,
                                         dtype="mixed" if is_q else ("float16" if q.f16 else "float32"),
                                         quantization=qinfo)
    # Config and tokenizer files.
    for f in COPIED:
        p = os.path.join(src, f)
        if f == "config.json":
            continue
        if os.path.isfile(p):
            shutil.copyfile(p, os.path.join(tmp, f))
    if not os.path.isfile(os.path.join(tmp, "generation_config.json")):
        with open(os.path.join(tmp, "generation_config.json"), "w") as fh:
            json.dump({"bos_token_id": tc.get("bos_token_id", 2), "eos_token_id": cfg.eos_ids,
                       "pad_token_id": 0}, fh, indent=2)
    conf = dict(cfg.raw)
    ext = {}
    for path, m in sorted(meta.items()):
        if m["kind"] == "onnx":
            ext[os.path.basename(path)] = len(m["external_data"])
    conf["transformers.js_config"] = {"use_external_data_format": ext}
    f16_variants = [v for v in variant_names if VARIANTS[v][2]]
    if f16_variants:  # older transformers.js reads the cache type from here (4.x from the graph's inputs)
        conf["transformers.js_config"]["kv_cache_dtype"] = {v: "float16" for v in f16_variants}
    if grounding:  # other keys of a checkpoint's "endoscribe" block are kept
        conf["endoscribe"] = dict(conf.get("endoscribe") or {}, grounding=grounding)
    if test_model is not None:
        conf["endoscribe"] = dict(conf.get("endoscribe") or {}, test_model=True, description=test_model.strip())
    with open(os.path.join(tmp, "config.json"), "w") as fh:
        json.dump(conf, fh, indent=2)
    with open(os.path.join(tmp, "processor_config.json"), "w") as fh:
        json.dump({"processor_class": "Gemma3Processor", "image_seq_length": cfg.mm_tokens}, fh, indent=2)
    special = {k: tc[k] for k in ("bos_token", "eos_token", "pad_token", "unk_token", "boi_token", "eoi_token",
                                  "image_token") if k in tc}
    with open(os.path.join(tmp, "special_tokens_map.json"), "w") as fh:
        json.dump(special, fh, indent=2)
    # Chat template files of the checkpoint are copied as they are. transformers.js' Gemma3Processor reads
    # chat_template.jinja, so one is written from chat_template.json or tokenizer_config.json when the
    # checkpoint has none; its tokenizer (and web/assistant/package.js) read tokenizer_config.json's
    # chat_template first, so that one is set to the same template when it differs (Hugging Face lets
    # chat_template.jinja override tokenizer_config.json).
    tpl, tpl_source, tpl_copies = template
    for f in tpl_copies:
        shutil.copyfile(os.path.join(src, f), os.path.join(tmp, f))
    if tpl and "chat_template.jinja" not in tpl_copies:
        with open(os.path.join(tmp, "chat_template.jinja"), "w", encoding="utf-8", newline="") as fh:
            fh.write(tpl)
    if tpl and _template_of(tc.get("chat_template")) != tpl:
        with open(os.path.join(tmp, "tokenizer_config.json"), "w", encoding="utf-8") as fh:
            json.dump(dict(tc, chat_template=tpl), fh, indent=2, ensure_ascii=False)
            fh.write("\n")
    t0 = time.time()
    tokenizer_json.write(os.path.join(src, "tokenizer.model"), os.path.join(tmp, "tokenizer.json"), tc)
    rows.append(("tokenizer.json", time.time() - t0))
    for f in sorted(set(tpl_copies + (["chat_template.jinja"] if tpl else []))) + ["config.json", "generation_config.json", "preprocessor_config.json", "processor_config.json",
              "special_tokens_map.json", "tokenizer.json", "tokenizer.model", "tokenizer_config.json"]:
        meta[f] = dict(kind="tokenizer" if f.startswith("tokenizer") or f.startswith("special") else "config",
                       dtype=None, quantization=None)
    return rows, meta


def _manifest(ck, cfg, tmp, meta, quant, block_size, acc, adapter, attention, template_source, grounding,
              variants=("fp32", "q4"), vision_attention="chunked", kv_window=True):
    files = []
    for path in sorted(meta):
        full = os.path.join(tmp, path)
        e = {"path": path, "size": os.path.getsize(full), "sha256": _sha256(full)}
        e.update(meta[path])
        files.append(e)
    graphs = {}
    for path, m in sorted(meta.items()):
        if m["kind"] == "onnx":
            graphs.setdefault(m["graph"], {})[m["variant"]] = path
    return {"format": "endoscribe-model-package", "format_version": 1,
            "architecture": "Gemma3ForConditionalGeneration",
            "builder": {"tool": "tools/build_model.py", "quant": quant, "block_size": block_size,
                        "accuracy_level": acc, "variants": list(variants),
                        "attention": {"decoder": "GroupQueryAttention" if attention == "gqa" else "plain-onnx",
                                      "decoder_token_types": "plain-onnx",
                                      "decoder_fused": "onnxruntime-fused",
                                      "vision_encoder": {"mha": "MultiHeadAttention", "chunked": "plain-onnx-query-chunks",
                                                         "plain": "plain-onnx"}[vision_attention]},
                        # KV cache forms (PACKAGE.md): sliding layers keep their window only; decoder_fused's
                        # global layers may share one preallocated past/present buffer.
                        "kv_cache": {"window": ["decoder_token_types", "decoder_fused"] if kv_window else [],
                                     "shared_buffer": ["decoder_fused"]},
                        # vocabulary rows per 4-bit lm_head MatMulNBits (PACKAGE.md)
                        "lm_head_rows": LM_HEAD_ROWS,
                        "source_dtypes": ck.dtypes, "lora_adapter": bool(adapter),
                        "lora_merged_tensors": len(ck.merged), "chat_template_source": template_source,
                        "grounding": grounding},
            "model": cfg.summary(), "graphs": graphs, "files": files}
