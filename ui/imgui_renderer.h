// imgui_renderer.h: our Dear ImGui renderer for WebGPU with WGSL shaders
// (shaders/imgui.wgsl). ImGui 1.86's own WebGPU backend ships SPIR-V, which
// browsers do not accept. ImTextureID is a GpuTexture* (gpu_texture.h).
#pragma once
#include <webgpu/webgpu.h>
#include "gpu_texture.h"

struct ImDrawData;

namespace esui {

class ImGuiRenderer {
public:
    bool init(WGPUDevice device, WGPUQueue queue, WGPUTextureFormat target_format);
    // (Re)builds the font atlas texture; call after changing fonts.
    void rebuild_fonts();
    // Records ImGui's draw lists into `pass`, whose target is fb_width x fb_height
    // device pixels (ImGui works in CSS pixels; FramebufferScale maps them).
    void render(ImDrawData* draw_data, WGPURenderPassEncoder pass, int fb_width, int fb_height);
    void shutdown();

private:
    WGPUBindGroup bind_group_for(GpuTexture* t);
    void ensure_buffer(WGPUBuffer& buf, uint64_t& capacity, uint64_t needed, WGPUBufferUsageFlags usage);

    WGPUDevice device_ = nullptr;
    WGPUQueue queue_ = nullptr;
    WGPURenderPipeline pipeline_ = nullptr;
    WGPUBindGroupLayout common_layout_ = nullptr;
    WGPUBindGroupLayout texture_layout_ = nullptr;
    WGPUBuffer uniforms_ = nullptr;
    WGPUSampler sampler_ = nullptr;
    WGPUBindGroup common_group_ = nullptr;
    WGPUBuffer vertices_ = nullptr;
    WGPUBuffer indices_ = nullptr;
    uint64_t vertex_capacity_ = 0;
    uint64_t index_capacity_ = 0;
    GpuTexture* font_ = nullptr;
};

}  // namespace esui
