"""Tests for tools/build_model.py and tools/make_tiny_checkpoint.py (run: /usr/bin/python3 -m unittest
discover -s tests/python). Numerical checks run the built packages with onnxruntime-node through
tests/node/model_run.mjs and compare with the tiny oracle's golden files or with gemma3_reference.py."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TOOLS = os.path.join(ROOT, "tools")
FIX = os.path.join(ROOT, "tests", "fixtures", "tiny-gemma3")
CKPT = os.path.join(FIX, "checkpoint")
GOLD = os.path.join(FIX, "golden")
sys.path.insert(0, TOOLS)
sys.path.insert(0, HERE)
import onnx  # noqa: E402
from gemma3_reference import Reference  # noqa: E402
from model_builder import BuildError  # noqa: E402
from model_builder.package import build_package  # noqa: E402

NODE = shutil.which("node")
HAVE_ORT = NODE and os.path.isdir(os.path.join(ROOT, "node_modules", "onnxruntime-node"))


def make_ckpt(out, *args):
    subprocess.run([sys.executable, os.path.join(TOOLS, "make_tiny_checkpoint.py"), out, *args], check=True,
                   stdout=subprocess.DEVNULL)
    return out


def build(src, out, *args):
    r = subprocess.run([sys.executable, os.path.join(TOOLS, "build_model.py"), src, out, "--quiet", *args],
                       capture_output=True, text=True)
    return r


def run_package(pkg, ids, pixels=None, variant="fp32", greedy=0, token_types=True, decoder=None, chunks=None,
                capacity=None):
    """Prompt logits [S, vocab] and greedy ids; with chunks (lists of ids run one after another through the
    KV cache), every chunk's logits and the meta json (kv_lengths per chunk) instead."""
    with tempfile.TemporaryDirectory() as d:
        req = {"package": pkg, "variant": variant, "ids": [int(i) for i in ids], "greedy": greedy,
               "token_types": token_types, "pixels": None, "decoder": decoder,
               "chunks": [[int(i) for i in c] for c in chunks] if chunks else None,
               "shared_buffer": capacity is not None, "capacity": capacity}
        if pixels is not None:
            req["pixels"] = os.path.join(d, "px.npy")
            np.save(req["pixels"], pixels.astype(np.float32))
        with open(os.path.join(d, "req.json"), "w") as f:
            json.dump(req, f)
        subprocess.run([NODE, os.path.join(ROOT, "tests", "node", "model_run.mjs"), os.path.join(d, "req.json"),
                        os.path.join(d, "out")], check=True)
        with open(os.path.join(d, "out.json")) as f:
            meta = json.load(f)
        logits = np.fromfile(os.path.join(d, "out.logits.f32"), np.float32).reshape(meta["shape"][1:])
        return logits, (meta if chunks else meta["greedy"])


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


