// imgui_renderer.cpp: see imgui_renderer.h.
#include "imgui_renderer.h"

#include <imgui.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "shader_sources.h"  // generated from shaders/*.wgsl at build time

namespace esui {

static WGPUShaderModule make_shader(WGPUDevice device, const char* source, const char* label) {
    WGPUShaderModuleWGSLDescriptor wgsl = {};
    wgsl.chain.sType = WGPUSType_ShaderModuleWGSLDescriptor;
    wgsl.source = source;
    WGPUShaderModuleDescriptor desc = {};
    desc.nextInChain = &wgsl.chain;
    desc.label = label;
    return wgpuDeviceCreateShaderModule(device, &desc);
}

bool ImGuiRenderer::init(WGPUDevice device, WGPUQueue queue, WGPUTextureFormat target_format) {
    device_ = device;
    queue_ = queue;
    ImGuiIO& io = ImGui::GetIO();
    io.BackendRendererName = "endoscribe_wgsl";
    io.BackendFlags |= ImGuiBackendFlags_RendererHasVtxOffset;

    WGPUShaderModule module = make_shader(device, kShaderImGui, "imgui.wgsl");

    WGPUBindGroupLayoutEntry common_entries[2] = {};
    common_entries[0].binding = 0;
    common_entries[0].visibility = WGPUShaderStage_Vertex;
    common_entries[0].buffer.type = WGPUBufferBindingType_Uniform;
    common_entries[0].buffer.minBindingSize = 16;
    common_entries[1].binding = 1;
    common_entries[1].visibility = WGPUShaderStage_Fragment;
    common_entries[1].sampler.type = WGPUSamplerBindingType_Filtering;
    WGPUBindGroupLayoutDescriptor common_desc = {};
    common_desc.entryCount = 2;
    common_desc.entries = common_entries;
    common_layout_ = wgpuDeviceCreateBindGroupLayout(device, &common_desc);

    WGPUBindGroupLayoutEntry tex_entry = {};
    tex_entry.binding = 0;
    tex_entry.visibility = WGPUShaderStage_Fragment;
    tex_entry.texture.sampleType = WGPUTextureSampleType_Float;
    tex_entry.texture.viewDimension = WGPUTextureViewDimension_2D;
    WGPUBindGroupLayoutDescriptor tex_desc = {};
    tex_desc.entryCount = 1;
    tex_desc.entries = &tex_entry;
    texture_layout_ = wgpuDeviceCreateBindGroupLayout(device, &tex_desc);

    WGPUBindGroupLayout layouts[2] = {common_layout_, texture_layout_};
    WGPUPipelineLayoutDescriptor pl_desc = {};
    pl_desc.bindGroupLayoutCount = 2;
    pl_desc.bindGroupLayouts = layouts;
    WGPUPipelineLayout pipeline_layout = wgpuDeviceCreatePipelineLayout(device, &pl_desc);

    WGPUVertexAttribute attrs[3] = {};
    attrs[0].format = WGPUVertexFormat_Float32x2;
    attrs[0].offset = offsetof(ImDrawVert, pos);
    attrs[0].shaderLocation = 0;
    attrs[1].format = WGPUVertexFormat_Float32x2;
    attrs[1].offset = offsetof(ImDrawVert, uv);
    attrs[1].shaderLocation = 1;
    attrs[2].format = WGPUVertexFormat_Unorm8x4;
    attrs[2].offset = offsetof(ImDrawVert, col);
    attrs[2].shaderLocation = 2;
    WGPUVertexBufferLayout vbl = {};
    vbl.arrayStride = sizeof(ImDrawVert);
    vbl.stepMode = WGPUVertexStepMode_Vertex;
    vbl.attributeCount = 3;
    vbl.attributes = attrs;

    WGPUBlendState blend = {};
    blend.color = {WGPUBlendOperation_Add, WGPUBlendFactor_SrcAlpha, WGPUBlendFactor_OneMinusSrcAlpha};
    blend.alpha = {WGPUBlendOperation_Add, WGPUBlendFactor_One, WGPUBlendFactor_OneMinusSrcAlpha};
    WGPUColorTargetState target = {};
    target.format = target_format;
    target.blend = &blend;
    target.writeMask = WGPUColorWriteMask_All;
    WGPUFragmentState fragment = {};
    fragment.module = module;
    fragment.entryPoint = "fs_main";
    fragment.targetCount = 1;
    fragment.targets = &target;

    WGPURenderPipelineDescriptor rp = {};
    rp.label = "imgui";
    rp.layout = pipeline_layout;
    rp.vertex.module = module;
    rp.vertex.entryPoint = "vs_main";
    rp.vertex.bufferCount = 1;
    rp.vertex.buffers = &vbl;
    rp.primitive.topology = WGPUPrimitiveTopology_TriangleList;
    rp.primitive.frontFace = WGPUFrontFace_CW;
    rp.primitive.cullMode = WGPUCullMode_None;
    rp.multisample.count = 1;
    rp.multisample.mask = 0xFFFFFFFFu;
    rp.fragment = &fragment;
    pipeline_ = wgpuDeviceCreateRenderPipeline(device, &rp);
    wgpuPipelineLayoutRelease(pipeline_layout);
    wgpuShaderModuleRelease(module);

    WGPUBufferDescriptor ub = {};
    ub.usage = WGPUBufferUsage_Uniform | WGPUBufferUsage_CopyDst;
    ub.size = 16;
    uniforms_ = wgpuDeviceCreateBuffer(device, &ub);

    WGPUSamplerDescriptor sd = {};
    sd.addressModeU = sd.addressModeV = sd.addressModeW = WGPUAddressMode_ClampToEdge;
    sd.magFilter = sd.minFilter = WGPUFilterMode_Linear;
    sd.mipmapFilter = WGPUFilterMode_Nearest;
    sd.lodMinClamp = 0.0f;
    sd.lodMaxClamp = 32.0f;
    sd.maxAnisotropy = 1;
    sampler_ = wgpuDeviceCreateSampler(device, &sd);

    WGPUBindGroupEntry ce[2] = {};
    ce[0].binding = 0;
    ce[0].buffer = uniforms_;
    ce[0].size = 16;  // explicit: 3.1.6 mis-reads WGPU_WHOLE_SIZE
    ce[1].binding = 1;
    ce[1].sampler = sampler_;
    WGPUBindGroupDescriptor cg = {};
    cg.layout = common_layout_;
    cg.entryCount = 2;
    cg.entries = ce;
    common_group_ = wgpuDeviceCreateBindGroup(device, &cg);

    rebuild_fonts();
    return pipeline_ != nullptr;
}

void ImGuiRenderer::rebuild_fonts() {
    ImGuiIO& io = ImGui::GetIO();
    unsigned char* pixels = nullptr;
    int w = 0, h = 0;
    io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);
    if (font_) destroy_gpu_texture(font_);
    font_ = create_gpu_texture(device_, queue_, w, h, pixels);
    io.Fonts->SetTexID(static_cast<ImTextureID>(font_));
}

