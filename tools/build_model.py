#!/usr/bin/env python3
"""Convert a Hugging Face Gemma-3 / MedGemma checkpoint (optionally + a PEFT LoRA adapter) into an
EndoScribe / transformers.js ONNX package with fp32 and 4-bit variants. See tools/model_builder/README.md.

    /usr/bin/python3 tools/build_model.py CHECKPOINT_DIR OUTPUT_DIR [--quant q4|none] [--block-size 32]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_builder import BuildError  # noqa: E402
from model_builder import grounding as grounding_convention  # noqa: E402
from model_builder.package import build_package  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", help="Hugging Face Gemma3ForConditionalGeneration folder")
    ap.add_argument("output", help="package folder to create")
    ap.add_argument("--quant", choices=["q4", "none"], default="q4", help="also build the _q4 variants (default q4)")
    ap.add_argument("--variants", metavar="LIST",
                    help="comma-separated variants to build, transformers.js' names: fp32, fp16 (float16 weights, "
                         "activations and KV cache), q4 (4-bit weights, float32 activations), q4f16 (4-bit weights, "
                         "float16 activations and KV cache); overrides --quant (default fp32,q4)")
    ap.add_argument("--vision-attention", choices=["mha", "chunked", "plain"], default="chunked",
                    help="vision encoder attention: plain ONNX ops with the queries in chunks (default; every EP), "
                         "com.microsoft MultiHeadAttention (least memory on CPU; fails at 4096 tokens on the WASM EP), "
                         "or plain ONNX ops with the whole 16x4096x4096 score matrix at 896 px (README)")
    ap.add_argument("--vision-query-chunk", type=int, default=512, help="query rows per chunk with --vision-attention chunked (default 512)")
    ap.add_argument("--block-size", type=int, default=32, help="4-bit quantisation block size (default 32)")
    ap.add_argument("--accuracy-level", type=int, default=4, choices=[0, 1, 2, 3, 4],
                    help="MatMulNBits accuracy_level (4 = int8 compute on CPU/WASM; default 4)")
    ap.add_argument("--no-quant-decoder", action="store_true", help="keep the decoder's linear layers fp32 in _q4")
    ap.add_argument("--no-quant-lm-head", action="store_true", help="keep the (tied) lm_head fp32 in _q4")
    ap.add_argument("--no-quant-embeddings", action="store_true", help="keep embed_tokens fp32 in _q4")
    ap.add_argument("--no-quant-vision", action="store_true", help="keep the vision tower fp32 in _q4")
    ap.add_argument("--adapter", metavar="LORA_DIR", help="PEFT LoRA adapter to merge (adapter_config.json + adapter_model.safetensors)")
    ap.add_argument("--kv-cache", choices=["window", "whole"], default="window",
                    help="runtime decoders' KV cache: the sliding layers keep only their window (default) or every "
                         "layer keeps the whole history (as packages before builder.kv_cache; PACKAGE.md)")
    ap.add_argument("--attention", choices=["plain", "gqa"], default="plain",
                    help="decoder_model_merged attention: plain ONNX ops (default, measured faster/correct, see README) "
                         "or com.microsoft GroupQueryAttention; decoder_token_types is always plain")
    g = ap.add_argument_group("grounding convention", "written to config.json[\"endoscribe\"][\"grounding\"] for the "
                              "EndoScribe runtime (tools/model_builder/PACKAGE.md); nothing given and none in the "
                              "checkpoint: nothing is written and the runtime assumes box_format auto, box_order "
                              "xyxy, region_input coordinates")
    g.add_argument("--grounding", metavar="JSON_OR_FILE",
                   help='a JSON object, inline or in a file: {"box_format": ..., "box_order": ..., "region_input": ...}')
    g.add_argument("--box-format", choices=grounding_convention.KEYS["box_format"],
                   help="how the model writes boxes: auto-detect, [..] normalised to 0-1 or 0-1000, pixels, or "
                        "PaliGemma <locNNNN> tokens")
    g.add_argument("--box-order", choices=grounding_convention.KEYS["box_order"], help="coordinate order in [..] boxes")
    g.add_argument("--region-input", choices=grounding_convention.KEYS["region_input"],
                   help="how a question about a drawn region reaches the model: its box as text, a crop, or both")
    ap.add_argument("--force", action="store_true", help="replace an existing non-empty output folder")
    ap.add_argument("--chunk-gb", type=float, default=2.0, help="max size of one external data file (GiB)")
    ap.add_argument("--quiet", action="store_true", help="no progress bars or summary")
    ap.add_argument("--test-model", metavar="DESCRIPTION",
                    help="mark the package as a test model whose output is meaningless (config.json "
                         "\"endoscribe\": {\"test_model\": true, \"description\": DESCRIPTION}); the app warns "
                         "wherever its output appears")
    a = ap.parse_args(argv)
    try:
        grounding = grounding_convention.parse_spec(a.grounding) if a.grounding else {}
        for k in grounding_convention.KEYS:  # single options override the JSON
            if getattr(a, k) is not None:
                grounding[k] = getattr(a, k)
        build_package(a.checkpoint, a.output, quant=a.quant, block_size=a.block_size,
                      quant_decoder=not a.no_quant_decoder, quant_lm_head=not a.no_quant_lm_head,
                      quant_embeddings=not a.no_quant_embeddings, quant_vision=not a.no_quant_vision,
                      accuracy_level=a.accuracy_level, adapter=a.adapter, force=a.force,
                      chunk_bytes=int(a.chunk_gb * (1 << 30)), quiet=a.quiet, attention=a.attention,
                      grounding=grounding, test_model=a.test_model, variants=a.variants,
                      vision_attention=a.vision_attention, vision_query_chunk=a.vision_query_chunk, kv_cache=a.kv_cache)
    except BuildError as e:
        print(f"build_model: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # disk full, permissions: the partial output has been removed
        print(f"build_model: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("build_model: interrupted; nothing was written", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
