// app.cpp: see app.h. Frame = read canvas size, apply input, build the UI,
// draw the image and then ImGui in one render pass. Never blocks.
#include "app.h"

#include <emscripten/emscripten.h>
#include <emscripten/html5.h>
#include <emscripten/html5_webgpu.h>
#include <imgui.h>
#include <imgui_internal.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "image/image_resize.h"
#include "webgpu_fixups.h"

namespace esui {

App& app() {
    static App instance;
    return instance;
}

bool App::init() {
    device_ = emscripten_webgpu_get_device();  // Module.preinitializedWebGPUDevice, from web/loader.js
    if (!device_) return false;
    queue_ = wgpuDeviceGetQueue(device_);

    WGPUSupportedLimits limits = {};
    if (wgpuDeviceGetLimits(device_, &limits) && limits.limits.maxTextureDimension2D > 0)
        max_texture_dimension = int(limits.limits.maxTextureDimension2D);

    WGPUSurfaceDescriptorFromCanvasHTMLSelector canvas_desc = {};
    canvas_desc.chain.sType = WGPUSType_SurfaceDescriptorFromCanvasHTMLSelector;
    canvas_desc.selector = "#canvas";
    WGPUSurfaceDescriptor surface_desc = {};
    surface_desc.nextInChain = &canvas_desc.chain;
    surface_ = wgpuInstanceCreateSurface(nullptr, &surface_desc);
    if (!surface_) return false;
    format_ = wgpuSurfaceGetPreferredFormat(surface_, nullptr);  // via web/webgpu_compat.js
    if (format_ == WGPUTextureFormat_Undefined) format_ = WGPUTextureFormat_BGRA8Unorm;

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;  // fixed regions; the splitter sizes are kept by save_layout_sizes
    io.BackendPlatformName = "endoscribe_html5";
    io.BackendFlags |= ImGuiBackendFlags_HasMouseCursors;
    // ImGui 1.86 keys: io.KeysDown is indexed by DOM keyCode.
    io.KeyMap[ImGuiKey_Tab] = 9;
    io.KeyMap[ImGuiKey_LeftArrow] = 37;
    io.KeyMap[ImGuiKey_RightArrow] = 39;
    io.KeyMap[ImGuiKey_UpArrow] = 38;
    io.KeyMap[ImGuiKey_DownArrow] = 40;
    io.KeyMap[ImGuiKey_PageUp] = 33;
    io.KeyMap[ImGuiKey_PageDown] = 34;
    io.KeyMap[ImGuiKey_Home] = 36;
    io.KeyMap[ImGuiKey_End] = 35;
    io.KeyMap[ImGuiKey_Insert] = 45;
    io.KeyMap[ImGuiKey_Delete] = 46;
    io.KeyMap[ImGuiKey_Backspace] = 8;
    io.KeyMap[ImGuiKey_Space] = 32;
    io.KeyMap[ImGuiKey_Enter] = 13;
    io.KeyMap[ImGuiKey_Escape] = 27;
    io.KeyMap[ImGuiKey_KeyPadEnter] = 13;
    io.KeyMap[ImGuiKey_A] = 65;
    io.KeyMap[ImGuiKey_C] = 67;
    io.KeyMap[ImGuiKey_V] = 86;
    io.KeyMap[ImGuiKey_X] = 88;
    io.KeyMap[ImGuiKey_Y] = 89;
    io.KeyMap[ImGuiKey_Z] = 90;

    ImGui::StyleColorsDark();
    ImGuiStyle& style = ImGui::GetStyle();
    style.WindowRounding = 0.0f;
    style.WindowBorderSize = 0.0f;
    style.FrameRounding = 3.0f;
    style.WindowMinSize = ImVec2(1, 1);  // the regions have the sizes layout.h gives (the status bar is 26 px)

    load_layout_sizes();
    update_canvas_size();
    rebuild_fonts();
    if (!imgui_renderer_.init(device_, queue_, format_)) return false;
    if (!image_renderer_.init(device_, queue_, format_)) return false;
    configure_swap_chain();
    return true;
}

void App::update_canvas_size() {
    double w = 0, h = 0;
    emscripten_get_element_css_size("#canvas", &w, &h);
    double ratio = emscripten_get_device_pixel_ratio();
    if (ratio <= 0) ratio = 1;
    css_width = float(w);
    css_height = float(h);
    dpr = float(ratio);
    const int want_w = std::max(1, int(std::lround(w * ratio)));
    const int want_h = std::max(1, int(std::lround(h * ratio)));
    if (want_w != fb_width || want_h != fb_height) {
        fb_width = want_w;
        fb_height = want_h;
        emscripten_set_canvas_element_size("#canvas", fb_width, fb_height);
        if (swap_chain_) configure_swap_chain();
    }
    layout = compute_layout(css_width, css_height, layout_sizes);
    viewer_rect = layout.viewer;
}

void App::set_layout_sizes(LayoutSizes sizes) {
    // Keep what is shown, so a drag past a limit does not leave a size the
    // user cannot see.
    const Layout l = compute_layout(css_width, css_height, sizes);
    if (sizes.side_open) sizes.side_width = l.side.w;
    sizes.thumb_height = l.thumbs.h;
    layout_sizes = sizes;
    wake();
}

// localStorage, not the case store: these are the user's screen, not the case.
void App::load_layout_sizes() {
    const double side = EM_ASM_DOUBLE({
        try { return Number(localStorage.getItem('endoscribe.layout.side_width')) || 0; } catch (e) { return 0; }
    });
    const double thumbs = EM_ASM_DOUBLE({
        try { return Number(localStorage.getItem('endoscribe.layout.thumb_height')) || 0; } catch (e) { return 0; }
    });
    const int open = EM_ASM_INT({
        try { return localStorage.getItem('endoscribe.layout.side_open') === '0' ? 0 : 1; } catch (e) { return 1; }
    });
    if (side > 0) layout_sizes.side_width = float(side);
    if (thumbs > 0) layout_sizes.thumb_height = float(thumbs);
    layout_sizes.side_open = open != 0;
}

void App::save_layout_sizes() const {
    EM_ASM({
        try {
            localStorage.setItem('endoscribe.layout.side_width', String($0));
            localStorage.setItem('endoscribe.layout.thumb_height', String($1));
            localStorage.setItem('endoscribe.layout.side_open', $2 ? '1' : '0');
        } catch (e) { /* storage off (private mode): the sizes last for this visit */ }
    }, layout_sizes.side_width, layout_sizes.thumb_height, layout_sizes.side_open ? 1 : 0);
}

void App::configure_swap_chain() {
    if (swap_chain_) wgpuSwapChainRelease(swap_chain_);
    WGPUSwapChainDescriptor d = {};
    d.usage = WGPUTextureUsage_RenderAttachment;
    d.format = format_;
    d.width = uint32_t(fb_width);
    d.height = uint32_t(fb_height);
    d.presentMode = WGPUPresentMode_Fifo;
    swap_chain_ = wgpuDeviceCreateSwapChain(device_, surface_, &d);
}

void App::rebuild_fonts() {
    // Rasterise the font at device resolution and scale back, so text stays
    // sharp on high-DPI screens.
    if (font_dpr_ == dpr) return;
    ImGuiIO& io = ImGui::GetIO();
    io.Fonts->Clear();
    ImFontConfig cfg;
    cfg.SizePixels = std::round(13.0f * dpr);
    io.Fonts->AddFontDefault(&cfg);
    io.FontGlobalScale = 1.0f / dpr;
    if (font_dpr_ != 0) imgui_renderer_.rebuild_fonts();
    font_dpr_ = dpr;
}

int App::open_image(const std::string& name, const uint8_t* bytes, size_t size, bool select_it) {
    es::DecodeResult r = es::decode_image(bytes, size);
    if (!r.ok) {
        wake();
        messages.error("\"" + name + "\" could not be opened: " +
                           (r.reason.empty() ? std::string("the file is damaged or not an image") : r.reason) +
                           ". Other images are unaffected.",
                       r.error);
        return -1;
    }
    auto img = std::make_unique<ViewerImage>();
    img->name = name;
    img->format = r.format;
    img->pixels = std::move(r.image);
    const int w = img->pixels.width, h = img->pixels.height;

    int limit = max_texture_dimension;
    if (texture_limit_override > 0) limit = std::min(limit, texture_limit_override);
    es::FitResult fitted = es::fit_to_max_dimension(img->pixels, limit);
    img->downscaled = fitted.downscaled;
    img->texture = create_gpu_texture(device_, queue_, fitted.image.width, fitted.image.height, fitted.image.rgba.data());
    if (fitted.downscaled) {
        char buf[512];
        std::snprintf(buf, sizeof buf,
                      "\"%s\" is larger than this graphics card can show at once, so it is shown downscaled to "
                      "%d x %d. Pixel values under the cursor and all measurements use the full %d x %d image.",
                      name.c_str(), fitted.image.width, fitted.image.height, w, h);
        char details[128];
        std::snprintf(details, sizeof details, "GPU maxTextureDimension2D = %d", limit);
        messages.notice(buf, details);
    }
    es::FitResult thumb = es::fit_to_max_dimension(fitted.image, kThumbnailSize * 2);
    img->thumbnail = create_gpu_texture(device_, queue_, thumb.image.width, thumb.image.height, thumb.image.rgba.data());

    images.push_back(std::move(img));
    wake();
    const int index = int(images.size()) - 1;
    if (select_it || current < 0) select(index);
    return index;
}

void App::select(int index) {
    if (index < 0 || index >= int(images.size())) return;
    current = index;
    auto_fit = true;
    wake();
    fit();
}

void App::fit() {
    if (ViewerImage* img = current_image()) view.fit(img->pixels.width, img->pixels.height, viewer_rect);
    auto_fit = true;
}

void App::one_to_one() {
    if (ViewerImage* img = current_image()) view.one_to_one(img->pixels.width, img->pixels.height, viewer_rect);
    auto_fit = false;
}

void App::zoom_by(double factor) {
    view.zoom_at(factor, viewer_rect.x + viewer_rect.w / 2, viewer_rect.y + viewer_rect.h / 2);
    auto_fit = false;
}

bool App::viewer_hit(float x, float y, bool through_transparent) const {
    if (!viewer_rect.contains(x, y)) return false;
    ImGuiContext* g = ImGui::GetCurrentContext();
    if (!g) return false;
    for (ImGuiWindow* w : g->Windows) {
        // Mid-frame only ImGui's implicit, never drawn "Debug" window is active
        // yet: the windows on screen are those of the last frame (WasActive).
        if (w->IsFallbackWindow || w->Hidden || !(w->Active || w->WasActive)) continue;
        if (through_transparent && (w->Flags & ImGuiWindowFlags_NoBackground)) continue;
        if (w->Rect().Contains(ImVec2(x, y))) return false;
    }
    return true;
}

void App::on_viewer_wheel(double factor, float x, float y) {
    if (!current_image()) return;
    view.zoom_at(factor, x, y);
    auto_fit = false;
}

void App::on_viewer_drag(float dx, float dy) {
    if (!current_image()) return;
    view.pan(dx, dy);
    auto_fit = false;
}

void App::handle_shortcuts() {
    ImGuiIO& io = ImGui::GetIO();
    if (io.WantTextInput || io.KeyCtrl || io.KeyAlt || io.KeySuper) return;
    if (ImGui::IsKeyPressed('F', false)) fit();
    if (ImGui::IsKeyPressed('1', false) || ImGui::IsKeyPressed(97, false)) one_to_one();
    if (ImGui::IsKeyPressed(187) || ImGui::IsKeyPressed(107) || ImGui::IsKeyPressed(61)) zoom_by(1.25);
    if (ImGui::IsKeyPressed(189) || ImGui::IsKeyPressed(109) || ImGui::IsKeyPressed(173)) zoom_by(0.8);
    if (ImGui::IsKeyPressed('O', false)) js_open_file_picker();
    if (ImGui::IsKeyPressed(37) || ImGui::IsKeyPressed(33)) select(std::max(0, current - 1));
    if (ImGui::IsKeyPressed(39) || ImGui::IsKeyPressed(34)) select(std::min(int(images.size()) - 1, current + 1));
}

void App::update_cursor_readout() {
    cursor = {};
    ViewerImage* img = current_image();
    const ImVec2 m = ImGui::GetIO().MousePos;
    if (!img || !viewer_hit(m.x, m.y, true)) return;  // read-out also while drawing a region
    // Mouse positions are whole CSS pixels; read the texel drawn at the
    // pixel's centre, which is what the user sees under the pointer.
    const int x = int(std::floor(view.to_image_x(m.x + 0.5)));
    const int y = int(std::floor(view.to_image_y(m.y + 0.5)));
    if (x < 0 || y < 0 || x >= img->pixels.width || y >= img->pixels.height) return;
    const uint8_t* p = img->pixels.pixel(x, y);
    cursor = {true, x, y, p[0], p[1], p[2], p[3]};
}

void App::frame(double time_ms) {
    const int old_w = fb_width, old_h = fb_height;
    update_canvas_size();
    ImGuiIO& io = ImGui::GetIO();
    const bool changed = !input.empty() || fb_width != old_w || fb_height != old_h || view.scale != last_scale_ ||
        view.offset_x != last_offset_x_ || view.offset_y != last_offset_y_ || levels.brightness != last_levels_.brightness ||
        levels.contrast != last_levels_.contrast || levels.gamma != last_levels_.gamma || io.WantTextInput;
    if (changed) idle_frames_ = 0;
    if (idle_frames_++ > 60) {  // ~1 s without changes: keep the last picture
        last_time_ms_ = time_ms;
        return;
    }
    rebuild_fonts();
    io.DisplaySize = ImVec2(css_width, css_height);
    io.DisplayFramebufferScale = ImVec2(dpr, dpr);
    io.DeltaTime = last_time_ms_ > 0 ? float(std::max(0.001, (time_ms - last_time_ms_) / 1000.0)) : 1.0f / 60.0f;
    last_time_ms_ = time_ms;
    input.apply_to_imgui();

    if (auto_fit) fit();
    ImGui::NewFrame();
    close_popup_on_escape();
    handle_shortcuts();
    update_cursor_readout();
    draw_ui();
    ImGui::Render();

    static const char* kCursors[] = {"default", "text", "move", "ns-resize", "ew-resize", "nesw-resize",
                                     "nwse-resize", "pointer", "not-allowed"};
    const ImGuiMouseCursor c = ImGui::GetMouseCursor();
    const ImVec2 m = io.MousePos;
    if (panning) js_set_cursor("grabbing");
    else if (!io.WantCaptureMouse && current_image() && viewer_hit(m.x, m.y)) js_set_cursor("grab");
    else js_set_cursor(c >= 0 && c < int(sizeof kCursors / sizeof *kCursors) ? kCursors[c] : "default");

    render();
    if (++frame_count == 1) EM_ASM({ if (Module.onFirstFrame) Module.onFirstFrame(); });
    last_scale_ = view.scale;
    last_offset_x_ = view.offset_x;
    last_offset_y_ = view.offset_y;
    last_levels_ = levels;
}

// ImGui 1.86 closes popups with Escape only under keyboard navigation, which
// the app does not turn on. The Escape that closes a combo, menu or dialog is
// used up, so the annotation tools do not also drop the selection or drawing.
void App::close_popup_on_escape() {
    ImGuiIO& io = ImGui::GetIO();
    if (!ImGui::IsKeyPressed(io.KeyMap[ImGuiKey_Escape], false)) return;
    if (!ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId | ImGuiPopupFlags_AnyPopupLevel)) return;
    ImGui::ClosePopupToLevel(0, true);
    io.KeysDownDuration[io.KeyMap[ImGuiKey_Escape]] = io.DeltaTime;  // held, no longer "pressed" this frame
    wake();
}

