// ort_tensors.h: the few tensor chores the engine needs over ONNX Runtime's
// C++ API: owned CPU tensors of int64 / float32 / float16 from float32 data
// (float16 via onnxruntime_float16.h, round to nearest even), float32 copies of
// float32 or float16 outputs, and cutting or stacking KV-cache tensors
// [B, heads, P, head_dim] along their length or batch.
#pragma once
#include <cstdint>
#include <vector>

#include "onnx/onnx_runtime.h"

namespace es::server {

Ort::Value int64_tensor(const std::vector<int64_t>& data, const std::vector<int64_t>& shape);
// float32 values stored as `type` (FLOAT or FLOAT16).
Ort::Value float_tensor(const float* data, size_t count, const std::vector<int64_t>& shape,
                        ONNXTensorElementDataType type);
// An empty-or-not tensor of `type` with every element zero.
Ort::Value zero_tensor(const std::vector<int64_t>& shape, ONNXTensorElementDataType type);
// float32 copy of a FLOAT or FLOAT16 tensor's data.
std::vector<float> to_float32(const Ort::Value& tensor);
std::vector<int64_t> shape_of(const Ort::Value& tensor);
size_t tensor_bytes(const Ort::Value& tensor);
// The first n positions (dim 2) of a [B, H, P, D] tensor, as a new tensor.
Ort::Value kv_prefix(const Ort::Value& tensor, int64_t n);
// Row `b` of a [B, H, P, D] tensor, left-padded with zeros to length `to`: [1, H, to, D].
Ort::Value kv_row(const Ort::Value& tensor, int64_t b, int64_t skip, int64_t to);
// Stacks [1, H, P_i, D] tensors into [B, H, max P, D], each row left-padded with zeros.
Ort::Value kv_stack_left_padded(const std::vector<const Ort::Value*>& rows);

}  // namespace es::server
