// npy.h: reads NumPy .npy arrays (little-endian float32/int64/int32, C order)
// from bytes. Used by tests and tools to compare against reference outputs.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace es {

struct NpyArray {
    std::vector<int64_t> shape;
    std::string dtype;          // "<f4", "<i8", "<i4"
    std::vector<float> f32;     // filled for "<f4"
    std::vector<int64_t> i64;   // filled for "<i8" and "<i4"
    size_t count() const {
        size_t n = 1;
        for (auto d : shape) n *= size_t(d);
        return n;
    }
};

// Returns false and sets *error on anything it does not understand.
bool parse_npy(const uint8_t* data, size_t size, NpyArray* out, std::string* error);

}  // namespace es
