// panel_thumbnails.cpp: the case as a strip of thumbnails under the viewer;
// click to show one. The thumbnails grow and shrink with the strip's height
// (its splitter).
#include <imgui.h>
#include <algorithm>
#include <string>

#include "app.h"
#include "panel_flags.h"
#include "text_fit.h"

namespace esui {

void draw_thumbnail_strip(App& a) {
    const Rect& r = a.layout.thumbs;
    if (r.w <= 0 || r.h <= 0) return;
    pin_window(r.x, r.y, r.w, r.h);
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(8, 6));
    ImGui::Begin("##thumbnails", nullptr, kPanelFlags | ImGuiWindowFlags_HorizontalScrollbar);
    ImGui::PopStyleVar();
    const ImGuiStyle& style = ImGui::GetStyle();
    // Square button + one line of name + the horizontal scrollbar fill the strip.
    const float s = std::clamp(r.h - 12 - 6 - ImGui::GetTextLineHeightWithSpacing() - style.ScrollbarSize - 4, 24.0f,
                               float(kThumbnailSize) * 2);
    for (int i = 0; i < int(a.images.size()); i++) {
        ViewerImage* img = a.images[i].get();
        GpuTexture* t = img->thumbnail;
        const float k = std::min(s / t->width, s / t->height);
        const ImVec2 size(t->width * k, t->height * k);
        ImGui::BeginGroup();
        ImGui::PushID(i);
        const bool selected = i == a.current;
        ImGui::PushStyleColor(ImGuiCol_Button, selected ? ImVec4(0.26f, 0.59f, 0.98f, 1.0f) : ImVec4(0.2f, 0.2f, 0.22f, 1.0f));
        // Pad so every button is the same square size whatever the aspect ratio.
        ImGui::PushStyleVar(ImGuiStyleVar_FramePadding, ImVec2((s - size.x) / 2 + 3, (s - size.y) / 2 + 3));
        if (ImGui::ImageButton(static_cast<ImTextureID>(t), size)) a.select(i);
        ImGui::PopStyleVar();
        ImGui::PopStyleColor();
        a.record_widget(("thumb_" + std::to_string(i)).c_str());
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s (%d x %d)", img->name.c_str(), img->pixels.width, img->pixels.height);
        text_ellipsized(img->name.c_str(), s + 6);
        ImGui::PopID();
        ImGui::EndGroup();
        ImGui::SameLine();
    }
    // The strip only scrolls sideways: let the ordinary wheel do that.
    const ImGuiIO& io = ImGui::GetIO();
    if (ImGui::IsWindowHovered() && io.MouseWheel != 0.0f && io.MouseWheelH == 0.0f)
        ImGui::SetScrollX(ImGui::GetScrollX() - io.MouseWheel * 3 * (s + 14));
    ImGui::End();
}

}  // namespace esui
