// gpu_texture.cpp: texture creation and upload (queue.writeTexture needs no
// 256-byte row alignment, unlike buffer-to-texture copies).
#include "gpu_texture.h"

namespace esui {

GpuTexture* create_gpu_texture(WGPUDevice device, WGPUQueue queue, int width, int height, const uint8_t* rgba) {
    WGPUTextureDescriptor td = {};
    td.usage = WGPUTextureUsage_TextureBinding | WGPUTextureUsage_CopyDst;
    td.dimension = WGPUTextureDimension_2D;
    td.size = {uint32_t(width), uint32_t(height), 1};
    td.format = WGPUTextureFormat_RGBA8Unorm;
    td.mipLevelCount = 1;
    td.sampleCount = 1;
    static uint64_t next_serial = 0;
    auto* t = new GpuTexture();
    t->serial = ++next_serial;
    t->texture = wgpuDeviceCreateTexture(device, &td);
    t->view = wgpuTextureCreateView(t->texture, nullptr);
    t->width = width;
    t->height = height;

    WGPUImageCopyTexture dst = {};
    dst.texture = t->texture;
    dst.aspect = WGPUTextureAspect_All;
    WGPUTextureDataLayout layout = {};
    layout.bytesPerRow = uint32_t(width) * 4;
    layout.rowsPerImage = uint32_t(height);
    WGPUExtent3D size = {uint32_t(width), uint32_t(height), 1};
    wgpuQueueWriteTexture(queue, &dst, rgba, size_t(width) * height * 4, &layout, &size);
    return t;
}

void destroy_gpu_texture(GpuTexture* t) {
    if (!t) return;
    if (t->imgui_bind_group) wgpuBindGroupRelease(t->imgui_bind_group);
    if (t->view) wgpuTextureViewRelease(t->view);
    if (t->texture) {
        wgpuTextureDestroy(t->texture);
        wgpuTextureRelease(t->texture);
    }
    delete t;
}

}  // namespace esui