WGPUBindGroup ImGuiRenderer::bind_group_for(GpuTexture* t) {
    if (!t->imgui_bind_group) {
        WGPUBindGroupEntry e = {};
        e.binding = 0;
        e.textureView = t->view;
        WGPUBindGroupDescriptor d = {};
        d.layout = texture_layout_;
        d.entryCount = 1;
        d.entries = &e;
        t->imgui_bind_group = wgpuDeviceCreateBindGroup(device_, &d);
    }
    return t->imgui_bind_group;
}

void ImGuiRenderer::ensure_buffer(WGPUBuffer& buf, uint64_t& capacity, uint64_t needed, WGPUBufferUsageFlags usage) {
    if (buf && capacity >= needed) return;
    if (buf) {
        wgpuBufferDestroy(buf);
        wgpuBufferRelease(buf);
    }
    capacity = std::max<uint64_t>(needed + needed / 2, 64 * 1024);
    capacity = (capacity + 3) & ~uint64_t(3);
    WGPUBufferDescriptor d = {};
    d.usage = usage | WGPUBufferUsage_CopyDst;
    d.size = capacity;
    buf = wgpuDeviceCreateBuffer(device_, &d);
}

void ImGuiRenderer::render(ImDrawData* dd, WGPURenderPassEncoder pass, int fb_width, int fb_height) {
    const float fb_w = float(fb_width), fb_h = float(fb_height);
    if (fb_width <= 0 || fb_height <= 0 || dd->TotalVtxCount == 0) return;

    // Upload all vertices and indices at once; writeBuffer sizes must be multiples of 4.
    std::vector<ImDrawVert> vtx;
    std::vector<ImDrawIdx> idx;
    vtx.reserve(dd->TotalVtxCount);
    idx.reserve(dd->TotalIdxCount + 2);
    for (int n = 0; n < dd->CmdListsCount; n++) {
        const ImDrawList* cl = dd->CmdLists[n];
        vtx.insert(vtx.end(), cl->VtxBuffer.Data, cl->VtxBuffer.Data + cl->VtxBuffer.Size);
        idx.insert(idx.end(), cl->IdxBuffer.Data, cl->IdxBuffer.Data + cl->IdxBuffer.Size);
    }
    while ((idx.size() * sizeof(ImDrawIdx)) % 4) idx.push_back(0);
    const uint64_t vbytes = vtx.size() * sizeof(ImDrawVert);
    const uint64_t ibytes = idx.size() * sizeof(ImDrawIdx);
    ensure_buffer(vertices_, vertex_capacity_, vbytes, WGPUBufferUsage_Vertex);
    ensure_buffer(indices_, index_capacity_, ibytes, WGPUBufferUsage_Index);
    wgpuQueueWriteBuffer(queue_, vertices_, 0, vtx.data(), vbytes);
    wgpuQueueWriteBuffer(queue_, indices_, 0, idx.data(), ibytes);

    const float L = dd->DisplayPos.x, T = dd->DisplayPos.y;
    const float sx = 2.0f / dd->DisplaySize.x, sy = -2.0f / dd->DisplaySize.y;
    const float u[4] = {sx, sy, -1.0f - L * sx, 1.0f - T * sy};
    wgpuQueueWriteBuffer(queue_, uniforms_, 0, u, sizeof(u));

    wgpuRenderPassEncoderSetViewport(pass, 0, 0, fb_w, fb_h, 0, 1);
    wgpuRenderPassEncoderSetPipeline(pass, pipeline_);
    wgpuRenderPassEncoderSetBindGroup(pass, 0, common_group_, 0, nullptr);
    wgpuRenderPassEncoderSetVertexBuffer(pass, 0, vertices_, 0, vbytes);
    wgpuRenderPassEncoderSetIndexBuffer(pass, indices_,
        sizeof(ImDrawIdx) == 2 ? WGPUIndexFormat_Uint16 : WGPUIndexFormat_Uint32, 0, ibytes);

    const ImVec2 scale = dd->FramebufferScale;
    int vtx_base = 0, idx_base = 0;
    for (int n = 0; n < dd->CmdListsCount; n++) {
        const ImDrawList* cl = dd->CmdLists[n];
        for (int c = 0; c < cl->CmdBuffer.Size; c++) {
            const ImDrawCmd* cmd = &cl->CmdBuffer[c];
            if (cmd->UserCallback) {
                if (cmd->UserCallback != ImDrawCallback_ResetRenderState) cmd->UserCallback(cl, cmd);
                continue;
            }
            // Scissor in framebuffer pixels, clamped: out-of-bounds is a validation error.
            int x0 = std::max(0, int(std::floor((cmd->ClipRect.x - L) * scale.x)));
            int y0 = std::max(0, int(std::floor((cmd->ClipRect.y - T) * scale.y)));
            int x1 = std::min(fb_width, int(std::ceil((cmd->ClipRect.z - L) * scale.x)));
            int y1 = std::min(fb_height, int(std::ceil((cmd->ClipRect.w - T) * scale.y)));
            if (x1 <= x0 || y1 <= y0) continue;
            wgpuRenderPassEncoderSetScissorRect(pass, uint32_t(x0), uint32_t(y0), uint32_t(x1 - x0), uint32_t(y1 - y0));
            auto* tex = static_cast<GpuTexture*>(cmd->TextureId);
            wgpuRenderPassEncoderSetBindGroup(pass, 1, bind_group_for(tex), 0, nullptr);
            wgpuRenderPassEncoderDrawIndexed(pass, cmd->ElemCount, 1, idx_base + cmd->IdxOffset,
                int32_t(vtx_base + cmd->VtxOffset), 0);
        }
        vtx_base += cl->VtxBuffer.Size;
        idx_base += cl->IdxBuffer.Size;
    }
    wgpuRenderPassEncoderSetScissorRect(pass, 0, 0, uint32_t(fb_width), uint32_t(fb_height));
}

void ImGuiRenderer::shutdown() {
    destroy_gpu_texture(font_);
    font_ = nullptr;
}

}  // namespace esui
