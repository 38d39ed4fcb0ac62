// ort_tensors.cpp: see ort_tensors.h.
#include "inference/ort_tensors.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace es::server {

namespace {

OrtAllocator* allocator() {
    static Ort::AllocatorWithDefaultOptions a;
    return a;
}

size_t element_size(ONNXTensorElementDataType t) {
    switch (t) {
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return 2;
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return 4;
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return 8;
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return 4;
        default: throw std::runtime_error("unsupported tensor element type " + std::to_string(int(t)));
    }
}

size_t count_of(const std::vector<int64_t>& shape) {
    size_t n = 1;
    for (int64_t d : shape) n *= size_t(d);
    return n;
}

}  // namespace

std::vector<int64_t> shape_of(const Ort::Value& tensor) { return tensor.GetTensorTypeAndShapeInfo().GetShape(); }

size_t tensor_bytes(const Ort::Value& tensor) {
    auto info = tensor.GetTensorTypeAndShapeInfo();
    return info.GetElementCount() * element_size(info.GetElementType());
}

Ort::Value int64_tensor(const std::vector<int64_t>& data, const std::vector<int64_t>& shape) {
    Ort::Value t = Ort::Value::CreateTensor(allocator(), shape.data(), shape.size(), ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64);
    if (!data.empty()) std::memcpy(t.GetTensorMutableData<int64_t>(), data.data(), data.size() * sizeof(int64_t));
    return t;
}

Ort::Value float_tensor(const float* data, size_t count, const std::vector<int64_t>& shape, ONNXTensorElementDataType type) {
    Ort::Value t = Ort::Value::CreateTensor(allocator(), shape.data(), shape.size(), type);
    if (count == 0) return t;
    if (type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
        std::memcpy(t.GetTensorMutableData<float>(), data, count * sizeof(float));
    } else if (type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16) {
        Ort::Float16_t* out = t.GetTensorMutableData<Ort::Float16_t>();
        for (size_t i = 0; i < count; ++i) out[i] = Ort::Float16_t(data[i]);
    } else {
        throw std::runtime_error("float_tensor: unsupported type");
    }
    return t;
}

Ort::Value zero_tensor(const std::vector<int64_t>& shape, ONNXTensorElementDataType type) {
    Ort::Value t = Ort::Value::CreateTensor(allocator(), shape.data(), shape.size(), type);
    const size_t n = count_of(shape) * element_size(type);
    if (n) std::memset(t.GetTensorMutableRawData(), 0, n);
    return t;
}

std::vector<float> to_float32(const Ort::Value& tensor) {
    auto info = tensor.GetTensorTypeAndShapeInfo();
    const size_t n = info.GetElementCount();
    std::vector<float> out(n);
    if (info.GetElementType() == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
        if (n) std::memcpy(out.data(), tensor.GetTensorData<float>(), n * sizeof(float));
    } else if (info.GetElementType() == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16) {
        const Ort::Float16_t* in = tensor.GetTensorData<Ort::Float16_t>();
        for (size_t i = 0; i < n; ++i) out[i] = in[i].ToFloat();
    } else {
        throw std::runtime_error("expected a float32 or float16 tensor");
    }
    return out;
}

Ort::Value kv_prefix(const Ort::Value& tensor, int64_t n) {
    auto info = tensor.GetTensorTypeAndShapeInfo();
    const std::vector<int64_t> s = info.GetShape();
    const size_t es = element_size(info.GetElementType());
    const int64_t P = s[2], D = s[3], rows = s[0] * s[1];
    n = std::min(n, P);
    std::vector<int64_t> shape{s[0], s[1], n, D};
    Ort::Value out = Ort::Value::CreateTensor(allocator(), shape.data(), shape.size(), info.GetElementType());
    const auto* src = static_cast<const uint8_t*>(tensor.GetTensorRawData());
    auto* dst = static_cast<uint8_t*>(out.GetTensorMutableRawData());
    for (int64_t r = 0; r < rows; ++r) std::memcpy(dst + size_t(r * n * D) * es, src + size_t(r * P * D) * es, size_t(n * D) * es);
    return out;
}

Ort::Value kv_row(const Ort::Value& tensor, int64_t b, int64_t skip, int64_t to) {
    auto info = tensor.GetTensorTypeAndShapeInfo();
    const std::vector<int64_t> s = info.GetShape();
    const size_t es = element_size(info.GetElementType());
    const int64_t H = s[1], P = s[2], D = s[3];
    const int64_t keep = P - skip;  // positions of this row after dropping `skip` leading ones
    std::vector<int64_t> shape{1, H, to, D};
    Ort::Value out = zero_tensor(shape, info.GetElementType());
    const auto* src = static_cast<const uint8_t*>(tensor.GetTensorRawData());
    auto* dst = static_cast<uint8_t*>(out.GetTensorMutableRawData());
    const int64_t n = std::min(keep, to);
    for (int64_t h = 0; h < H; ++h)
        std::memcpy(dst + size_t((h * to + (to - n)) * D) * es, src + size_t(((b * H + h) * P + (P - n)) * D) * es,
                    size_t(n * D) * es);
    return out;
}

Ort::Value kv_stack_left_padded(const std::vector<const Ort::Value*>& rows) {
    auto info = rows.front()->GetTensorTypeAndShapeInfo();
    const std::vector<int64_t> s0 = info.GetShape();
    const size_t es = element_size(info.GetElementType());
    const int64_t H = s0[1], D = s0[3];
    int64_t T = 0;
    for (const Ort::Value* r : rows) T = std::max(T, shape_of(*r)[2]);
    std::vector<int64_t> shape{int64_t(rows.size()), H, T, D};
    Ort::Value out = zero_tensor(shape, info.GetElementType());
    auto* dst = static_cast<uint8_t*>(out.GetTensorMutableRawData());
    for (size_t b = 0; b < rows.size(); ++b) {
        const int64_t P = shape_of(*rows[b])[2];
        const auto* src = static_cast<const uint8_t*>(rows[b]->GetTensorRawData());
        for (int64_t h = 0; h < H; ++h)
            std::memcpy(dst + size_t(((int64_t(b) * H + h) * T + (T - P)) * D) * es, src + size_t(h * P * D) * es,
                        size_t(P * D) * es);
    }
    return out;
}

}  // namespace es::server
