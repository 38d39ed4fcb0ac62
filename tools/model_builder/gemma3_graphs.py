"""The three Gemma-3 VLM graphs (vision_encoder, embed_tokens, decoder) written with plain ONNX ops,
4-bit linears as com.microsoft MatMulNBits and 4-bit embeddings as GatherBlockQuantized.
Semantics follow Hugging Face transformers' Gemma3ForConditionalGeneration exactly."""
import math

import numpy as np
from onnx import TensorProto

from . import BuildError
from .onnx_graph import MS_DOMAIN
from .quant import pack_nibbles, quantize_rows

F, F16, I64 = TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.INT64
ROWS_PER_CHUNK = 8192
# Vocabulary rows per 4-bit lm_head MatMulNBits. onnxruntime's CPU kernel, where MLAS has no 4-bit GEMM
# (the WASM EP), dequantises its whole weight to float32 for every run: one 262k x 2560 lm_head would need
# a 2.7 GB buffer, past what a 4 GiB WASM heap has left beside MedGemma's weights; slices of 32k rows need
# 335 MB, and their 4-bit data (42 MB) fits a WebGPU adapter's 128 MiB storage-buffer limit.
LM_HEAD_ROWS = 32768
NEG = float(np.finfo(np.float32).min)
ROPE_LO = 64


class QuantOptions:
    """What one package variant stores: 4-bit linears/embeddings (enabled) and float16 (f16) weights and
    activations at every linear, with float16 graph I/O and KV cache (PACKAGE.md, "Variants")."""

    def __init__(self, enabled=False, block_size=32, decoder=True, lm_head=True, embeddings=True, vision=True,
                 accuracy_level=4, f16=False, vision_attention="chunked", vision_query_chunk=512):
        if block_size < 16 or block_size & (block_size - 1):
            raise BuildError(f"--block-size must be a power of two >= 16 (got {block_size})")
        if vision_attention not in VISION_ATTENTION:
            raise BuildError(f"--vision-attention must be one of {', '.join(VISION_ATTENTION)} (got {vision_attention})")
        self.enabled, self.block = enabled, block_size
        self.decoder, self.lm_head, self.embeddings, self.vision = decoder, lm_head, embeddings, vision
        self.accuracy_level = accuracy_level
        self.f16 = f16
        self.vision_attention, self.vision_query_chunk = vision_attention, int(vision_query_chunk)

    @property
    def act(self):
        """ONNX element type of the variant's graph I/O activations and KV cache."""
        return F16 if self.f16 else F


VISION_ATTENTION = ("mha", "chunked", "plain")