class Tmp(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="es-mb-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def p(self, *a):
        return os.path.join(self.tmp, *a)


class ReferenceTest(unittest.TestCase):
    def test_reference_reproduces_golden(self):
        g = json.load(open(os.path.join(GOLD, "golden.json")))
        r = Reference(CKPT)
        px = np.load(os.path.join(GOLD, "pixel_values.npy")).astype(np.float64)
        self.assertLess(np.abs(r.image_features(px) - np.load(os.path.join(GOLD, "image_features.npy"))).max(), 1e-5)
        self.assertLess(np.abs(r.logits(g["turn1_ids"], px) - np.load(os.path.join(GOLD, "turn1_logits.npy"))[0]).max(), 1e-4)


class PackageTest(Tmp):
    def test_deterministic_bytes_and_manifest(self):
        a, b = self.p("a"), self.p("b")
        self.assertEqual(build(CKPT, a).returncode, 0)
        self.assertEqual(build(CKPT, b).returncode, 0)
        fa = sorted(os.path.relpath(os.path.join(d, f), a) for d, _, fs in os.walk(a) for f in fs)
        fb = sorted(os.path.relpath(os.path.join(d, f), b) for d, _, fs in os.walk(b) for f in fs)
        self.assertEqual(fa, fb)
        for f in fa:
            self.assertEqual(sha(os.path.join(a, f)), sha(os.path.join(b, f)), f)
        m = json.load(open(os.path.join(a, "manifest.json")))
        listed = {e["path"] for e in m["files"]}
        self.assertEqual(listed, set(fa) - {"manifest.json"})
        for e in m["files"]:
            self.assertEqual(e["size"], os.path.getsize(os.path.join(a, e["path"])))
            self.assertEqual(e["sha256"], sha(os.path.join(a, e["path"])))
            self.assertIn("dtype", e); self.assertIn("quantization", e)
        for g in ("vision_encoder", "embed_tokens", "decoder", "decoder_token_types", "decoder_fused"):
            self.assertEqual(set(m["graphs"][g]), {"fp32", "q4"})
        cfg = json.load(open(os.path.join(a, "config.json")))
        ext = cfg["transformers.js_config"]["use_external_data_format"]
        self.assertEqual(ext["decoder_model_merged_q4.onnx"], 1)

    def test_graph_interfaces_follow_package_md(self):
        out = self.p("pkg")
        self.assertEqual(build(CKPT, out).returncode, 0)
        L = 6
        for v in ("", "_q4"):
            dec = onnx.load(os.path.join(out, "onnx", f"decoder_model_merged{v}.onnx"), load_external_data=False)
            names = [i.name for i in dec.graph.input]
            self.assertEqual(names[:3], ["inputs_embeds", "attention_mask", "position_ids"])
            self.assertEqual(len(names), 3 + 2 * L)  # transformers.js feeds exactly these
            self.assertEqual(names[3:5], ["past_key_values.0.key", "past_key_values.0.value"])
            outs = [o.name for o in dec.graph.output]
            self.assertEqual(outs[0], "logits"); self.assertEqual(outs[1], "present.0.key")
            tt = onnx.load(os.path.join(out, "onnx", f"decoder_token_types{v}.onnx"), load_external_data=False)
            self.assertEqual([i.name for i in tt.graph.input], names + ["token_type_ids", "num_logits_to_keep"])
            keep = tt.graph.input[-1].type.tensor_type
            self.assertEqual((keep.elem_type, len(keep.shape.dim)), (onnx.TensorProto.INT64, 0))  # int64 scalar
            locs = {e.value for t in tt.graph.initializer for e in t.external_data if e.key == "location"}
            self.assertEqual(locs, {f"decoder_model_merged{v}.onnx_data"})  # shares the weights file
            ops = {n.op_type for n in dec.graph.node}
            self.assertEqual("MatMulNBits" in ops, v == "_q4")
            self.assertNotIn("GroupQueryAttention", ops)
            fu = onnx.load(os.path.join(out, "onnx", f"decoder_fused{v}.onnx"), load_external_data=False)
            self.assertEqual([i.name for i in fu.graph.input], [i.name for i in tt.graph.input])
            self.assertEqual([o.name for o in fu.graph.output], [o.name for o in tt.graph.output])
            self.assertEqual({e.value for t in fu.graph.initializer for e in t.external_data if e.key == "location"},
                             {f"decoder_model_merged{v}.onnx_data"})  # no weight of its own
            fops = [n.op_type for n in fu.graph.node]
            self.assertEqual(fops.count("GroupQueryAttention"), L)
            self.assertTrue({"SimplifiedLayerNormalization", "SkipSimplifiedLayerNormalization", "RotaryEmbedding",
                             "FastGelu"} <= set(fops))
            self.assertLess(len(fops), len(tt.graph.node) / 2)
            self.assertFalse({"Cos", "Sin"} & set(fops))
        emb = onnx.load(os.path.join(out, "onnx", "embed_tokens_q4.onnx"), load_external_data=False)
        # Plain ONNX ops only: onnxruntime-web's WebGPU build has no CPU kernel for GatherBlockQuantized.
        self.assertEqual({n.domain or "" for n in emb.graph.node}, {""})
        self.assertIn("Gather", {n.op_type for n in emb.graph.node})
        vis = onnx.load(os.path.join(out, "onnx", "vision_encoder_q4.onnx"), load_external_data=False)
        self.assertIn("MatMulNBits", {n.op_type for n in vis.graph.node})
        onnx.checker.check_model(os.path.join(out, "onnx", "decoder_token_types.onnx"))

    def test_bf16_checkpoint_equals_fp32_of_same_values(self):
        bf, f32 = self.p("bf16"), self.p("f32")
        make_ckpt(bf, "--from", CKPT, "--dtype", "bf16")
        make_ckpt(f32, "--from", bf, "--dtype", "f32")
        self.assertEqual(build(bf, self.p("pb")).returncode, 0)
        self.assertEqual(build(f32, self.p("pf")).returncode, 0)
        onnx_files = sorted(os.listdir(self.p("pb", "onnx")))
        self.assertTrue(onnx_files)
        for f in onnx_files:
            self.assertEqual(sha(self.p("pb", "onnx", f)), sha(self.p("pf", "onnx", f)), f)

    def test_quant_none_and_options(self):
        out = self.p("none")
        self.assertEqual(build(CKPT, out, "--quant", "none").returncode, 0)
        m = json.load(open(os.path.join(out, "manifest.json")))
        self.assertEqual(set(m["graphs"]["decoder"]), {"fp32"})
        self.assertFalse(any("_q4" in e["path"] for e in m["files"]))
        out = self.p("partial")
        self.assertEqual(build(CKPT, out, "--no-quant-vision", "--no-quant-lm-head", "--block-size", "16").returncode, 0)
        m = json.load(open(os.path.join(out, "manifest.json")))
        by = {e["path"]: e for e in m["files"]}
        self.assertIsNone(by["onnx/vision_encoder_q4.onnx"]["quantization"])
        q = by["onnx/decoder_model_merged_q4.onnx"]["quantization"]
        self.assertEqual((q["block_size"], q["targets"]), (16, ["decoder_linears"]))
        dec = onnx.load(os.path.join(out, "onnx", "decoder_model_merged_q4.onnx"), load_external_data=False)
        self.assertIn("Gemm", {n.op_type for n in dec.graph.node})  # fp32 lm_head


class ErrorTest(Tmp):
    """Bad input: a clear message naming the problem, exit code 2, and nothing left behind."""

    def broken(self, edit):
        src = self.p("src")
        shutil.copytree(CKPT, src)
        edit(src)
        return src

    def expect_error(self, src, *needles, args=()):
        out = self.p("out")
        r = build(src, out, *args)
        self.assertEqual(r.returncode, 2, r.stderr)
        for n in needles:
            self.assertIn(n, r.stderr)
        self.assertFalse(os.path.exists(out), "half-written output left behind")
        self.assertFalse(os.path.exists(out + ".partial"))
        return r.stderr

    def test_missing_files(self):
        for f in ("config.json", "tokenizer.model", "preprocessor_config.json", "model.safetensors"):
            src = self.broken(lambda s: os.remove(os.path.join(s, f)))
            self.expect_error(src, f if f != "model.safetensors" else "model.safetensors")
            shutil.rmtree(src)

    def test_malformed_json_and_unknown_architecture(self):
        src = self.broken(lambda s: open(os.path.join(s, "tokenizer_config.json"), "w").write("{oops"))
        self.expect_error(src, "tokenizer_config.json", "malformed JSON")
        shutil.rmtree(src)

        def arch(s):
            c = json.load(open(os.path.join(s, "config.json")))
            c["architectures"] = ["LlamaForCausalLM"]; c["model_type"] = "llama"
            json.dump(c, open(os.path.join(s, "config.json"), "w"))
        self.expect_error(self.broken(arch), "unknown architecture", "LlamaForCausalLM")

    def test_inconsistent_config_and_wrong_shape(self):
        def hidden(s):
            c = json.load(open(os.path.join(s, "config.json")))
            c["text_config"]["intermediate_size"] = 256
            json.dump(c, open(os.path.join(s, "config.json"), "w"))
        self.expect_error(self.broken(hidden), "layers.0.mlp.gate_proj.weight", "[128, 64]", "[256, 64]")

    def test_truncated_weights_and_missing_shard(self):
        def trunc(s):
            p = os.path.join(s, "model.safetensors")
            data = open(p, "rb").read()
            open(p, "wb").write(data[: len(data) // 2])
        self.expect_error(self.broken(trunc), "truncated")
        sh = make_ckpt(self.p("sh"), "--from", CKPT, "--shards", "2")
        os.remove(os.path.join(sh, "model-00002-of-00002.safetensors"))
        self.expect_error(sh, "missing shard", "model-00002-of-00002.safetensors")

    def test_bad_chat_template_files(self):
        src = self.broken(lambda s: open(os.path.join(s, "chat_template.json"), "w").write("{\"chat_template\": "))
        self.expect_error(src, "chat_template.json", "malformed JSON")
        shutil.rmtree(src)
        src = self.broken(lambda s: open(os.path.join(s, "chat_template.json"), "w").write("{\"template\": \"x\"}"))
        self.expect_error(src, "chat_template.json", "no \"chat_template\"")
        shutil.rmtree(src)
        src = self.broken(lambda s: open(os.path.join(s, "chat_template.jinja"), "wb").write(b"{{ bos_token }}\xff\xfe"))
        self.expect_error(src, "chat_template.jinja", "UTF-8")

    def test_bad_grounding(self):
        for spec, needles in (('{"box_scale": 1000}', ["unknown grounding key", "box_scale"]),
                              ('{"box_format": "0-1000"}', ["box_format", "normalized_1000"]),
                              ('{"box_order": ', ["--grounding", "malformed JSON"]),
                              ('["yxyx"]', ["must be a JSON object", "got list"]),
                              (self.p("none.json"), ["no such file", "none.json"])):
            self.expect_error(CKPT, *needles, args=("--grounding", spec))
        bad = self.p("bad.json")
        open(bad, "w").write('{"region_input": "mask"}')
        self.expect_error(CKPT, "bad.json", "region_input", "coordinates, crop, both", args=("--grounding", bad))

        def block(s):
            c = json.load(open(os.path.join(s, "config.json")))
            c["endoscribe"] = {"grounding": {"box_order": "xy"}}
            json.dump(c, open(os.path.join(s, "config.json"), "w"))
        self.expect_error(self.broken(block), "config.json", "box_order", "xyxy, yxyx")

    def test_existing_output_is_kept(self):
        out = self.p("out")
        os.makedirs(out)
        open(os.path.join(out, "keep.txt"), "w").write("mine")
        r = build(CKPT, out)
        self.assertEqual(r.returncode, 2)
        self.assertIn("exists", r.stderr)
        self.assertEqual(os.listdir(out), ["keep.txt"])

    def test_failure_mid_build_leaves_nothing(self):
        # A LoRA adapter whose shapes do not fit fails during conversion, after files were written.
        lora = self.p("lora")
        make_ckpt(self.p("other"), "--hidden", "32", "--head-dim", "8", "--lora", lora)
        out = self.p("out")
        with self.assertRaises(BuildError) as e:
            build_package(CKPT, out, adapter=lora, quiet=True)
        self.assertIn("LoRA", str(e.exception))
        self.assertFalse(os.path.exists(out)); self.assertFalse(os.path.exists(out + ".partial"))


# A template unlike the oracle's (which keeps the content's spaces and maps assistant -> model), with
# CRLF line ends inside Jinja tags so that a byte-exact copy is visible.
JINJA = ("{{ bos_token }}{% for m in messages %}\r\n{%- if m['role'] == 'user' -%}<start_of_turn>user\n"
         "{{ m['content'] | trim }}<end_of_turn>\n{% else -%}<start_of_turn>model\n{{ m['content'] | trim }}"
         "<end_of_turn>\n{% endif -%}\r\n{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}")
MESSAGES = [{"role": "user", "content": "  Is this a polyp?  "}]
RENDERED = "<bos><start_of_turn>user\nIs this a polyp?<end_of_turn>\n<start_of_turn>model\n"


class ChatTemplateTest(Tmp):
    """chat_template.jinja / .json of the checkpoint are copied; a .jinja is generated when there is none."""

    def ckpt(self, jinja=None, json_template=None, in_tokenizer_config=True):
        src = self.p("src")
        shutil.copytree(CKPT, src)
        if jinja is not None:
            with open(os.path.join(src, "chat_template.jinja"), "wb") as f:
                f.write(jinja.encode("utf-8"))
        if json_template is not None:
            with open(os.path.join(src, "chat_template.json"), "w") as f:
                json.dump({"chat_template": json_template}, f, indent=3)
        if not in_tokenizer_config:
            tc = json.load(open(os.path.join(src, "tokenizer_config.json")))
            del tc["chat_template"]
            json.dump(tc, open(os.path.join(src, "tokenizer_config.json"), "w"))
        return src

    def built(self, src):
        out = self.p("pkg")
        r = build(src, out, "--quant", "none")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = json.load(open(os.path.join(out, "manifest.json")))
        listed = {e["path"]: e for e in m["files"]}
        for f in os.listdir(out):
            if f.startswith("chat_template"):
                self.assertEqual(listed[f]["sha256"], sha(os.path.join(out, f)), f)
        return out, m, listed

    def test_generated_from_tokenizer_config(self):
        out, m, listed = self.built(CKPT)
        tc = json.load(open(os.path.join(CKPT, "tokenizer_config.json")))
        self.assertEqual(open(os.path.join(out, "chat_template.jinja"), newline="").read(), tc["chat_template"])
        self.assertNotIn("chat_template.json", listed)
        self.assertEqual(sha(os.path.join(out, "tokenizer_config.json")), sha(os.path.join(CKPT, "tokenizer_config.json")))
        self.assertEqual(m["builder"]["chat_template_source"], "tokenizer_config.json")

    def test_jinja_copied_and_wins(self):
        for in_tc in (True, False):
            src = self.ckpt(jinja=JINJA, json_template="{{ 'older processor template' }}", in_tokenizer_config=in_tc)
            out, m, listed = self.built(src)
            for f in ("chat_template.jinja", "chat_template.json"):
                self.assertIn(f, listed)
                self.assertEqual(sha(os.path.join(out, f)), sha(os.path.join(src, f)), f)  # byte-exact copies
            # transformers.js' tokenizer and web/assistant/package.js read tokenizer_config.json first.
            self.assertEqual(json.load(open(os.path.join(out, "tokenizer_config.json")))["chat_template"], JINJA)
            self.assertEqual(m["builder"]["chat_template_source"], "chat_template.jinja")
            shutil.rmtree(src); shutil.rmtree(out)

    def test_json_only(self):
        src = self.ckpt(json_template=JINJA, in_tokenizer_config=False)
        out, m, listed = self.built(src)
        self.assertEqual(sha(os.path.join(out, "chat_template.json")), sha(os.path.join(src, "chat_template.json")))
        self.assertEqual(open(os.path.join(out, "chat_template.jinja"), newline="").read(), JINJA)
        self.assertEqual(json.load(open(os.path.join(out, "tokenizer_config.json")))["chat_template"], JINJA)
        self.assertEqual(m["builder"]["chat_template_source"], "chat_template.json")

    @unittest.skipUnless(HAVE_ORT, "needs node + @huggingface/transformers (npm ci)")
    def test_transformersjs_uses_the_checkpoint_template(self):
        out, _, _ = self.built(self.ckpt(jinja=JINJA, in_tokenizer_config=False))
        script = ("import { AutoProcessor, AutoTokenizer, env } from '@huggingface/transformers';"
                  "env.allowRemoteModels = false; env.localModelPath = '/';"
                  "const m = JSON.parse(process.argv[2]), o = { tokenize: false, add_generation_prompt: true };"
                  "const p = await AutoProcessor.from_pretrained(process.argv[1]);"
                  "const t = await AutoTokenizer.from_pretrained(process.argv[1]);"
                  "console.log(JSON.stringify([p.apply_chat_template(m, o), t.apply_chat_template(m, o)]));")
        r = subprocess.run([NODE, "--input-type=module", "-e", script, out, json.dumps(MESSAGES)],
                           capture_output=True, text=True, cwd=ROOT, check=True)
        self.assertEqual(json.loads(r.stdout.strip().splitlines()[-1]), [RENDERED, RENDERED])


class GroundingTest(Tmp):
    """--grounding / --box-format / --box-order / --region-input -> config.json["endoscribe"]["grounding"]."""

    def config(self, src, *args):
        out = self.p("pkg")
        r = build(src, out, "--quant", "none", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        c = json.load(open(os.path.join(out, "config.json")))
        m = json.load(open(os.path.join(out, "manifest.json")))
        shutil.rmtree(out)
        return c, m["builder"]["grounding"]

    def test_default_writes_nothing(self):
        c, g = self.config(CKPT)
        self.assertNotIn("endoscribe", c)
        self.assertIsNone(g)

    def test_file_and_single_options(self):
        base, _ = self.config(CKPT)
        f = self.p("g.json")
        json.dump({"box_format": "normalized_1000", "box_order": "yxyx", "region_input": "crop"}, open(f, "w"))
        c, g = self.config(CKPT, "--grounding", f, "--region-input", "both")
        want = {"box_format": "normalized_1000", "box_order": "yxyx", "region_input": "both"}
        self.assertEqual(c.pop("endoscribe"), {"grounding": want})
        self.assertEqual(g, want)
        self.assertEqual(c, base)  # nothing else in config.json changes
        c, _ = self.config(CKPT, "--grounding", '{"box_format": "paligemma_loc"}')
        self.assertEqual(c["endoscribe"], {"grounding": {"box_format": "paligemma_loc"}})  # the rest: runtime defaults
        c, _ = self.config(CKPT, "--box-order", "yxyx")
        self.assertEqual(c["endoscribe"], {"grounding": {"box_order": "yxyx"}})

    def test_checkpoint_block_kept_and_overridden(self):
        src = self.p("src")
        shutil.copytree(CKPT, src)
        c = json.load(open(os.path.join(src, "config.json")))
        c["endoscribe"] = {"grounding": {"box_format": "pixels", "box_order": "yxyx"}, "note": "fine-tune 3"}
        json.dump(c, open(os.path.join(src, "config.json"), "w"))
        got, _ = self.config(src)
        self.assertEqual(got["endoscribe"], c["endoscribe"])
        got, g = self.config(src, "--box-format", "normalized_1")
        self.assertEqual(got["endoscribe"], {"grounding": {"box_format": "normalized_1", "box_order": "yxyx"},
                                             "note": "fine-tune 3"})
        self.assertEqual(g, got["endoscribe"]["grounding"])


class TestModelFlagTest(Tmp):
    """--test-model DESCRIPTION -> config.json["endoscribe"] = {"test_model": true, "description": ...}: the app
    warns wherever such a package's output appears (the built-in tiny model is built with it)."""

    def config(self, *args):
        out = self.p("pkg")
        r = build(CKPT, out, "--quant", "none", *args)
        if r.returncode != 0:
            return r, None
        with open(os.path.join(out, "config.json")) as f:
            c = json.load(f)
        shutil.rmtree(out)
        return r, c

    def test_flag_written_with_description_and_nothing_else_changes(self):
        _, base = self.config()
        self.assertNotIn("endoscribe", base)
        _, c = self.config("--test-model", "  random weights, meaningless  ")
        self.assertEqual(c.pop("endoscribe"), {"test_model": True, "description": "random weights, meaningless"})
        self.assertEqual(c, base)

    def test_kept_next_to_grounding(self):
        _, c = self.config("--test-model", "random", "--box-order", "yxyx")
        self.assertEqual(c["endoscribe"], {"grounding": {"box_order": "yxyx"}, "test_model": True, "description": "random"})

    def test_empty_description_refused(self):
        r, c = self.config("--test-model", " ")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--test-model needs a description", r.stderr)
        self.assertIsNone(c)
        self.assertFalse(os.path.exists(self.p("pkg")))


@unittest.skipUnless(HAVE_ORT, "needs node + onnxruntime-node (npm ci)")
class HalfVariantTest(Tmp):
    """fp16 / q4f16 variants in the public transformers.js layout: file names, chunked external data,
    float16 I/O and KV cache, and numbers (golden within float16 rounding; q4f16 within it of q4)."""

    ALL = ("fp32", "fp16", "q4", "q4f16")

    def test_public_layout_types_and_chunks(self):
        out = self.p("pkg")
        # ~100 KiB chunks: every decoder's weights span several external data files.
        r = build(CKPT, out, "--variants", ",".join(self.ALL), "--chunk-gb", "0.0001")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = json.load(open(os.path.join(out, "manifest.json")))
        self.assertEqual(m["builder"]["variants"], list(self.ALL))
        self.assertEqual(m["builder"]["attention"]["vision_encoder"], "plain-onnx-query-chunks")
        cfg = json.load(open(os.path.join(out, "config.json")))
        tjs = cfg["transformers.js_config"]
        self.assertEqual(tjs["kv_cache_dtype"], {"fp16": "float16", "q4f16": "float16"})
        files = set(os.listdir(os.path.join(out, "onnx")))
        T = onnx.TensorProto
        for v, suffix in (("fp32", ""), ("fp16", "_fp16"), ("q4", "_q4"), ("q4f16", "_q4f16")):
            half = v in ("fp16", "q4f16")
            for g, base in (("vision_encoder", "vision_encoder"), ("embed_tokens", "embed_tokens"),
                            ("decoder", "decoder_model_merged"), ("decoder_token_types", "decoder_token_types"),
                            ("decoder_fused", "decoder_fused")):
                name = f"{base}{suffix}.onnx"
                self.assertEqual(m["graphs"][g][v], "onnx/" + name)
                self.assertIn(name, files)
                n = tjs["use_external_data_format"][name]
                data = "decoder_model_merged" if g in ("decoder_token_types", "decoder_fused") else base
                chunks = [f"{data}{suffix}.onnx_data" + (f"_{i}" if i else "") for i in range(n)]
                self.assertTrue(all(c in files for c in chunks), (name, chunks))
                self.assertNotIn(f"{data}{suffix}.onnx_data_{n}", files)
                entry = next(e for e in m["files"] if e["path"] == "onnx/" + name)
                self.assertEqual(entry["external_data"], ["onnx/" + c for c in chunks])
                self.assertEqual(entry["dtype"], "float16" if half else "float32")
            self.assertGreater(tjs["use_external_data_format"][f"decoder_model_merged{suffix}.onnx"], 1)
            elem = lambda vi: vi.type.tensor_type.elem_type  # noqa: E731
            act = T.FLOAT16 if half else T.FLOAT
            vis = onnx.load(os.path.join(out, "onnx", f"vision_encoder{suffix}.onnx"), load_external_data=False)
            self.assertEqual((elem(vis.graph.input[0]), elem(vis.graph.output[0])), (T.FLOAT, act))
            self.assertNotIn("MultiHeadAttention", {n.op_type for n in vis.graph.node})  # default: chunked plain ops
            emb = onnx.load(os.path.join(out, "onnx", f"embed_tokens{suffix}.onnx"), load_external_data=False)
            self.assertEqual(elem(emb.graph.output[0]), act)
            for base, logits in (("decoder_model_merged", act), ("decoder_token_types", T.FLOAT), ("decoder_fused", T.FLOAT)):
                dec = onnx.load(os.path.join(out, "onnx", f"{base}{suffix}.onnx"), load_external_data=False)
                ins = {i.name: elem(i) for i in dec.graph.input}
                outs = {o.name: elem(o) for o in dec.graph.output}
                self.assertEqual((ins["inputs_embeds"], ins["past_key_values.0.key"], outs["present.5.value"]),
                                 (act, act, act))
                self.assertEqual(outs["logits"], logits)  # the runtime's decoder keeps float32 logits
            if v == "q4f16":  # MatMulNBits scales in float16, as for float16 activations
                dec = onnx.load(os.path.join(out, "onnx", "decoder_model_merged_q4f16.onnx"), load_external_data=False)
                scales = {n.input[2] for n in dec.graph.node if n.op_type == "MatMulNBits"}
                types = {t.data_type for t in dec.graph.initializer if t.name in scales}
                self.assertEqual(types, {T.FLOAT16})
        onnx.checker.check_model(os.path.join(out, "onnx", "decoder_token_types_q4f16.onnx"))

    @unittest.skipUnless(HAVE_ORT, "needs node + onnxruntime-node (npm ci)")
    def test_half_numbers(self):
        out = self.p("pkg")
        # accuracy level 0: float32 compute in the CPU's MatMulNBits for q4 too (level 4 quantises float32
        # activations to int8 on CPU, ~0.12 off here, but not float16 ones), so q4 vs q4f16 isolates float16.
        self.assertEqual(build(CKPT, out, "--variants", ",".join(self.ALL), "--accuracy-level", "0").returncode, 0)
        g = json.load(open(os.path.join(GOLD, "golden.json")))
        px = np.load(os.path.join(GOLD, "pixel_values.npy"))
        gold = np.load(os.path.join(GOLD, "turn1_logits.npy"))[0]
        lf, greedy = run_package(out, g["turn1_ids"], px, "fp16", greedy=24)
        # float16 has 11 significant bits: logits of magnitude ~4 move by ~2e-3 per rounding; 1e-2 allows a few.
        self.assertLess(np.abs(lf - gold).max(), 1e-2)
        self.assertEqual(greedy, g["turn1_greedy_ids"])
        for tt in (True, False):
            lq, _ = run_package(out, g["turn1_ids"], px, "q4", token_types=tt)
            lqh, _ = run_package(out, g["turn1_ids"], px, "q4f16", token_types=tt)
            # same 4-bit weights; only float16 rounding (and float16 scales) between them: the fp16 bound
            self.assertLess(np.abs(lq - lqh).max(), 1e-2)
            self.assertGreater(float((lq.argmax(-1) == lqh.argmax(-1)).mean()), 0.9)
        # The CPU/WASM runtime's fused decoder in the f16 variants (GroupQueryAttention on the float16 cache):
        # the token-type decoder's numbers within float16 rounding, the same greedy continuation.
        for v in ("fp16", "q4f16"):
            lt, gt = run_package(out, g["turn1_ids"], px, v, greedy=12)
            lfu, gfu = run_package(out, g["turn1_ids"], px, v, greedy=12, decoder="decoder_fused")
            self.assertLess(np.abs(lt - lfu).max(), 1e-2, v)
            self.assertEqual(gfu, gt, v)

    def test_variants_option_errors(self):
        r = build(CKPT, self.p("x"), "--variants", "fp32,int8")
        self.assertEqual(r.returncode, 2)
        self.assertIn("int8", r.stderr)
        self.assertIn("q4f16", r.stderr)
        self.assertFalse(os.path.exists(self.p("x")))


class VisionAttentionTest(Tmp):
    """The three vision attention forms compute the same image features (golden within 1e-4)."""

    @unittest.skipUnless(HAVE_ORT, "needs node + onnxruntime-node (npm ci)")
    def test_forms_agree_with_golden(self):
        g = json.load(open(os.path.join(GOLD, "golden.json")))
        px = np.load(os.path.join(GOLD, "pixel_values.npy"))
        gold = np.load(os.path.join(GOLD, "turn1_logits.npy"))[0]
        # 64 tokens; chunks of 24 leave a remainder chunk of 16
        for form in (["plain"], ["chunked", "--vision-query-chunk", "24"], ["mha"]):
            out = self.p(form[0])
            r = build(CKPT, out, "--quant", "none", "--vision-attention", *form)
            self.assertEqual(r.returncode, 0, r.stderr)
            vis = onnx.load(os.path.join(out, "onnx", "vision_encoder.onnx"), load_external_data=False)
            ops = [n.op_type for n in vis.graph.node]
            self.assertEqual("MultiHeadAttention" in ops, form[0] == "mha")
            if form[0] == "chunked":
                self.assertEqual(ops.count("Softmax"), 2 * 3)  # 2 layers x 3 chunks
            logits, greedy = run_package(out, g["turn1_ids"], px, greedy=24)
            self.assertLess(np.abs(logits - gold).max(), 1e-3, form)
            self.assertEqual(greedy, g["turn1_greedy_ids"], form)
            m = json.load(open(os.path.join(out, "manifest.json")))
            self.assertIn(form[0] if form[0] != "mha" else "MultiHead",
                          m["builder"]["attention"]["vision_encoder"].replace("plain-onnx-query-chunks", "chunked"))


class VariantTest(Tmp):
    """Odd configurations, checked against the numpy reference: prompt logits and greedy continuation."""

    def check(self, ckpt, adapter=None, image=True, steps=6, tol=1e-3, extra=(), token_types=True):
        out = self.p("pkg")
        args = ["--quant", "none", *extra] + (["--adapter", adapter] if adapter else [])
        r = build(ckpt, out, *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        ref = Reference(ckpt, adapter)
        c = ref.c
        rng = np.random.default_rng(5)
        ids = [2, 4, 363, 284, 19]
        if image:
            ids += [c.boi_token_id] + [c.image_token_id] * c.mm_tokens + [c.eoi_token_id]
        ids += [488, 336, 750, 276, 5, 19, 4, 847, 357, 978, 19]
        px = rng.uniform(-1, 1, (1, 3, c.image_size, c.image_size)) if image else None
        logits, greedy = run_package(out, ids, px, greedy=steps, token_types=token_types)
        want = ref.logits(ids, px)
        self.assertLess(np.abs(logits - want).max(), tol)
        seq = list(ids)
        for _ in range(steps):
            seq.append(int(ref.logits(seq, px)[-1].argmax()))
        self.assertEqual(greedy, seq[len(ids):])
        if token_types:  # the CPU/WASM runtime's fused graph: same numbers
            logits_f, greedy_f = run_package(out, ids, px, greedy=steps, decoder="decoder_fused")
            self.assertLess(np.abs(logits_f - want).max(), tol)
            self.assertEqual(greedy_f, seq[len(ids):])
        with open(os.path.join(out, "manifest.json")) as f:
            m = json.load(f)
        shutil.rmtree(out)
        return m

    def test_one_layer(self):
        self.check(make_ckpt(self.p("c"), "--layers", "1", "--seed", "1"))

    def test_no_sliding_layers(self):
        self.check(make_ckpt(self.p("c"), "--layers", "2", "--no-sliding", "--seed", "2"))

    def test_large_head_dim(self):
        self.check(make_ckpt(self.p("c"), "--layers", "2", "--head-dim", "256", "--query-pre-attn-scalar", "256",
                             "--seed", "3", "--std", "0.05"))

    def test_short_window_old_keys_f16_shards(self):
        self.check(make_ckpt(self.p("c"), "--layers", "3", "--sliding-pattern", "2", "--sliding-window", "4",
                             "--key-style", "old", "--names", "new", "--dtype", "f16", "--shards", "3", "--seed", "4"),
                   steps=10)

    def test_gqa_attention_decoder(self):
        # --attention gqa: decoder_model_merged uses GroupQueryAttention (causal + local window), text only.
        ck = make_ckpt(self.p("c"), "--layers", "3", "--sliding-pattern", "2", "--sliding-window", "4", "--seed", "8")
        self.check(ck, image=False, steps=10, extra=("--attention", "gqa"), token_types=False)

    def test_lora_adapter_merged(self):
        ck = make_ckpt(self.p("c"), "--layers", "2", "--seed", "6", "--lora", self.p("lora"))
        m = self.check(ck, adapter=self.p("lora"))
        self.assertTrue(m["builder"]["lora_adapter"])
        self.assertEqual(m["builder"]["lora_merged_tensors"], 2 * 4)  # q, v, o, down in 2 layers


@unittest.skipUnless(HAVE_ORT, "needs node + onnxruntime-node (npm ci)")
class KvWindowTest(Tmp):
    """The runtime decoders' sliding layers keep only their window of the KV cache (PACKAGE.md "KV cache
    forms"): a two-turn chat on the tiny oracle (window 16) crosses the window; every position's logits must
    equal the whole-history numbers (numpy reference; decoder_model_merged, which keeps the whole history,
    for q4), and the sliding layers' cache must stop at 15 positions while the global ones grow."""

    def chunks(self, g):
        """Turn 1 (image prompt), 6 answer tokens one at a time, then 12 more tokens of the conversation as one
        chunk (a follow-up's prefill)."""
        t1 = g["turn1_ids"]
        return [t1] + [[a] for a in g["turn1_greedy_ids"][:6]] + [g["turn2_prompt_ids"][len(t1) + 6:][:12]]

    def test_window_logits_equal_whole_history(self):
        g = json.load(open(os.path.join(GOLD, "golden.json")))
        out = self.p("pkg")
        # accuracy level 0: float32 activations into the 4-bit linears (level 4's int8 rounding turns the
        # float32 summation-order differences of a shorter softmax into ~0.03 logit noise)
        r = build(CKPT, out, "--variants", "fp32,q4", "--accuracy-level", "0")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = json.load(open(os.path.join(out, "manifest.json")))
        self.assertEqual(m["builder"]["kv_cache"]["window"], ["decoder_token_types", "decoder_fused"])
        W = m["model"]["sliding_window"]
        local = [i for i, k in enumerate(m["model"]["layer_types"]) if k == "sliding_attention"]
        self.assertEqual(W, 16)
        px = np.load(os.path.join(GOLD, "pixel_values.npy"))
        chunks = self.chunks(g)
        seq = [i for c in chunks for i in c]
        self.assertGreater(len(seq), 3 * W)
        want = Reference(CKPT).logits(seq, px.astype(np.float64))
        for dec, cap in (("decoder_token_types", None), ("decoder_fused", None), ("decoder_fused", 100)):
            # cap: decoder_fused with its global layers appending in place into 100-row buffers
            logits, meta = run_package(out, [], px, decoder=dec, chunks=chunks, capacity=cap)
            self.assertEqual(logits.shape[0], len(seq))
            self.assertLess(np.abs(logits - want).max(), 1e-3, (dec, cap))
            n = 0
            for c, lens in zip(chunks, meta["kv_lengths"]):
                n += len(c)
                for i, L in enumerate(lens):
                    self.assertEqual(L, min(n, W - 1) if i in local else (cap or n), (dec, i, n))
        # q4, text only: against decoder_model_merged_q4 (whole history, same weights and kernels)
        text = [g["text_only_ids"]] + [[t] for t in g["text_only_greedy_ids"][:20]]
        ref, meta = run_package(out, [], None, "q4", token_types=False, chunks=text)
        self.assertEqual(meta["kv_lengths"][-1][local[0]], sum(map(len, text)))  # whole history there
        for dec in ("decoder_token_types", "decoder_fused"):
            logits, meta = run_package(out, [], None, "q4", decoder=dec, chunks=text)
            self.assertEqual(meta["kv_lengths"][-1][local[0]], W - 1)
            self.assertLess(np.abs(logits - ref).max(), 1e-4, dec)


@unittest.skipUnless(HAVE_ORT, "needs node + onnxruntime-node (npm ci)")
class GoldenVariantTest(Tmp):
    """Other forms of the oracle checkpoint must reproduce the golden outputs too."""

    def test_old_keys_new_names_sharded(self):
        ck = make_ckpt(self.p("c"), "--from", CKPT, "--key-style", "old", "--names", "new", "--shards", "3")
        out = self.p("pkg")
        self.assertEqual(build(ck, out, "--quant", "none").returncode, 0)
        g = json.load(open(os.path.join(GOLD, "golden.json")))
        px = np.load(os.path.join(GOLD, "pixel_values.npy"))
        logits, greedy = run_package(out, g["turn1_ids"], px, greedy=24)
        self.assertLess(np.abs(logits - np.load(os.path.join(GOLD, "turn1_logits.npy"))[0]).max(), 1e-3)
        self.assertEqual(greedy, g["turn1_greedy_ids"])

    def test_medgemma_15_config_style(self):
        # transformers 4.57's keys, as MedGemma 1.5 ships them: layer_types beside rope_scaling / rope_theta /
        # rope_local_base_freq, _sliding_window_pattern, "dtype", use_bidirectional_attention false.
        ck = make_ckpt(self.p("c"), "--from", CKPT, "--key-style", "mixed", "--dtype", "bf16")
        cfg = json.load(open(os.path.join(ck, "config.json")))
        self.assertIn("rope_scaling", cfg["text_config"]); self.assertIn("layer_types", cfg["text_config"])
        self.assertNotIn("rope_parameters", cfg["text_config"]); self.assertIn("dtype", cfg)
        out = self.p("pkg")
        self.assertEqual(build(ck, out, "--quant", "none").returncode, 0)
        g = json.load(open(os.path.join(GOLD, "golden.json")))
        px = np.load(os.path.join(GOLD, "pixel_values.npy"))
        logits, greedy = run_package(out, g["turn1_ids"], px, greedy=24)
        # bf16 weights: the golden logits are of the float32 weights, so only a loose bound holds here;
        # the greedy tokens are compared with the same checkpoint's bf16 values in the old key style.
        ref = self.p("ref")
        self.assertEqual(build(make_ckpt(self.p("c2"), "--from", ck, "--key-style", "old"), ref, "--quant", "none").returncode, 0)
        lr, gr = run_package(ref, g["turn1_ids"], px, greedy=24)
        self.assertLess(np.abs(logits - lr).max(), 1e-5)
        self.assertEqual(greedy, gr)

    def test_q4_lossless_on_4bit_grid(self):
        # Weights already on the 4-bit grid: the q4 package must equal the fp32 one (checks the
        # MatMulNBits / GatherBlockQuantized layouts, not just "it runs").
        ck = make_ckpt(self.p("c"), "--layers", "2", "--q4-grid", "32", "--seed", "7")
        out = self.p("pkg")
        self.assertEqual(build(ck, out, "--accuracy-level", "0").returncode, 0)
        ids = [2, 4, 363, 284, 19, 6] + [8] * 16 + [7, 488, 336, 750, 276, 5, 19, 4, 847]
        px = np.random.default_rng(1).uniform(-1, 1, (1, 3, 64, 64))
        lf, gf = run_package(out, ids, px, "fp32", greedy=8)
        lq, gq = run_package(out, ids, px, "q4", greedy=8)
        self.assertLess(np.abs(lf - lq).max(), 1e-3)
        self.assertEqual(gf, gq)

    def test_q4_lm_head_in_vocabulary_slices(self):
        # A vocabulary over LM_HEAD_ROWS: the 4-bit lm_head is one MatMulNBits per 32,768 rows (the last one
        # partial) joined by a Concat, and still equals the fp32 package on the 4-bit grid.
        ck = make_ckpt(self.p("c"), "--layers", "1", "--vocab", "40000", "--q4-grid", "32", "--seed", "3")
        out = self.p("pkg")
        self.assertEqual(build(ck, out, "--accuracy-level", "0").returncode, 0)
        dec = onnx.load(os.path.join(out, "onnx", "decoder_fused_q4.onnx"), load_external_data=False)
        heads = [n for n in dec.graph.node if n.op_type == "MatMulNBits"
                 and any(a.name == "N" and a.i in (32768, 40000 - 32768) for a in n.attribute)]
        self.assertEqual(len(heads), 2)
        ids = [2, 4, 363, 284, 19, 6] + [8] * 16 + [7, 488, 336, 750, 276, 5, 19, 4, 847]
        px = np.random.default_rng(1).uniform(-1, 1, (1, 3, 64, 64))
        lf, gf = run_package(out, ids, px, "fp32", greedy=8)
        lq, gq = run_package(out, ids, px, "q4", greedy=8)
        self.assertEqual(lf.shape[-1], 40000)
        self.assertLess(np.abs(lf - lq).max(), 1e-3)
        self.assertEqual(gf, gq)



@unittest.skipUnless(HAVE_ORT, "needs node + @huggingface/transformers (npm ci)")
class TokenizerJsonTest(Tmp):
    """tokenizer.json (for transformers.js) must tokenize like tokenizer.model (SentencePiece)."""

    SAMPLES = ["Sessile polyp, 12 mm, in the sigmoid colon at 25 cm.",
               "  two  spaces\tand a tab\n\nnew lines  ",
               "Ünïcödé mucosa — erythema ✓ 日本語 🙂",
               "<start_of_turn>user\nDescribe<end_of_turn>\n<start_of_turn>model\n",
               "Paris classification 0-IIa+IIc; NICE type 2; Boston bowel prep 3/3/2=8",
               ""]

    def test_matches_sentencepiece(self):
        try:
            import sentencepiece as spm
        except ImportError:
            self.skipTest("python3-sentencepiece not installed (scripts/setup.sh installs it)")
        out = self.p("pkg")
        self.assertEqual(build(CKPT, out, "--quant", "none").returncode, 0)
        sp = spm.SentencePieceProcessor(model_file=os.path.join(CKPT, "tokenizer.model"))
        want = [sp.encode(s) for s in self.SAMPLES]
        script = ("import { AutoTokenizer, env } from '@huggingface/transformers';"
                  "env.allowRemoteModels = false; env.localModelPath = '/';"
                  "const t = await AutoTokenizer.from_pretrained(process.argv[1]);"
                  "const s = JSON.parse(process.argv[2]);"
                  "console.log(JSON.stringify(s.map((x) => t.encode(x, { add_special_tokens: false }))));")
        r = subprocess.run([NODE, "--input-type=module", "-e", script, out, json.dumps(self.SAMPLES)],
                           capture_output=True, text=True, cwd=ROOT, check=True)
        got = json.loads(r.stdout.strip().splitlines()[-1])
        for s, w, g in zip(self.SAMPLES, want, got):
            self.assertEqual(g, w, s)


if __name__ == "__main__":
    unittest.main()
