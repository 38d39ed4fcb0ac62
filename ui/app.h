// app.h: the viewer application: open images (a case), the view, levels,
// messages, and the GPU objects that draw them. One instance, owned by main.
// The frame loop (main.cpp) calls frame(); the html5 glue (platform_html5.cpp)
// feeds input; JS calls in through app_exports.cpp.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <webgpu/webgpu.h>

#include "case/case.h"
#include "image/image_levels.h"
#include "image_renderer.h"
#include "imgui_renderer.h"
#include "input_queue.h"
#include "layout.h"
#include "messages.h"
#include "view_transform.h"
#include "viewer_image.h"

namespace esui {

constexpr int kThumbnailSize = 88;  // thumbnail textures are made at twice this (CSS px)

struct CursorReadout {
    bool valid = false;  // cursor over the current image
    int x = 0, y = 0;    // image pixel (original resolution)
    int r = 0, g = 0, b = 0, a = 0;
};

class App {
public:
    bool init();
    void frame(double time_ms);

    // Decodes `bytes` with the core; on failure records an error naming the
    // file and changes nothing else. Returns the new image's index or -1.
    int open_image(const std::string& name, const uint8_t* bytes, size_t size, bool select);
    void select(int index);
    void fit();
    void one_to_one();
    void zoom_by(double factor);  // about the viewer centre
    std::string state_json() const;

    // Input glue (platform_html5.cpp).
    InputQueue input;
    // Over the viewer and under no window (banner, popup, tooltip);
    // `through_transparent`: windows without a background (the region catcher) do not count.
    bool viewer_hit(float x, float y, bool through_transparent = false) const;
    void on_viewer_wheel(double factor, float x, float y);
    void on_viewer_drag(float dx, float dy);
    bool panning = false;
    bool left_drag_annotates = false;  // an annotation tool owns the left button (annotation_tools.cpp)
    float pan_last_x = 0, pan_last_y = 0;

    std::vector<std::unique_ptr<ViewerImage>> images;
    int current = -1;
    ViewTransform view;
    bool auto_fit = true;  // refit on resize until the user zooms or pans
    es::Levels levels;
    Messages messages;
    std::string case_name;
    es::Case current_case;  // the case.json the open images came from (lesions etc.)
    int max_texture_dimension = 8192;
    int texture_limit_override = 0;  // testing aid: pretend the GPU limit is this

    // Canvas geometry.
    float css_width = 0, css_height = 0, dpr = 1;
    int fb_width = 0, fb_height = 0;
    // The fixed regions (layout.h), recomputed at the start of every frame.
    // viewer_rect = layout.viewer: what no panel covers; Fit, hit-testing,
    // the image's clip and the message banners (at its top) use it.
    LayoutSizes layout_sizes;
    Layout layout;
    Rect viewer_rect;
    // Splitters and the panel toggle: the new sizes show from the next frame;
    // save_layout_sizes keeps them in the browser (localStorage).
    void set_layout_sizes(LayoutSizes sizes);
    void save_layout_sizes() const;
    CursorReadout cursor;
    unsigned frame_count = 0;        // frames drawn
    // Idle frames are skipped (the canvas keeps its last picture): nothing is
    // drawn once nothing has changed for a second. Anything that changes what
    // is shown calls wake().
    void wake() { idle_frames_ = 0; }
    // Shows new content with a few frames instead of a second of full-rate
    // drawing (streamed answer tokens: the GPU is busy with inference).
    void redraw() { if (idle_frames_ > 58) idle_frames_ = 58; }
    // Screen rectangles of named controls, for the automation hook
    // (window.endoscribe.state().widgets): tests click the real controls.
    std::map<std::string, Rect> widgets;
    void record_widget(const char* name);  // the last ImGui item

    ViewerImage* current_image() const { return current >= 0 && current < int(images.size()) ? images[current].get() : nullptr; }

private:
    void update_canvas_size();
    void load_layout_sizes();
    void close_popup_on_escape();
    void configure_swap_chain();
    void rebuild_fonts();
    void handle_shortcuts();
    void update_cursor_readout();
    void draw_ui();
    void render();

    WGPUDevice device_ = nullptr;
    WGPUQueue queue_ = nullptr;
    WGPUSurface surface_ = nullptr;
    WGPUSwapChain swap_chain_ = nullptr;
    WGPUTextureFormat format_ = WGPUTextureFormat_BGRA8Unorm;
    ImGuiRenderer imgui_renderer_;
    ImageRenderer image_renderer_;
    float font_dpr_ = 0;
    int idle_frames_ = 0;
    double last_scale_ = 0, last_offset_x_ = 0, last_offset_y_ = 0;
    es::Levels last_levels_;
    double last_time_ms_ = 0;
};

App& app();

// Panels (one file each, panel_*.cpp), each in its region of App::layout.
void draw_toolbar(App& a);
void draw_tool_strip(App& a);  // annotation tools, left of the viewer
void draw_splitters(App& a);
void draw_case_menu(App& a);  // panel_case.cpp (case_ui.h), in the toolbar's case area
void draw_side_panel(App& a);  // tabs: Image, Assistant (registered in panel_side.cpp)
void draw_thumbnail_strip(App& a);
void draw_status_bar(App& a);
void draw_message_banner(App& a);
void draw_empty_hint(App& a);
void draw_assistant(App& a);      // per frame: image change notice, boxes on the viewer (panel_assistant.cpp)
void draw_assistant_tab(App& a);  // the side panel's Assistant tab: Chat / Classify / Models
void draw_annotations(App& a);    // per frame: tools over the viewer, overlays (annotation_tools.cpp)
void draw_image_tab(App& a);      // the side panel's Image tab (panel_side.cpp)

// JS side (web/loader.js) entry points called from C++.
void js_open_file_picker();
void js_set_cursor(const char* css_cursor);

}  // namespace esui
