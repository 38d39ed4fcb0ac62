"""An independent numpy forward pass of Gemma3ForConditionalGeneration (float64), written from the
Hugging Face modeling code, used to check packages built from checkpoints that have no golden files.
It is itself checked against the tiny oracle's golden logits (test_build_model.ReferenceTest)."""
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from model_builder.checkpoint import Checkpoint  # noqa: E402
from model_builder.safetensors_io import SafetensorsFile  # noqa: E402


def _rms(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * (1.0 + w)


def _ln(x, w, b, eps):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b


def _gelu(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def _softmax(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


class Reference:
    def __init__(self, folder, adapter=None):
        self.ck = Checkpoint(folder)  # the adapter is merged here, independently of the builder
        self.c = self.ck.config
        self.delta = {}
        if adapter:
            cfg = json.load(open(os.path.join(adapter, "adapter_config.json")))
            scale = cfg["lora_alpha"] / cfg["r"]
            st = SafetensorsFile(os.path.join(adapter, "adapter_model.safetensors"))
            hf = {v: k for k, v in self.ck.names.items()}
            for n in st.names():
                if n.endswith(".lora_A.weight"):
                    base = n[len("base_model.model."):-len(".lora_A.weight")] + ".weight"
                    A = st.get_f32(n).astype(np.float64)
                    B = st.get_f32(n.replace("lora_A", "lora_B")).astype(np.float64)
                    self.delta[hf[base]] = scale * (B @ A)

    def w(self, k):
        a = self.ck.f32(k).astype(np.float64)
        return a + self.delta[k] if k in self.delta else a

    def image_features(self, pixels):
        c, w = self.c, self.w
        B = pixels.shape[0]
        p, n = c.patch, c.patches_side
        x = pixels.reshape(B, c.channels, n, p, n, p).transpose(0, 2, 4, 1, 3, 5).reshape(B, n * n, -1)
        pw = w("vision.embeddings.patch_embedding.weight").reshape(c.v_hidden, -1)
        x = x @ pw.T + w("vision.embeddings.patch_embedding.bias") + w("vision.embeddings.position_embedding.weight")
        nh, hd = c.v_heads, c.v_hidden // c.v_heads
        for i in range(c.v_layers):
            q = f"vision.encoder.layers.{i}."
            lin = lambda t, n: t @ w(q + n + ".weight").T + w(q + n + ".bias")  # noqa: E731
            h = _ln(x, w(q + "layer_norm1.weight"), w(q + "layer_norm1.bias"), c.v_eps)
            sp = lambda t: t.reshape(B, -1, nh, hd).transpose(0, 2, 1, 3)  # noqa: E731
            Q, K, V = sp(lin(h, "self_attn.q_proj")), sp(lin(h, "self_attn.k_proj")), sp(lin(h, "self_attn.v_proj"))
            a = _softmax(Q @ K.transpose(0, 1, 3, 2) / math.sqrt(hd)) @ V
            x = x + lin(a.transpose(0, 2, 1, 3).reshape(B, -1, c.v_hidden), "self_attn.out_proj")
            h = _ln(x, w(q + "layer_norm2.weight"), w(q + "layer_norm2.bias"), c.v_eps)
            x = x + lin(_gelu(lin(h, "mlp.fc1")), "mlp.fc2")
        x = _ln(x, w("vision.post_layernorm.weight"), w("vision.post_layernorm.bias"), c.v_eps)
        k = c.pool
        g = x.reshape(B, n, n, c.v_hidden).reshape(B, n // k, k, n // k, k, c.v_hidden).mean(axis=(2, 4))
        g = g.reshape(B, -1, c.v_hidden)
        g = _rms(g, w("proj.mm_soft_emb_norm.weight"), c.v_eps)
        return g @ w("proj.mm_input_projection_weight")

    def logits(self, ids, pixels=None):
        """Full-sequence logits for one prompt (batch 1), with HF token_type_ids semantics."""
        c, w = self.c, self.w
        ids = np.asarray(ids)
        S = len(ids)
        x = w("text.embed_tokens.weight")[ids] * np.float64(np.float32(math.sqrt(c.hidden)))
        img = ids == c.image_token_id
        if pixels is not None and img.any():
            x[img] = self.image_features(pixels)[0][: img.sum()]
        grp = np.cumsum(img & ~np.concatenate([[False], img[:-1]]))
        qi, ki = np.arange(S)[:, None], np.arange(S)[None, :]
        bidir = img[:, None] & img[None, :] & (grp[:, None] == grp[None, :])
        masks = {"full_attention": (ki <= qi) | bidir,
                 "sliding_attention": ((ki <= qi) & (qi - ki < (c.sliding_window or S + 1))) | bidir}
        D, nH, nKV = c.head_dim, c.heads, c.kv_heads
        pos = np.arange(S, dtype=np.float64)

        def rope(t, base, factor):
            inv = 1.0 / (base ** (np.arange(0, D, 2) / D)) / factor
            f = pos[:, None] * inv[None]
            emb = np.concatenate([f, f], -1)
            rot = np.concatenate([-t[..., D // 2:], t[..., :D // 2]], -1)
            return t * np.cos(emb) + rot * np.sin(emb)
        for i in range(c.layers):
            p, kind = f"text.layers.{i}.", c.layer_types[i]
            base, factor = c.rope_global if kind == "full_attention" else c.rope_local
            h = _rms(x, w(p + "input_layernorm.weight"), c.eps)
            q = (h @ w(p + "self_attn.q_proj.weight").T).reshape(S, nH, D).transpose(1, 0, 2)
            k = (h @ w(p + "self_attn.k_proj.weight").T).reshape(S, nKV, D).transpose(1, 0, 2)
            v = (h @ w(p + "self_attn.v_proj.weight").T).reshape(S, nKV, D).transpose(1, 0, 2)
            q = rope(_rms(q, w(p + "self_attn.q_norm.weight"), c.eps), base, factor)
            k = rope(_rms(k, w(p + "self_attn.k_norm.weight"), c.eps), base, factor)
            k, v = np.repeat(k, nH // nKV, 0), np.repeat(v, nH // nKV, 0)
            s = q @ k.transpose(0, 2, 1) * c.query_pre_attn_scalar ** -0.5
            s = np.where(masks[kind][None], s, -np.inf)
            a = (_softmax(s) @ v).transpose(1, 0, 2).reshape(S, nH * D)
            x = x + _rms(a @ w(p + "self_attn.o_proj.weight").T, w(p + "post_attention_layernorm.weight"), c.eps)
            h = _rms(x, w(p + "pre_feedforward_layernorm.weight"), c.eps)
            m = _gelu(h @ w(p + "mlp.gate_proj.weight").T) * (h @ w(p + "mlp.up_proj.weight").T)
            x = x + _rms(m @ w(p + "mlp.down_proj.weight").T, w(p + "post_feedforward_layernorm.weight"), c.eps)
        x = _rms(x, w("text.norm.weight"), c.eps)
        return x @ w("text.embed_tokens.weight").T
