"""4-bit block quantisation in the layouts of com.microsoft MatMulNBits and GatherBlockQuantized:
asymmetric per-block scale and zero point (range widened to include 0, as onnxruntime's own
MatMul4BitsQuantizer does), two 4-bit values per byte, low nibble first."""
import numpy as np


def quantize_rows(w, block):
    """w: float32 [n, K] (rows are output channels). Returns (packed uint8 [n, nb, block//2],
    scales float32 [n, nb], zero points uint8 [n, nb]) with nb = ceil(K / block)."""
    n, K = w.shape
    nb = -(-K // block)
    if nb * block != K:
        w = np.concatenate([w, np.zeros((n, nb * block - K), np.float32)], axis=1)
    b = w.reshape(n, nb, block)
    mn = np.minimum(b.min(axis=-1), 0.0)
    mx = np.maximum(b.max(axis=-1), 0.0)
    scale = ((mx - mn) / 15.0).astype(np.float32)
    safe = np.where(scale == 0, np.float32(1.0), scale)
    zp = np.clip(np.rint(-mn / safe), 0, 15).astype(np.uint8)
    q = np.clip(np.rint(b / safe[..., None]) + zp[..., None], 0, 15).astype(np.uint8)
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    return packed, scale, zp


def pack_nibbles(zp):
    """uint8 [n, nb] values 0..15 -> [n, ceil(nb/2)], low nibble first."""
    n, nb = zp.shape
    if nb % 2:
        zp = np.concatenate([zp, np.zeros((n, 1), np.uint8)], axis=1)
    return (zp[:, 0::2] | (zp[:, 1::2] << 4)).astype(np.uint8)


def dequantize_rows(packed, scale, zp, K):
    """Inverse of quantize_rows (for tests and error measurements)."""
    q = np.empty(packed.shape[:-1] + (packed.shape[-1] * 2,), np.float32)
    q[..., 0::2] = packed & 15
    q[..., 1::2] = packed >> 4
    w = (q - zp[..., None]) * scale[..., None]
    return w.reshape(w.shape[0], -1)[:, :K]