class Weights:
    """Writes checkpoint tensors into a WeightStore in the form a graph needs, once per store."""

    def __init__(self, ckpt, store, quant, progress=None):
        self.ck, self.store, self.q, self.progress = ckpt, store, quant, progress
        self._casts = {}

    def to_f16(self, g, x):
        """x cast to float16, once per value per graph (gate and up projections share one cast)."""
        k = (id(g), x)
        if k not in self._casts:
            self._casts[k] = g.op("Cast", [x], to=F16)
        return self._casts[k]

    def _tick(self):
        if self.progress:
            self.progress.step()

    def plain(self, g, key, transform=None, dtype=np.float32):
        name = key + ("" if transform is None else "." + transform.__name__)
        if not self.store.has(name):
            a = self.ck.f32(key)
            if transform is not None:
                a = transform(a)
            self.store.add_array(name, a.astype(dtype)); self._tick()
        return g.weight(name)

    def rope_tables(self, kind, inv_freq, max_positions):
        """cos/sin of position x inv_freq split as position = ROPE_LO * hi + lo (float64 maths, stored float32)."""
        names = [f"rope.{kind}.{n}" for n in ("cos_hi", "sin_hi", "cos_lo", "sin_lo")]
        if not self.store.has(names[0]):
            inv = inv_freq.astype(np.float64)
            hi = np.arange(-(-max_positions // ROPE_LO), dtype=np.float64)[:, None] * ROPE_LO * inv[None]
            lo = np.arange(ROPE_LO, dtype=np.float64)[:, None] * inv[None]
            for n, a in zip(names, (np.cos(hi), np.sin(hi), np.cos(lo), np.sin(lo))):
                self.store.add_array(n, a.astype(np.float32))
        return names

    def big_rows(self, g, key, name, dtype=np.float32):
        """A huge [rows, cols] tensor (the embeddings), streamed in row chunks, stored as is (or as float16)."""
        if not self.store.has(name):
            rows, cols = self.ck.info(key)["shape"]
            gen = (self.ck.rows_f32(key, r, r + ROWS_PER_CHUNK).astype(dtype) for r in range(0, rows, ROWS_PER_CHUNK))
            self.store.add(name, dtype, (rows, cols), gen, rows * cols * np.dtype(dtype).itemsize); self._tick()
        return g.weight(name)

    def _rows(self, key, kn=False):
        """(N, K, rows_fn) for a weight seen as [N = out, K = in]."""
        shape = self.ck.info(key)["shape"]
        if kn or (self.ck.adapter and key in self.ck.adapter.pairs):
            full = self.ck.f32(key)
            if kn:
                full = np.ascontiguousarray(full.T)
            return full.shape[0], full.shape[1], lambda r0, r1: full[r0:r1]
        return shape[0], shape[1], lambda r0, r1: self.ck.rows_f32(key, r0, r1)

    def q4_rows(self, key, name, kn=False, rows=None):
        """4-bit quantise a weight streaming row chunks; returns (packed, scales, zero points, N, K) names/sizes.
        packed is [N, nb, block/2] uint8, scales [N*nb] float32, zero points [N*ceil(nb/2)] uint8.
        rows=(a, b): only rows [a, b) (blocks run along K, so a slice quantises as in the whole)."""
        N, K, rows_fn = self._rows(key, kn)
        if rows is not None:
            a, b = rows
            N, whole = b - a, rows_fn
            rows_fn = lambda r0, r1: whole(a + r0, a + r1)  # noqa: E731
            name = f"{name}.rows{a}"
        bs = self.q.block
        nb = -(-K // bs)
        pn, sn, zn = name + ".q4", name + ".scales", name + ".zero_points"
        if not self.store.has(pn):
            scales, zps = [], []

            def gen():
                for r in range(0, N, ROWS_PER_CHUNK):
                    packed, s, z = quantize_rows(rows_fn(r, min(N, r + ROWS_PER_CHUNK)), bs)
                    scales.append(s); zps.append(pack_nibbles(z))
                    yield packed
            self.store.add(pn, np.uint8, (N, nb, bs // 2), gen(), N * nb * (bs // 2))
            # q4f16: float16 scales, as MatMulNBits / GatherBlockQuantized want them for float16 activations.
            self.store.add_array(sn, np.concatenate(scales).reshape(-1).astype(np.float16 if self.q.f16 else np.float32))
            self.store.add_array(zn, np.concatenate(zps).reshape(-1))
            self._tick()
        return pn, sn, zn, N, K

    def linear(self, g, x, key, quantise, bias_key=None, kn=False):
        """x @ W^T (+ b) for a Hugging Face [out, in] weight; kn=True for a weight already stored [in, out].
        float16 variants: the product runs in float16 (weights and its input/output activations), the
        result is cast back to float32 for the residual stream and norms (Gemma-3's residual stream
        exceeds float16's range in real checkpoints)."""
        f16 = self.q.f16
        xin = self.to_f16(g, x) if f16 else x
        if quantise:
            pn, sn, zn, N, K = self.q4_rows(key, key + (".T" if kn else ""), kn)
            y = g.op("MatMulNBits", [xin, g.weight(pn), g.weight(sn), g.weight(zn)], domain=MS_DOMAIN,
                     K=K, N=N, bits=4, block_size=self.q.block, accuracy_level=self.q.accuracy_level)
        else:
            w = self.plain(g, key, None if kn else _T, np.float16 if f16 else np.float32)
            y = g.op("MatMul", [xin, w])
        if f16:
            y = g.op("Cast", [y], to=F)
        if bias_key:
            y = g.op("Add", [y, self.plain(g, bias_key)])
        return y


def _T(a):
    return np.ascontiguousarray(a.T)


def _one_plus(a):
    return (a.astype(np.float32) + np.float32(1.0)).astype(np.float32)


def rms_norm(g, W, x, key, eps):
    """Gemma RMSNorm: x * rsqrt(mean(x^2) + eps) * (1 + w), in float32."""
    ms = g.op("ReduceMean", [g.op("Mul", [x, x])], axes=[-1], keepdims=1)
    y = g.op("Div", [x, g.op("Sqrt", [g.op("Add", [ms, g.const(eps)])])])
    return g.op("Mul", [y, W.plain(g, key, _one_plus)])


def gelu_tanh(g, x):
    x3 = g.op("Mul", [g.op("Mul", [x, x]), x])
    inner = g.op("Mul", [g.op("Add", [x, g.op("Mul", [x3, g.const(0.044715)])]), g.const(math.sqrt(2.0 / math.pi))])
    return g.op("Mul", [g.op("Mul", [x, g.const(0.5)]), g.op("Add", [g.op("Tanh", [inner]), g.const(1.0)])])


def shape_dim(g, x, i):
    return g.op("Shape", [x], start=i, end=i + 1)


# ----------------------------------------------------------------------------- vision encoder

def build_vision(g, W, cfg, quantise):
    """SigLIP tower + Gemma-3 projector. pixel_values is float32 in every variant (transformers.js feeds
    its processor's float32 output unchanged); image_features has the variant's activation type, like the
    embeddings the runtime splices it into."""
    V, nh = cfg.v_hidden, cfg.v_heads
    hd = V // nh
    px = g.input("pixel_values", F, ["batch_size", cfg.channels, cfg.image_size, cfg.image_size])
    x = g.op("Conv", [px, W.plain(g, "vision.embeddings.patch_embedding.weight"),
                      W.plain(g, "vision.embeddings.patch_embedding.bias")],
             kernel_shape=[cfg.patch, cfg.patch], strides=[cfg.patch, cfg.patch])
    x = g.op("Transpose", [g.op("Reshape", [x, g.const([0, V, -1], np.int64)])], perm=[0, 2, 1])
    x = g.op("Add", [x, W.plain(g, "vision.embeddings.position_embedding.weight")])

    def ln(x, key):
        return g.op("LayerNormalization", [x, W.plain(g, key + ".weight"), W.plain(g, key + ".bias")],
                    axis=-1, epsilon=cfg.v_eps)

    for i in range(cfg.v_layers):
        p = f"vision.encoder.layers.{i}."
        h = ln(x, p + "layer_norm1")
        q, k, v = (W.linear(g, h, p + f"self_attn.{n}.weight", quantise, p + f"self_attn.{n}.bias")
                   for n in ("q_proj", "k_proj", "v_proj"))
        a = vision_attention(g, q, k, v, V, nh, cfg.patches_side ** 2, W.q.vision_attention, W.q.vision_query_chunk)
        x = g.op("Add", [x, W.linear(g, a, p + "self_attn.out_proj.weight", quantise, p + "self_attn.out_proj.bias")])
        h = ln(x, p + "layer_norm2")
        h = gelu_tanh(g, W.linear(g, h, p + "mlp.fc1.weight", quantise, p + "mlp.fc1.bias"))
        x = g.op("Add", [x, W.linear(g, h, p + "mlp.fc2.weight", quantise, p + "mlp.fc2.bias")])
    x = ln(x, "vision.post_layernorm")
    # Gemma3MultiModalProjector: average-pool the patch grid to mm_tokens, RMSNorm, project to text width.
    n = cfg.patches_side
    x = g.op("Reshape", [g.op("Transpose", [x], perm=[0, 2, 1]), g.const([0, V, n, n], np.int64)])
    x = g.op("AveragePool", [x], kernel_shape=[cfg.pool, cfg.pool], strides=[cfg.pool, cfg.pool])
    x = g.op("Transpose", [g.op("Reshape", [x, g.const([0, V, -1], np.int64)])], perm=[0, 2, 1])
    x = rms_norm(g, W, x, "proj.mm_soft_emb_norm.weight", cfg.v_eps)
    y = W.linear(g, x, "proj.mm_input_projection_weight", quantise, kn=True)
    if W.q.f16:
        y = g.op("Cast", [y], to=F16)
    g.output(y, "image_features", W.q.act, ["batch_size", cfg.mm_tokens, cfg.hidden])


def vision_attention(g, q, k, v, width, heads, tokens, form="chunked", query_chunk=512):
    """Bidirectional softmax(q k^T / sqrt(d)) v over the patch tokens; q, k, v, result [B, tokens, width].
    At 896 px a full score matrix is 16 heads x 4096 x 4096 x 4 B = 1 GiB per layer (plus the softmax's
    copy); README "Vision attention" has the measurements behind the default.
      chunked: plain ONNX ops, queries in chunks of query_chunk rows (scores tokens/query_chunk x smaller);
               the default: runs on every EP
      mha:     com.microsoft MultiHeadAttention (least memory on onnxruntime's CPU EP, which runs flash
               attention; onnxruntime-web 1.30's WASM EP fails at 4096 tokens with an integer overflow)
      plain:   plain ONNX ops, the whole score matrix"""
    hd = width // heads
    if form == "mha":
        return g.op("MultiHeadAttention", [q, k, v], domain=MS_DOMAIN, num_heads=heads, scale=float(hd ** -0.5))

    def split_heads(t):
        return g.op("Transpose", [g.op("Reshape", [t, g.const([0, 0, heads, hd], np.int64)])], perm=[0, 2, 1, 3])
    # The scale goes on q (tokens x hd) rather than on the scores (tokens x tokens).
    qh = split_heads(g.op("Mul", [q, g.const(hd ** -0.5)]))
    kT = g.op("Transpose", [g.op("Reshape", [k, g.const([0, 0, heads, hd], np.int64)])], perm=[0, 2, 3, 1])
    vh = split_heads(v)
    if form == "chunked" and 0 < query_chunk < tokens:
        sizes = [query_chunk] * (tokens // query_chunk) + ([tokens % query_chunk] if tokens % query_chunk else [])
        parts = g.op("Split", [qh, g.const(sizes, np.int64)], n_out=len(sizes), axis=2)
        parts = parts if isinstance(parts, list) else [parts]
        outs = [g.op("MatMul", [g.op("Softmax", [g.op("MatMul", [qc, kT])], axis=-1), vh]) for qc in parts]
        a = g.op("Concat", outs, axis=2)
    else:
        a = g.op("MatMul", [g.op("Softmax", [g.op("MatMul", [qh, kT])], axis=-1), vh])
    return g.op("Reshape", [g.op("Transpose", [a], perm=[0, 2, 1, 3]), g.const([0, 0, width], np.int64)])


# ----------------------------------------------------------------------------- embed_tokens

def _nibbles(g, x):
    """uint8 [..., m] -> float32 [..., m, 2]: each byte's low then high 4-bit value (floor(x/16) is exact in
    float32 for 0..255)."""
    xf = g.op("Cast", [x], to=F)
    hi = g.op("Floor", [g.op("Mul", [xf, g.const(np.float32(1 / 16))])])
    lo = g.op("Sub", [xf, g.op("Mul", [hi, g.const(np.float32(16))])])
    last = g.const([-1], np.int64)
    return g.op("Concat", [g.op("Unsqueeze", [lo, last]), g.op("Unsqueeze", [hi, last])], axis=-1)


def build_embed(g, W, cfg, quantise):
    """input_ids -> inputs_embeds x sqrt(hidden), in the variant's activation type (float16 for fp16/q4f16).
    4-bit rows are dequantised with plain ONNX ops, (q - zero point) x scale in float32 as com.microsoft
    GatherBlockQuantized computes it: onnxruntime-web's WebGPU build has no CPU kernel for that op, and the
    app runs the embeddings on the WASM EP (tools/model_builder/README.md)."""
    ids = g.input("input_ids", I64, ["batch_size", "sequence_length"])
    f16 = W.q.f16
    if quantise:
        pn, sn, zn, N, K = W.q4_rows("text.embed_tokens.weight", "embed_tokens.weight")
        bs = W.q.block
        nb = -(-K // bs)
        zb = (nb + 1) // 2
        rows = g.op("Gather", [g.weight(pn), ids], axis=0)                                   # [B, S, nb, bs/2] uint8
        q = g.op("Reshape", [_nibbles(g, rows), g.const([0, 0, nb, bs], np.int64)])         # [B, S, nb, bs]
        zp = g.op("Gather", [g.op("Reshape", [g.weight(zn), g.const([N, zb], np.int64)]), ids], axis=0)
        zp = g.op("Reshape", [_nibbles(g, zp), g.const([0, 0, 2 * zb], np.int64)])
        if 2 * zb != nb:
            zp = g.op("Slice", [zp, g.const([0], np.int64), g.const([nb], np.int64), g.const([2], np.int64)])
        sc = g.op("Gather", [g.op("Reshape", [g.weight(sn), g.const([N, nb], np.int64)]), ids], axis=0)
        if f16:
            sc = g.op("Cast", [sc], to=F)
        last = g.const([-1], np.int64)
        e = g.op("Mul", [g.op("Sub", [q, g.op("Unsqueeze", [zp, last])]), g.op("Unsqueeze", [sc, last])])
        e = g.op("Reshape", [e, g.const([0, 0, nb * bs], np.int64)])
        if nb * bs != K:
            e = g.op("Slice", [e, g.const([0], np.int64), g.const([K], np.int64), g.const([2], np.int64)])
    else:
        e = g.op("Gather", [W.big_rows(g, "text.embed_tokens.weight", "embed_tokens.weight",
                                       np.float16 if f16 else np.float32), ids], axis=0)
        if f16:  # the scale is applied in float32, then rounded once
            e = g.op("Cast", [e], to=F)
    y = g.op("Mul", [e, g.const(np.float32(math.sqrt(cfg.hidden)))])
    if f16:
        y = g.op("Cast", [y], to=F16)
    g.output(y, "inputs_embeds", W.q.act, ["batch_size", "sequence_length", cfg.hidden])


# ----------------------------------------------------------------------------- decoder

def rope_inv_freq(D, base, factor):
    inv = (np.float32(1.0) / (np.float32(base) ** (np.arange(0, D, 2, dtype=np.int64).astype(np.float32) / np.float32(D)))).astype(np.float32)
    return (inv / np.float32(factor)).astype(np.float32)


def build_decoder(g, W, cfg, quant, token_types=False, attention="plain", logits_to_keep=False, kv_window=False):
    """token_types / logits_to_keep add the EndoScribe runtime's inputs `token_type_ids` and
    `num_logits_to_keep` (both required: onnxruntime's JS API drops optional inputs from inputNames).
    kv_window (token types only): the sliding layers' KV cache keeps only their window (PACKAGE.md)."""
    H, D, nH, nKV = cfg.hidden, cfg.head_dim, cfg.heads, cfg.kv_heads
    if kv_window and not token_types:
        raise BuildError("internal: the windowed KV cache needs the token-type interface")
    if attention == "fused":
        return _build_fused_decoder(g, W, cfg, quant, token_types, logits_to_keep, kv_window)
    gqa = attention == "gqa"
    if gqa and token_types:
        raise BuildError("internal: GroupQueryAttention cannot express the token-type (image) mask")
    ql, qh = quant.enabled and quant.decoder, quant.enabled and quant.lm_head
    x, am, pos, past, tti, keep = _decoder_inputs(g, cfg, quant, token_types, logits_to_keep, kv_window)
    masks, S, P, T, _ = _mask_biases(g, cfg, x, am, pos, past, tti, gqa, rank=5, window=kv_window)
    if gqa:
        # GroupQueryAttention takes the mask as per-row lengths: (tokens seen - 1) and the total length.
        sc = lambda t: g.op("Squeeze", [t, g.const([0], np.int64)])  # noqa: E731
        seqlens = g.op("Cast", [g.op("Sub", [g.op("ReduceSum", [am, g.const([1], np.int64)], keepdims=0),
                                             g.const(1, np.int64)])], to=TensorProto.INT32)
        total32 = g.op("Cast", [sc(shape_dim(g, am, 1))], to=TensorProto.INT32)
    rope = _rope_cos_sin(g, W, cfg, pos, ax=2 if gqa else 1)

    def apply_rope(t, kind):
        cos, sin = rope[kind]
        a, b = g.op("Split", [t], n_out=2, axis=-1)
        rot = g.op("Concat", [g.op("Neg", [b]), a], axis=-1)
        return g.op("Add", [g.op("Mul", [t, cos]), g.op("Mul", [rot, sin])])

    scale = None if gqa else g.const(cfg.query_pre_attn_scalar ** -0.5)
    for i in range(cfg.layers):
        p, kind = f"text.layers.{i}.", cfg.layer_types[i]
        h = rms_norm(g, W, x, p + "input_layernorm.weight", cfg.eps)

        def proj(name, n):
            t = W.linear(g, h, p + f"self_attn.{name}.weight", ql)
            t = g.op("Reshape", [t, g.const([0, 0, n, D], np.int64)])
            return t if gqa else g.op("Transpose", [t], perm=[0, 2, 1, 3])
        if gqa:  # [B, S, heads, D] layout, RoPE applied here (after q/k norm), attention by the contrib op
            q = apply_rope(rms_norm(g, W, proj("q_proj", nH), p + "self_attn.q_norm.weight", cfg.eps), kind)
            k = apply_rope(rms_norm(g, W, proj("k_proj", nKV), p + "self_attn.k_norm.weight", cfg.eps), kind)
            v = W.linear(g, h, p + "self_attn.v_proj.weight", ql)
            flat = lambda t, n: g.op("Reshape", [t, g.const([0, 0, n * D], np.int64)])  # noqa: E731
            a, pk, pv = g.op("GroupQueryAttention", [kv_store(g, W, flat(q, nH)), kv_store(g, W, flat(k, nKV)),
                                                     kv_store(g, W, v), past[i][0], past[i][1], seqlens, total32],
                           n_out=3, domain=MS_DOMAIN, num_heads=nH, kv_num_heads=nKV,
                           scale=cfg.query_pre_attn_scalar ** -0.5, softcap=float(cfg.attn_softcap or 0.0),
                           local_window_size=(cfg.sliding_window if kind == "sliding_attention" else -1))
            a = kv_load(g, W, a)
            g.op("Identity", [pk], name=f"present.{i}.key")
            g.op("Identity", [pv], name=f"present.{i}.value")
        else:
            a = _plain_attention(g, W, cfg, p, kind, proj, apply_rope, past[i], masks, scale, i,
                                 kv_window and kind == "sliding_attention")
        a = W.linear(g, a, p + "self_attn.o_proj.weight", ql)
        x = g.op("Add", [x, rms_norm(g, W, a, p + "post_attention_layernorm.weight", cfg.eps)])
        h = rms_norm(g, W, x, p + "pre_feedforward_layernorm.weight", cfg.eps)
        m = g.op("Mul", [gelu_tanh(g, W.linear(g, h, p + "mlp.gate_proj.weight", ql)),
                         W.linear(g, h, p + "mlp.up_proj.weight", ql)])
        m = W.linear(g, m, p + "mlp.down_proj.weight", ql)
        x = g.op("Add", [x, rms_norm(g, W, m, p + "post_feedforward_layernorm.weight", cfg.eps)])
    return _finish(g, W, cfg, x, qh, H, keep, kv_window=kv_window)


def _decoder_inputs(g, cfg, quant, token_types, logits_to_keep, kv_window=False):
    """The decoders' inputs; inputs_embeds and the KV cache in the variant's activation type (float16 in
    fp16/q4f16), inputs_embeds returned cast to float32 for the residual stream."""
    H, D, nKV = cfg.hidden, cfg.head_dim, cfg.kv_heads
    act = quant.act
    x = g.input("inputs_embeds", act, ["batch_size", "sequence_length", H])
    am = g.input("attention_mask", I64, ["batch_size", "total_sequence_length"])
    pos = g.input("position_ids", I64, ["batch_size", "sequence_length"])
    past = []
    for i in range(cfg.layers):
        # windowed sliding layers: their own past length (at most sliding_window - 1)
        pdim = "past_local_sequence_length" if kv_window and cfg.layer_types[i] == "sliding_attention" else "past_sequence_length"
        past.append((g.input(f"past_key_values.{i}.key", act, ["batch_size", nKV, pdim, D]),
                     g.input(f"past_key_values.{i}.value", act, ["batch_size", nKV, pdim, D])))
    tti = g.input("token_type_ids", I64, ["batch_size", "sequence_length"]) if token_types else None
    # An int64 scalar, as transformers.js feeds it (onnx's checker wants a declared rank); 0 = all positions.
    keep = g.input("num_logits_to_keep", I64, []) if logits_to_keep else None
    if quant.f16:
        x = g.op("Cast", [x], to=F)
    return x, am, pos, past, tti, keep


def _mask_biases(g, cfg, x, am, pos, past, tti, gqa, rank, window=False):
    """Additive masks per layer kind, [B, 1, 1, S, T] (rank 5) or [B, 1, S, T] (rank 4): causal (+ window)
    AND padding (AND branch, with token types), OR same-image (token types). GQA (gqa=True) masks by
    lengths instead: returns {}.
    Returns (masks, S, P, T, lengths): lengths[kind] = (P_kind, T_kind), the past and total key counts the
    layers of that kind attend over.
    With token types the past length is taken from attention_mask ([B, P + S]), not from the past tensors,
    so a global layer's past may be a longer preallocated buffer (shared past/present buffer, PACKAGE.md
    "KV cache forms"). window=True: the sliding layers' past holds only the last positions (at most
    sliding_window - 1), its own length P_local = dim 2 of their past; their mask then covers
    P_local + S keys, the last ones of attention_mask."""
    S = shape_dim(g, x, 1)
    if tti is not None:
        P = g.op("Sub", [shape_dim(g, am, 1), S])
    else:
        P = shape_dim(g, past[0][0], 2)
    T = g.op("Add", [P, S])
    sc = lambda t: g.op("Squeeze", [t, g.const([0], np.int64)])
    lengths = {"full_attention": (P, T), "sliding_attention": (P, T)}
    local = [i for i, k in enumerate(cfg.layer_types) if k == "sliding_attention"]
    if window and local:
        Pl = shape_dim(g, past[local[0]][0], 2)
        lengths["sliding_attention"] = (Pl, g.op("Add", [Pl, S]))
    if tti is None:
        qi = g.op("Range", [sc(P), sc(T), g.const(1, np.int64)])
        ki = g.op("Range", [g.const(0, np.int64), sc(T), g.const(1, np.int64)])
        diff = g.op("Sub", [g.op("Unsqueeze", [qi, g.const([1], np.int64)]), g.op("Unsqueeze", [ki, g.const([0], np.int64)])])
        causal = g.op("GreaterOrEqual", [diff, g.const(0, np.int64)])
        pad = g.op("Unsqueeze", [g.op("Cast", [am], to=TensorProto.BOOL), g.const([1, 2], np.int64)])  # [B,1,1,T]

        def bias(ok):
            ok = g.op("And", [ok, pad])
            b = g.op("Where", [ok, g.const(0.0), g.const(NEG)])
            return g.op("Unsqueeze", [b, g.const([1], np.int64)]) if rank == 5 else b
        masks = {}
        if not gqa:
            masks["full_attention"] = bias(causal)
            if "sliding_attention" in cfg.layer_types:
                masks["sliding_attention"] = bias(g.op("And", [causal, g.op("Less", [diff, g.const(cfg.sliding_window, np.int64)])]))
        return masks, S, P, T, lengths

    def u(t, ax):
        return g.op("Unsqueeze", [t, g.const([ax], np.int64)])
    B = shape_dim(g, x, 0)
    img = g.op("Equal", [tti, g.const(1, np.int64)])                                               # [B,S]
    # prev[b, s] = img[b, s-1] (0 for s=0), i.e. img shifted right by one
    prev = g.op("Concat", [g.op("ConstantOfShape", [g.op("Concat", [B, g.const([1], np.int64)], axis=0)],
                                value=_i64_tensor(0)),
                           g.op("Slice", [g.op("Cast", [img], to=TensorProto.INT64), g.const([0], np.int64),
                                          g.const([-1], np.int64), g.const([1], np.int64)])], axis=1)
    start = g.op("And", [img, g.op("Not", [g.op("Cast", [prev], to=TensorProto.BOOL)])])
    gid = g.op("CumSum", [g.op("Cast", [start], to=TensorProto.INT64), g.const(1, np.int64)])
    same = g.op("Equal", [u(gid, 2), u(gid, 1)])
    both = g.op("And", [u(img, 2), u(img, 1)])
    cur = g.op("And", [same, both])                                                                # [B,S,S]
    pos0 = g.op("Slice", [pos, g.const([0], np.int64), g.const([1], np.int64), g.const([1], np.int64)])   # [B,1]
    am_bool = g.op("Cast", [am], to=TensorProto.BOOL)

    def keys(Pk, Tk):
        """What the new tokens may see of Pk cached keys + themselves: (causal AND branch, bidir, pad, diff).
        The cached keys are the last Pk positions before pos0 (all of them when Pk = P)."""
        zshape = g.op("Concat", [B, S, Pk], axis=0)
        zeros = g.op("Cast", [g.op("ConstantOfShape", [zshape], value=_i64_tensor(0))], to=TensorProto.BOOL)
        bidir = u(g.op("Concat", [zeros, cur], axis=2), 1)                                      # [B,1,S,Tk]
        # Branches: new tokens of type b >= 2 see the cache, earlier plain new tokens and their own branch only,
        # so several continuations of one prefix (e.g. classification labels) run as one sequence. Distances
        # (causal order, sliding window) are then taken on positions, not cache indices: key positions are
        # the cache's (counting real tokens, as position_ids do) followed by the new tokens' position_ids.
        kpast = g.op("Add", [u(g.op("Range", [g.const(0, np.int64), sc(Pk), g.const(1, np.int64)]), 0),
                             g.op("Sub", [pos0, Pk])])                                             # [B,Pk]
        kpos = g.op("Concat", [kpast, pos], axis=1)                                                # [B,Tk]
        diff = u(g.op("Sub", [u(pos, 2), u(kpos, 1)]), 1)                                          # [B,1,S,Tk]
        ktype = g.op("Concat", [g.op("ConstantOfShape", [g.op("Concat", [B, Pk], axis=0)],
                                     value=_i64_tensor(0)), tti], axis=1)                         # [B,Tk]
        branch_ok = g.op("Or", [g.op("Less", [u(ktype, 1), g.const(2, np.int64)]),
                                g.op("Equal", [u(tti, 2), u(ktype, 1)])])                          # [B,S,Tk]
        causal = g.op("And", [g.op("GreaterOrEqual", [diff, g.const(0, np.int64)]), u(branch_ok, 1)])
        # attention_mask's last Tk columns (all of it when Tk = T)
        amk = g.op("Slice", [am_bool, g.op("Neg", [Tk]), g.const([np.iinfo(np.int64).max], np.int64), g.const([1], np.int64)])
        pad = u(u(amk, 1), 1)                                                                      # [B,1,1,Tk]
        return causal, bidir, pad, diff

    def bias(ok, bidir, pad):
        ok = g.op("And", [g.op("Or", [ok, bidir]), pad])
        b = g.op("Where", [ok, g.const(0.0), g.const(NEG)])
        return g.op("Unsqueeze", [b, g.const([1], np.int64)]) if rank == 5 else b                  # [B,1,(1,)S,T]

    masks = {}
    causal, bidir, pad, diff = keys(P, T)
    masks["full_attention"] = bias(causal, bidir, pad)
    if "sliding_attention" in cfg.layer_types:
        if lengths["sliding_attention"][0] is not P:
            causal, bidir, pad, diff = keys(*lengths["sliding_attention"])
        win = g.op("Less", [diff, g.const(cfg.sliding_window, np.int64)])
        masks["sliding_attention"] = bias(g.op("And", [causal, win]), bidir, pad)
    return masks, S, P, T, lengths


def _keep_window(g, cfg, t, name):
    """The last sliding_window - 1 positions (dim 2) of a KV tensor: what a sliding layer's next query
    (which sees positions q - W + 1 .. q) needs besides itself."""
    keep = cfg.sliding_window - 1
    start = -keep if keep > 0 else np.iinfo(np.int64).max
    return g.op("Slice", [t, g.const([start], np.int64), g.const([np.iinfo(np.int64).max], np.int64),
                          g.const([2], np.int64)], name=name)


def _rope_cos_sin(g, W, cfg, pos, ax=None, half=False):
    """RoPE cos/sin per layer kind for the new tokens' positions: [B, S, D] (half: [B, S, D/2]), unsqueezed
    at `ax` when given. Looked up rather than computed: WGSL's cos/sin are only accurate near [-pi, pi]
    (spec: 2^-11 absolute), and angles reach position x 1 rad. cos(hi + lo) = cos_hi cos_lo - sin_hi sin_lo
    with position = 64 hi + lo keeps the tables small (4 MiB for MedGemma's 131072 positions) and exact to
    float32 rounding."""
    D = cfg.head_dim
    lo_n = np.int64(ROPE_LO)
    hi_i = g.op("Div", [pos, g.const(lo_n, np.int64)])
    lo_i = g.op("Sub", [pos, g.op("Mul", [hi_i, g.const(lo_n, np.int64)])])
    rope = {}
    for kind, (base, factor) in (("full_attention", cfg.rope_global), ("sliding_attention", cfg.rope_local)):
        if kind not in cfg.layer_types:
            continue
        names = W.rope_tables(kind, rope_inv_freq(D, base, factor), cfg.max_positions)
        ch, sh, cl, sl = (g.op("Gather", [g.weight(n), idx], axis=0)
                          for n, idx in zip(names, (hi_i, hi_i, lo_i, lo_i)))
        cos = g.op("Sub", [g.op("Mul", [ch, cl]), g.op("Mul", [sh, sl])])
        sin = g.op("Add", [g.op("Mul", [sh, cl]), g.op("Mul", [ch, sl])])
        if not half:
            cos, sin = g.op("Concat", [cos, cos], axis=-1), g.op("Concat", [sin, sin], axis=-1)
        if ax is not None:
            cos, sin = (g.op("Unsqueeze", [t, g.const([ax], np.int64)]) for t in (cos, sin))
        rope[kind] = (cos, sin)
    return rope



def _build_fused_decoder(g, W, cfg, quant, token_types, logits_to_keep, kv_window=False):
    """The runtime's decoder for the CPU / WASM execution providers (`decoder_fused`): same inputs, outputs
    and weights as decoder_token_types, built from onnxruntime's fused kernels so that a decode step runs
    ~40 kernels per layer instead of ~100 (at small widths the per-kernel overhead is the decode time):
    SimplifiedLayerNormalization / SkipSimplifiedLayerNormalization (Gemma RMSNorms, residual adds fused),
    RotaryEmbedding (cos/sin looked up from the same tables as the plain graph), FastGelu, and
    GroupQueryAttention with causal=0 and the additive mask as attention_bias (so the image tokens'
    bidirectional block, the sliding window and padding are exactly the plain graph's). WebGPU's
    GroupQueryAttention does not implement causal=0, so the WebGPU EP uses decoder_token_types.
    KV cache (PACKAGE.md "KV cache forms"): the global layers' present.* are GroupQueryAttention's own
    outputs, and the past length is attention_mask's minus S, so a runtime may bind one preallocated buffer
    as both past and present (onnxruntime then appends in place instead of copying the history); with
    kv_window the sliding layers hand on only their last sliding_window - 1 positions."""
    H, D, nH, nKV = cfg.hidden, cfg.head_dim, cfg.heads, cfg.kv_heads
    ql, qh = quant.enabled and quant.decoder, quant.enabled and quant.lm_head
    x, am, pos, past, tti, keep = _decoder_inputs(g, cfg, quant, token_types, logits_to_keep, kv_window)
    masks, S, P, T, lengths = _mask_biases(g, cfg, x, am, pos, past, tti, False, rank=4, window=kv_window)  # [B,1,S,T]
    if quant.f16:
        # f16 variants: GroupQueryAttention runs on the float16 KV cache, so its attention_bias is float16 too
        # (float32's minimum would round to -inf; float16's keeps fully masked padding rows finite).
        masks = {k: g.op("Cast", [g.op("Max", [m, g.const(float(np.finfo(np.float16).min))])], to=F16)
                 for k, m in masks.items()}
    sc = lambda t: g.op("Squeeze", [t, g.const([0], np.int64)])  # noqa: E731
    # The mask does all the masking (causal=0), so every row may see all T keys (per layer kind: a windowed
    # sliding layer has its own T).
    lens = {}
    for kind, (_, Tk) in lengths.items():
        if kind not in cfg.layer_types:
            continue
        if lens and Tk is lengths["full_attention"][1]:
            lens[kind] = lens["full_attention"]
            continue
        total32 = g.op("Cast", [sc(Tk)], to=TensorProto.INT32)
        seqlens = g.op("Expand", [g.op("Sub", [g.op("Reshape", [total32, g.const([1], np.int64)]), g.const([1], np.int32)]),
                                  shape_dim(g, x, 0)])                                     # int32 [B] = T - 1
        lens[kind] = (seqlens, total32)
    # RotaryEmbedding indexes a cos/sin cache by position id: the cache is this run's own rows ([B*S, D/2]),
    # indexed 0..B*S-1, so no full-length table is needed.
    rope = _rope_cos_sin(g, W, cfg, pos, half=True)
    BS = g.op("Mul", [shape_dim(g, x, 0), S])
    ridx = g.op("Reshape", [g.op("Range", [g.const(0, np.int64), sc(BS), g.const(1, np.int64)]),
                            g.op("Shape", [pos])])
    flat2 = lambda t: g.op("Reshape", [t, g.const([-1, D // 2], np.int64)])  # noqa: E731
    rope = {k: (flat2(c), flat2(s_)) for k, (c, s_) in rope.items()}

    def norm(t, key, skip=None):
        w = W.plain(g, key, _one_plus)
        if skip is None:
            return g.op("SimplifiedLayerNormalization", [t, w], axis=-1, epsilon=cfg.eps, stash_type=1)
        y, _, _, total = g.op("SkipSimplifiedLayerNormalization", [t, skip, w], n_out=4, domain=MS_DOMAIN,
                              epsilon=cfg.eps)
        return y, total                                                                    # norm(t + skip), t + skip

    def heads_norm_rope(t, n, key, kind):
        t = g.op("Reshape", [t, g.const([0, 0, n, D], np.int64)])
        t = g.op("Reshape", [norm(t, key), g.const([0, 0, n * D], np.int64)])
        cos, sin = rope[kind]
        return g.op("RotaryEmbedding", [t, ridx, cos, sin], domain=MS_DOMAIN, interleaved=0, num_heads=n)

    h = norm(x, "text.layers.0.input_layernorm.weight")
    branch = None  # the last block's normed output, not yet added to the residual x
    for i in range(cfg.layers):
        p, kind = f"text.layers.{i}.", cfg.layer_types[i]
        if branch is not None:
            h, x = norm(branch, p + "input_layernorm.weight", skip=x)
        q = heads_norm_rope(W.linear(g, h, p + "self_attn.q_proj.weight", ql), nH, p + "self_attn.q_norm.weight", kind)
        k = heads_norm_rope(W.linear(g, h, p + "self_attn.k_proj.weight", ql), nKV, p + "self_attn.k_norm.weight", kind)
        v = W.linear(g, h, p + "self_attn.v_proj.weight", ql)
        windowed = kv_window and kind == "sliding_attention"
        seqlens, total32 = lens[kind]
        a, pk, pv = g.op("GroupQueryAttention", [kv_store(g, W, q), kv_store(g, W, k), kv_store(g, W, v),
                                                 past[i][0], past[i][1], seqlens, total32, "", "", "", masks[kind]],
                         n_out=3, domain=MS_DOMAIN, num_heads=nH, kv_num_heads=nKV, causal=0,
                         scale=cfg.query_pre_attn_scalar ** -0.5, softcap=float(cfg.attn_softcap or 0.0),
                         out_names=None if windowed else [None, f"present.{i}.key", f"present.{i}.value"])
        a = kv_load(g, W, a)
        if windowed:
            _keep_window(g, cfg, pk, f"present.{i}.key")
            _keep_window(g, cfg, pv, f"present.{i}.value")
        a = norm(W.linear(g, a, p + "self_attn.o_proj.weight", ql), p + "post_attention_layernorm.weight")
        h, x = norm(a, p + "pre_feedforward_layernorm.weight", skip=x)
        m = g.op("Mul", [g.op("FastGelu", [W.linear(g, h, p + "mlp.gate_proj.weight", ql)], domain=MS_DOMAIN),
                         W.linear(g, h, p + "mlp.up_proj.weight", ql)])
        branch = norm(W.linear(g, m, p + "mlp.down_proj.weight", ql), p + "post_feedforward_layernorm.weight")
    x = g.op("Add", [x, branch])
    return _finish(g, W, cfg, x, qh, H, keep, norm=lambda t: norm(t, "text.norm.weight"), kv_window=kv_window)


def _plain_attention(g, W, cfg, p, kind, proj, apply_rope, past_i, masks, scale, i, windowed=False):
    D, nH, nKV = cfg.head_dim, cfg.heads, cfg.kv_heads
    rep = nH // nKV
    q = apply_rope(rms_norm(g, W, proj("q_proj", nH), p + "self_attn.q_norm.weight", cfg.eps), kind)
    k = apply_rope(rms_norm(g, W, proj("k_proj", nKV), p + "self_attn.k_norm.weight", cfg.eps), kind)
    v = proj("v_proj", nKV)
    ck = g.op("Concat", [past_i[0], kv_store(g, W, k)], axis=2, name=None if windowed else f"present.{i}.key")
    cv = g.op("Concat", [past_i[1], kv_store(g, W, v)], axis=2, name=None if windowed else f"present.{i}.value")
    if windowed:  # this step attends over past + new; the cache it hands on keeps the window only
        _keep_window(g, cfg, ck, f"present.{i}.key")
        _keep_window(g, cfg, cv, f"present.{i}.value")
    pk, pv = kv_load(g, W, ck), kv_load(g, W, cv)
    q5 = g.op("Reshape", [q, g.const([0, nKV, rep, -1, D], np.int64)])
    kT = g.op("Transpose", [g.op("Unsqueeze", [pk, g.const([2], np.int64)])], perm=[0, 1, 2, 4, 3])
    s = g.op("Mul", [g.op("MatMul", [q5, kT]), scale])
    if cfg.attn_softcap:
        c = float(cfg.attn_softcap)
        s = g.op("Mul", [g.op("Tanh", [g.op("Div", [s, g.const(c)])]), g.const(c)])
    s = g.op("Softmax", [g.op("Add", [s, masks[kind]])], axis=-1)
    a = g.op("MatMul", [s, g.op("Unsqueeze", [pv, g.const([2], np.int64)])])               # [B,nKV,rep,S,D]
    return g.op("Reshape", [g.op("Transpose", [g.op("Reshape", [a, g.const([0, nH, -1, D], np.int64)])],
                                 perm=[0, 2, 1, 3]), g.const([0, 0, nH * D], np.int64)])


def kv_store(g, W, t):
    """A float32 value as the KV cache stores it (float16 in fp16/q4f16 variants)."""
    return g.op("Cast", [t], to=F16) if W.q.f16 else t


def kv_load(g, W, t):
    """A KV cache value as float32 for the attention maths."""
    return g.op("Cast", [t], to=F) if W.q.f16 else t


def _finish(g, W, cfg, x, qh, H, keep=None, norm=None, kv_window=False):
    nKV, D = cfg.kv_heads, cfg.head_dim
    if keep is not None:
        # Last n positions only (n <= 0: all, as transformers' num_logits_to_keep = 0; n > S: all S):
        # Slice starts at -max(n, 0), which Slice clamps to [0, S]. A MedGemma image prefill would
        # otherwise return ~280 positions x 262,208 vocab x 4 B = 280 MB of logits.
        n = g.op("Max", [g.op("Reshape", [keep, g.const([1], np.int64)]), g.const([0], np.int64)])
        x = g.op("Slice", [x, g.op("Neg", [n]), g.const([np.iinfo(np.int64).max], np.int64), g.const([1], np.int64)])
    x = norm(x) if norm else rms_norm(g, W, x, "text.norm.weight", cfg.eps)
    head = "text.embed_tokens.weight" if cfg.tie else "lm_head.weight"
    if qh:
        xin = W.to_f16(g, x) if W.q.f16 else x
        V = cfg.vocab_size
        parts = []
        for a in range(0, V, LM_HEAD_ROWS):
            pn, sn, zn, N, K = (W.q4_rows(head, "lm_head.weight", rows=(a, min(V, a + LM_HEAD_ROWS))) if V > LM_HEAD_ROWS
                                else W.q4_rows(head, "lm_head.weight"))
            parts.append(g.op("MatMulNBits", [xin, g.weight(pn), g.weight(sn), g.weight(zn)], domain=MS_DOMAIN,
                              K=K, N=N, bits=4, block_size=W.q.block, accuracy_level=W.q.accuracy_level))
        logits = parts[0] if len(parts) == 1 else g.op("Concat", parts, axis=-1)
        if W.q.f16:
            logits = g.op("Cast", [logits], to=F)
    else:
        # Gemm with transB reads the [vocab, hidden] matrix as stored: no transposed 2.7 GB copy.
        f16 = W.q.f16
        wt = W.big_rows(g, head, "lm_head.weight", np.float16 if f16 else np.float32)
        x2 = g.op("Reshape", [W.to_f16(g, x) if f16 else x, g.const([-1, H], np.int64)])
        l2 = g.op("Gemm", [x2, wt], transB=1)
        if f16:
            l2 = g.op("Cast", [l2], to=F)
        oshape = g.op("Concat", [shape_dim(g, x, 0), shape_dim(g, x, 1), g.const([cfg.vocab_size], np.int64)], axis=0)
        logits = g.op("Reshape", [l2, oshape])
    if cfg.final_softcap:
        c = float(cfg.final_softcap)
        logits = g.op("Mul", [g.op("Tanh", [g.op("Div", [logits, g.const(c)])]), g.const(c)])
    # Logits: float16 in decoder_model_merged_{fp16,q4f16} (the public layout; transformers.js casts them),
    # float32 in decoder_token_types* (the EndoScribe runtime samples from them directly).
    out_type = F16 if (W.q.f16 and keep is None) else F
    if out_type == F16:
        logits = g.op("Cast", [logits], to=F16)
    g.output(logits, "logits", out_type, ["batch_size", "sequence_length" if keep is None else "logits_length", cfg.vocab_size])
    for i in range(cfg.layers):
        dim = ("present_local_sequence_length" if kv_window and cfg.layer_types[i] == "sliding_attention"
               else "total_sequence_length")
        g.outputs.append(_vi(f"present.{i}.key", nKV, D, W.q.act, dim))
        g.outputs.append(_vi(f"present.{i}.value", nKV, D, W.q.act, dim))


def _vi(name, nKV, D, elem=F, dim="total_sequence_length"):
    from onnx import helper
    return helper.make_tensor_value_info(name, elem, ["batch_size", nKV, dim, D])


def _i64_tensor(v):
    from onnx import helper
    return helper.make_tensor("value", I64, [1], [v])
