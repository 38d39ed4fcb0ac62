"""A small ONNX graph writer: nodes with generated names, small constants inline, weights streamed
straight into external data files (transformers.js naming, <= chunk_bytes per file), so a graph's
weights never sit in memory together. Several graphs may share one WeightStore (one data file)."""
import os

import numpy as np
from onnx import TensorProto, helper

from . import BuildError

OPSET = 17
MS_DOMAIN = "com.microsoft"
_NP2ONNX = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float16): TensorProto.FLOAT16,
            np.dtype(np.int64): TensorProto.INT64, np.dtype(np.int32): TensorProto.INT32,
            np.dtype(np.uint8): TensorProto.UINT8, np.dtype(np.bool_): TensorProto.BOOL}
ALIGN = 64


class WeightStore:
    """Writes initializer bytes into <onnx_dir>/<base>.onnx_data[_k] and hands out TensorProtos that point there."""

    def __init__(self, onnx_dir, base, chunk_bytes=2 << 30):
        self.onnx_dir, self.base, self.chunk_bytes = onnx_dir, base, chunk_bytes
        self.files, self.cur, self.cur_size = [], None, 0
        self.protos = {}
        self.bytes_written = 0

    def _file_for(self, nbytes):
        if self.cur is None or (self.cur_size > 0 and self.cur_size + nbytes > self.chunk_bytes):
            if self.cur:
                self.cur.close()
            name = f"{self.base}_data" + ("" if not self.files else f"_{len(self.files)}")
            self.files.append(name)
            self.cur = open(os.path.join(self.onnx_dir, name), "wb")
            self.cur_size = 0
        return self.files[-1]

    def has(self, name):
        return name in self.protos

    def add(self, name, dtype, shape, chunks, nbytes):
        """chunks: an iterable of numpy arrays / bytes whose concatenation is the tensor (C order)."""
        if name in self.protos:
            raise BuildError(f"internal: initializer {name} written twice")
        loc = self._file_for(nbytes)
        pad = (-self.cur_size) % ALIGN
        if pad:
            self.cur.write(b"\0" * pad); self.cur_size += pad
        offset, n = self.cur_size, 0
        for c in chunks:
            b = c if isinstance(c, (bytes, bytearray, memoryview)) else np.ascontiguousarray(c).tobytes()
            self.cur.write(b); n += len(b)
        if n != nbytes:
            raise BuildError(f"internal: {name} wrote {n} bytes, expected {nbytes}")
        self.cur_size += n
        self.bytes_written += n
        t = TensorProto()
        t.name = name
        t.data_type = _NP2ONNX[np.dtype(dtype)]
        t.dims.extend(int(d) for d in shape)
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", loc), ("offset", str(offset)), ("length", str(n))):
            e = t.external_data.add(); e.key = k; e.value = v
        self.protos[name] = t
        return name

    def add_array(self, name, a):
        a = np.ascontiguousarray(a)
        return self.add(name, a.dtype, a.shape, [a], a.nbytes)

    def close(self):
        if self.cur:
            self.cur.close(); self.cur = None
        return list(self.files)


class Graph:
    def __init__(self, name, store):
        self.name, self.store = name, store
        self.nodes, self.inputs, self.outputs, self.consts, self.used = [], [], [], [], []
        self.n = 0

    def _uid(self, hint):
        self.n += 1
        return f"/{hint}_{self.n}"

    def input(self, name, elem, shape):
        self.inputs.append(helper.make_tensor_value_info(name, elem, shape)); return name

    def output(self, value, name, elem, shape):
        if value != name:
            self.op("Identity", [value], name=name)
        self.outputs.append(helper.make_tensor_value_info(name, elem, shape))

    def op(self, op_type, inputs, n_out=1, domain=None, name=None, out_names=None, **attrs):
        """out_names: explicit names for some outputs of a multi-output node (None entries keep generated ones)."""
        base = name or self._uid(op_type)
        outs = [name] if (name and n_out == 1) else [f"{base}/out{i}" for i in range(n_out)]
        if out_names:
            outs = [o if o else outs[i] for i, o in enumerate(out_names)]
        node = helper.make_node(op_type, list(inputs), outs, name=base + "/node" if name else base,
                                domain=domain, **attrs)
        self.nodes.append(node)
        return outs[0] if n_out == 1 else outs

    def const(self, value, dtype=np.float32):
        a = np.asarray(value, dtype=dtype)
        name = self._uid("const")
        self.consts.append(helper.make_tensor(name, _NP2ONNX[a.dtype], a.shape, a.flatten().tolist()))
        return name

    def weight(self, name):
        """Use an initializer already written to the store."""
        if name not in self.used:
            self.used.append(name)
        return name

    def model(self):
        inits = self.consts + [self.store.protos[n] for n in self.used]
        g = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, initializer=inits)
        opsets = [helper.make_opsetid("", OPSET), helper.make_opsetid(MS_DOMAIN, 1)]
        m = helper.make_model(g, opset_imports=opsets, producer_name="endoscribe-model-builder",
                              producer_version="1")
        m.ir_version = 8
        return m

    def save(self, path):
        m = self.model()
        data = m.SerializeToString()
        if len(data) > (2 << 30) - 1:
            raise BuildError(f"internal: {path} graph proto exceeds 2 GiB")
        with open(path, "wb") as f:
            f.write(data)
        return len(data)
