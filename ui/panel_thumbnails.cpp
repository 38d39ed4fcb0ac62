// panel_thumbnails.cpp: the case as a strip of thumbnails; click to show one.
#include <imgui.h>
#include <algorithm>
#include <string>

#include "app.h"
#include "panel_flags.h"

namespace esui {

void draw_thumbnail_strip(App& a) {
    const float y = a.css_height - kStatusBarHeight - kThumbStripHeight;
    pin_window(0, y, a.css_width, kThumbStripHeight);
    ImGui::Begin("##thumbnails", nullptr, kPanelFlags | ImGuiWindowFlags_HorizontalScrollbar);
    for (int i = 0; i < int(a.images.size()); i++) {
        ViewerImage* img = a.images[i].get();
        GpuTexture* t = img->thumbnail;
        const float s = float(kThumbnailSize);
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
        std::string label = img->name;
        if (label.size() > 14) label = label.substr(0, 13) + "~";
        ImGui::TextUnformatted(label.c_str());
        ImGui::PopID();
        ImGui::EndGroup();
        ImGui::SameLine();
    }
    // The strip only scrolls sideways: let the ordinary wheel do that.
    const ImGuiIO& io = ImGui::GetIO();
    if (ImGui::IsWindowHovered() && io.MouseWheel != 0.0f && io.MouseWheelH == 0.0f)
        ImGui::SetScrollX(ImGui::GetScrollX() - io.MouseWheel * 3 * (kThumbnailSize + 14));
    ImGui::End();
}

}  // namespace esui