void App::record_widget(const char* name) {
    // Only the part on screen: a control scrolled out of its panel is not
    // listed, so a test cannot click where something else is drawn.
    ImRect r(ImGui::GetItemRectMin(), ImGui::GetItemRectMax());
    r.ClipWithFull(ImGui::GetCurrentWindow()->ClipRect);
    if (r.GetWidth() < 1.0f || r.GetHeight() < 1.0f) return;
    widgets[name] = {r.Min.x, r.Min.y, r.GetWidth(), r.GetHeight()};
}

void App::draw_ui() {
    widgets.clear();
    draw_annotations(*this);  // first, so the tool strip and Image tab show this frame's result
    draw_toolbar(*this);
    draw_tool_strip(*this);
    draw_side_panel(*this);
    draw_thumbnail_strip(*this);
    draw_splitters(*this);
    draw_status_bar(*this);
    draw_assistant(*this);
    draw_empty_hint(*this);
    draw_message_banner(*this);  // at the top of viewer_rect
}

void App::render() {
    WGPUTextureView target = wgpuSwapChainGetCurrentTextureView(swap_chain_);
    WGPUCommandEncoder encoder = wgpuDeviceCreateCommandEncoder(device_, nullptr);
    WGPURenderPassColorAttachment color = {};
    color.view = target;
    color.loadOp = kLoadOpClear;  // see webgpu_fixups.h
    color.storeOp = WGPUStoreOp_Store;
    color.clearColor = {0.08, 0.08, 0.09, 1.0};
    WGPURenderPassDescriptor rp = {};
    rp.colorAttachmentCount = 1;
    rp.colorAttachments = &color;
    WGPURenderPassEncoder pass = wgpuCommandEncoderBeginRenderPass(encoder, &rp);

    if (ViewerImage* img = current_image()) {
        ImageDraw d;
        d.texture = img->texture;
        d.x0 = float(view.to_screen_x(0) * dpr);
        d.y0 = float(view.to_screen_y(0) * dpr);
        d.x1 = float(view.to_screen_x(img->pixels.width) * dpr);
        d.y1 = float(view.to_screen_y(img->pixels.height) * dpr);
        d.clip_x = int(std::floor(viewer_rect.x * dpr));
        d.clip_y = int(std::floor(viewer_rect.y * dpr));
        d.clip_w = int(std::ceil(viewer_rect.w * dpr));
        d.clip_h = int(std::ceil(viewer_rect.h * dpr));
        // Shown texels per device pixel: at or above 1, fetch exact texels.
        d.exact_texels = view.scale * dpr * img->texture->width / img->pixels.width >= 1.0;
        d.levels = levels;
        image_renderer_.draw(d, pass, fb_width, fb_height);
    }
    imgui_renderer_.render(ImGui::GetDrawData(), pass, fb_width, fb_height);

    wgpuRenderPassEncoderEnd(pass);
    WGPUCommandBuffer commands = wgpuCommandEncoderFinish(encoder, nullptr);
    wgpuQueueSubmit(queue_, 1, &commands);
    wgpuCommandBufferRelease(commands);
    wgpuRenderPassEncoderRelease(pass);
    wgpuCommandEncoderRelease(encoder);
    wgpuTextureViewRelease(target);
}

}  // namespace esui
