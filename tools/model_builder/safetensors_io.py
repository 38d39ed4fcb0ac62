"""Reads and writes the safetensors format (8-byte little-endian header length, JSON header,
raw little-endian tensor bytes). Debian ships no safetensors module; the format is a header
plus numpy memory maps, so tensors are read lazily, one at a time, never the whole file."""
import json
import os
import struct

import numpy as np

from . import BuildError

_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16, "F64": np.float64,
           "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


def bf16_to_f32(a):
    """bfloat16 bits (uint16) -> float32, exact."""
    return (a.astype(np.uint32) << 16).view(np.float32)


def f32_to_bf16_bits(a):
    """float32 -> bfloat16 bits with round-to-nearest-even (what torch does)."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    r = ((u >> 16) & 1) + 0x7FFF
    return ((u + r) >> 16).astype(np.uint16)


def read_header(path):
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise BuildError(f"{path}: truncated safetensors file (no header)")
        n = struct.unpack("<Q", raw)[0]
        if n > size - 8 or n > 100 << 20:
            raise BuildError(f"{path}: corrupt safetensors header length {n} (file is {size} bytes)")
        try:
            header = json.loads(f.read(n))
        except ValueError as e:
            raise BuildError(f"{path}: corrupt safetensors header: {e}")
    data_start = 8 + n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info.get("data_offsets", (0, -1))
        if info.get("dtype") not in _DTYPES:
            raise BuildError(f"{path}: tensor {name} has unsupported dtype {info.get('dtype')}")
        need = int(np.prod(info["shape"], dtype=np.int64)) * np.dtype(_DTYPES[info["dtype"]]).itemsize
        if e - b != need or data_start + e > size:
            raise BuildError(f"{path}: tensor {name} is truncated or inconsistent "
                             f"(offsets {b}..{e}, file has {size - data_start} data bytes)")
    return header, data_start


class SafetensorsFile:
    def __init__(self, path):
        self.path = path
        self.header, self.data_start = read_header(path)
        self.header.pop("__metadata__", None)

    def names(self):
        return list(self.header)

    def info(self, name):
        return self.header[name]

    def raw(self, name, row0=0, row1=None):
        """Rows [row0, row1) of one tensor in its stored dtype (bf16 as uint16), read with plain file
        reads (not a memory map), so only what is asked for is ever resident."""
        info = self.header[name]
        b, _ = info["data_offsets"]
        dt = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        shape = list(info["shape"])
        if not shape:
            shape = [1]
        row1 = shape[0] if row1 is None else min(row1, shape[0])
        per_row = int(np.prod(shape[1:], dtype=np.int64))
        count = (row1 - row0) * per_row
        with open(self.path, "rb") as f:
            f.seek(self.data_start + b + row0 * per_row * dt.itemsize)
            a = np.fromfile(f, dtype=dt, count=count)
        if a.size != count:
            raise BuildError(f"{self.path}: tensor {name} is truncated")
        return a.reshape([row1 - row0] + shape[1:]) if info["shape"] else a.reshape(())

    def get_f32(self, name, row0=0, row1=None):
        """float32 copy of one tensor (or of rows [row0, row1))."""
        a = self.raw(name, row0, row1)
        if self.header[name]["dtype"] == "BF16":
            return bf16_to_f32(a)
        return a.astype(np.float32, copy=False)


def write_file(path, specs, metadata=None):
    """specs: list of (name, dtype_tag, shape, produce) where produce() returns the tensor's bytes
    (or a numpy array) in that dtype. Tensors are produced and written one at a time."""
    header, off = {}, 0
    for name, tag, shape, _ in specs:
        n = int(np.prod(shape, dtype=np.int64)) * np.dtype(_DTYPES[tag]).itemsize
        header[name] = {"dtype": tag, "shape": list(shape), "data_offsets": [off, off + n]}
        off += n
    if metadata:
        header["__metadata__"] = metadata
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for name, tag, shape, produce in specs:
            d = produce()
            parts = [d] if isinstance(d, (bytes, bytearray, np.ndarray)) else d  # or an iterator of chunks
            n = 0
            for part in parts:
                b = part if isinstance(part, (bytes, bytearray)) else np.ascontiguousarray(part).tobytes()
                f.write(b); n += len(b)
            if n != header[name]["data_offsets"][1] - header[name]["data_offsets"][0]:
                raise ValueError(f"{name}: produced {n} bytes, header says otherwise")
