// image_renderer.cpp: see image_renderer.h.
#include "image_renderer.h"

#include <algorithm>

#include "shader_sources.h"

namespace esui {

bool ImageRenderer::init(WGPUDevice device, WGPUQueue queue, WGPUTextureFormat target_format) {
    device_ = device;
    queue_ = queue;

    WGPUShaderModuleWGSLDescriptor wgsl = {};
    wgsl.chain.sType = WGPUSType_ShaderModuleWGSLDescriptor;
    wgsl.source = kShaderImageView;
    WGPUShaderModuleDescriptor sm = {};
    sm.nextInChain = &wgsl.chain;
    sm.label = "image_view.wgsl";
    WGPUShaderModule module = wgpuDeviceCreateShaderModule(device, &sm);

    WGPUBindGroupLayoutEntry e[3] = {};
    e[0].binding = 0;
    e[0].visibility = WGPUShaderStage_Vertex | WGPUShaderStage_Fragment;
    e[0].buffer.type = WGPUBufferBindingType_Uniform;
    e[0].buffer.minBindingSize = 48;
    e[1].binding = 1;
    e[1].visibility = WGPUShaderStage_Fragment;
    e[1].sampler.type = WGPUSamplerBindingType_Filtering;
    e[2].binding = 2;
    e[2].visibility = WGPUShaderStage_Fragment;
    e[2].texture.sampleType = WGPUTextureSampleType_Float;
    e[2].texture.viewDimension = WGPUTextureViewDimension_2D;
    WGPUBindGroupLayoutDescriptor ld = {};
    ld.entryCount = 3;
    ld.entries = e;
    layout_ = wgpuDeviceCreateBindGroupLayout(device, &ld);
    WGPUPipelineLayoutDescriptor pld = {};
    pld.bindGroupLayoutCount = 1;
    pld.bindGroupLayouts = &layout_;
    WGPUPipelineLayout pl = wgpuDeviceCreatePipelineLayout(device, &pld);

    WGPUColorTargetState target = {};
    target.format = target_format;
    target.writeMask = WGPUColorWriteMask_All;
    WGPUFragmentState fs = {};
    fs.module = module;
    fs.entryPoint = "fs_main";
    fs.targetCount = 1;
    fs.targets = &target;
    WGPURenderPipelineDescriptor rp = {};
    rp.label = "image_view";
    rp.layout = pl;
    rp.vertex.module = module;
    rp.vertex.entryPoint = "vs_main";
    rp.primitive.topology = WGPUPrimitiveTopology_TriangleList;
    rp.primitive.cullMode = WGPUCullMode_None;
    rp.multisample.count = 1;
    rp.multisample.mask = 0xFFFFFFFFu;
    rp.fragment = &fs;
    pipeline_ = wgpuDeviceCreateRenderPipeline(device, &rp);
    wgpuPipelineLayoutRelease(pl);
    wgpuShaderModuleRelease(module);

    WGPUBufferDescriptor bd = {};
    bd.usage = WGPUBufferUsage_Uniform | WGPUBufferUsage_CopyDst;
    bd.size = 48;
    uniforms_ = wgpuDeviceCreateBuffer(device, &bd);

    WGPUSamplerDescriptor sd = {};
    sd.addressModeU = sd.addressModeV = sd.addressModeW = WGPUAddressMode_ClampToEdge;
    sd.magFilter = sd.minFilter = WGPUFilterMode_Linear;
    sd.mipmapFilter = WGPUFilterMode_Nearest;
    sd.lodMaxClamp = 32.0f;
    sd.maxAnisotropy = 1;
    sampler_ = wgpuDeviceCreateSampler(device, &sd);
    return pipeline_ != nullptr;
}

void ImageRenderer::draw(const ImageDraw& d, WGPURenderPassEncoder pass, int fb_width, int fb_height) {
    if (!d.texture) return;
    int cx0 = std::max(0, d.clip_x), cy0 = std::max(0, d.clip_y);
    int cx1 = std::min(fb_width, d.clip_x + d.clip_w), cy1 = std::min(fb_height, d.clip_y + d.clip_h);
    if (cx1 <= cx0 || cy1 <= cy0) return;
    if (group_serial_ != d.texture->serial) {
        if (group_) wgpuBindGroupRelease(group_);
        WGPUBindGroupEntry e[3] = {};
        e[0].binding = 0;
        e[0].buffer = uniforms_;
        e[0].size = 48;
        e[1].binding = 1;
        e[1].sampler = sampler_;
        e[2].binding = 2;
        e[2].textureView = d.texture->view;
        WGPUBindGroupDescriptor bd = {};
        bd.layout = layout_;
        bd.entryCount = 3;
        bd.entries = e;
        group_ = wgpuDeviceCreateBindGroup(device_, &bd);
        group_serial_ = d.texture->serial;
    }
    const es::Levels lv = d.levels.sanitized();
    const float u[12] = {d.x0, d.y0, d.x1, d.y1,
                         float(fb_width), float(fb_height), d.exact_texels ? 1.0f : 0.0f, 0.0f,
                         lv.brightness, lv.contrast, lv.gamma, 0.0f};
    wgpuQueueWriteBuffer(queue_, uniforms_, 0, u, sizeof(u));
    wgpuRenderPassEncoderSetViewport(pass, 0, 0, float(fb_width), float(fb_height), 0, 1);
    wgpuRenderPassEncoderSetScissorRect(pass, uint32_t(cx0), uint32_t(cy0), uint32_t(cx1 - cx0), uint32_t(cy1 - cy0));
    wgpuRenderPassEncoderSetPipeline(pass, pipeline_);
    wgpuRenderPassEncoderSetBindGroup(pass, 0, group_, 0, nullptr);
    wgpuRenderPassEncoderDraw(pass, 6, 1, 0, 0);
    wgpuRenderPassEncoderSetScissorRect(pass, 0, 0, uint32_t(fb_width), uint32_t(fb_height));
}

}  // namespace esui
