// image_renderer.h: draws one image into a rectangle of the canvas with the
// levels shader (shaders/image_view.wgsl), clipped to the viewer area.
#pragma once
#include <webgpu/webgpu.h>
#include "gpu_texture.h"
#include "image/image_levels.h"

namespace esui {

struct ImageDraw {
    GpuTexture* texture = nullptr;
    // Image rectangle and clip rectangle in framebuffer pixels.
    float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    int clip_x = 0, clip_y = 0, clip_w = 0, clip_h = 0;
    bool exact_texels = false;  // true when zoomed in: fetch texels, no filtering
    es::Levels levels;
};

class ImageRenderer {
public:
    bool init(WGPUDevice device, WGPUQueue queue, WGPUTextureFormat target_format);
    void draw(const ImageDraw& d, WGPURenderPassEncoder pass, int fb_width, int fb_height);

private:
    WGPUDevice device_ = nullptr;
    WGPUQueue queue_ = nullptr;
    WGPURenderPipeline pipeline_ = nullptr;
    WGPUBindGroupLayout layout_ = nullptr;
    WGPUBuffer uniforms_ = nullptr;
    WGPUSampler sampler_ = nullptr;
    WGPUBindGroup group_ = nullptr;
    uint64_t group_serial_ = 0;  // GpuTexture::serial of the texture group_ was made for
};

}  // namespace esui
