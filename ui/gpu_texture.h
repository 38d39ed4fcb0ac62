// gpu_texture.h: an RGBA8 texture on the GPU plus the bind group the ImGui
// renderer draws it with. An ImTextureID in this app is a GpuTexture*.
#pragma once
#include <webgpu/webgpu.h>
#include <cstdint>

namespace esui {

struct GpuTexture {
    WGPUTexture texture = nullptr;
    WGPUTextureView view = nullptr;
    WGPUBindGroup imgui_bind_group = nullptr;  // made lazily by the ImGui renderer
    int width = 0;
    int height = 0;
    uint64_t serial = 0;  // unique per texture made: a freed texture's address may come back
};

// Creates a sampled RGBA8 texture and uploads `rgba` (width*height*4 bytes).
GpuTexture* create_gpu_texture(WGPUDevice device, WGPUQueue queue, int width, int height, const uint8_t* rgba);
void destroy_gpu_texture(GpuTexture* t);

}  // namespace esui
