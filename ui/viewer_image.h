// viewer_image.h: one image open in the viewer: the decoded pixels (kept for
// exact read-outs), and the GPU textures shown (downscaled when the image is
// larger than the GPU's texture limit) and used as its thumbnail.
#pragma once
#include <memory>
#include <string>

#include "gpu_texture.h"
#include "image/image.h"

namespace esui {

struct ViewerImage {
    std::string name;     // file name as the user knows it
    std::string format;   // "png", "jpeg", "bmp"
    es::Image pixels;     // original decoded pixels
    GpuTexture* texture = nullptr;  // what the viewer draws
    GpuTexture* thumbnail = nullptr;
    bool downscaled = false;        // texture is smaller than pixels

    ~ViewerImage() {
        destroy_gpu_texture(texture);
        destroy_gpu_texture(thumbnail);
    }
};

}  // namespace esui
