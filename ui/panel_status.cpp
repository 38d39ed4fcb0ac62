// panel_status.cpp: image coordinate and RGB value under the cursor; the image
// in view (name shortened to fit), its size and the zoom; where images go
// ("on-device only", or the inference server some work is set to run on).
#include <imgui.h>

#include <algorithm>
#include <cstdio>

#include "app.h"
#include "assistant_ui.h"
#include "json_read.h"
#include "panel_flags.h"
#include "text_fit.h"

namespace esui {

void draw_status_bar(App& a) {
    const Rect& r = a.layout.status;
    pin_window(r.x, r.y, r.w, r.h);
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(8, 5));
    ImGui::Begin("##status", nullptr, kPanelFlags | ImGuiWindowFlags_NoScrollbar);
    const float readout_w = 300.0f;
    if (a.cursor.valid) {
        ImGui::Text("x %5d  y %5d   R %3d  G %3d  B %3d", a.cursor.x, a.cursor.y, a.cursor.r, a.cursor.g, a.cursor.b);
    } else {
        text_ellipsized("Point at the image for its pixel values.", readout_w - 8, true);
    }
    // Work set to run on a server (Models tab) sends it the image: say so instead of "on-device only".
    const nlohmann::json& asst = assistant_ui().state;
    bool remote = false;
    for (const char* task : {"chat", "classify", "segment", "draft"}) remote = remote || assistant_on_server(asst, task);
    std::string origin;
    if (remote) origin = jstr(jfield(asst, "remote"), "origin");
    const std::string privacy_text = remote ? "images go to " + (origin.empty() ? std::string("a server") : origin)
                                            : std::string("on-device only");
    const char* privacy = privacy_text.c_str();
    const float privacy_w = ImGui::CalcTextSize(privacy).x;
    if (ViewerImage* img = a.current_image()) {
        char facts[96];
        std::snprintf(facts, sizeof facts, "   %d x %d   zoom %.1f%%", img->pixels.width, img->pixels.height,
                      a.view.scale * 100.0);
        const float facts_w = ImGui::CalcTextSize(facts).x;
        const float x0 = 8 + readout_w, x1 = r.w - privacy_w - 24;
        ImGui::SameLine(x0);
        text_ellipsized(img->name.c_str(), std::max(40.0f, x1 - x0 - facts_w));
        a.record_widget("status_image_name");
        ImGui::SameLine(0, 0);
        ImGui::TextUnformatted(facts);
    }
    ImGui::SameLine(std::max(ImGui::GetCursorPosX() + 8, r.w - privacy_w - 8));
    if (remote) ImGui::TextColored(ImVec4(1.0f, 0.8f, 0.3f, 1.0f), "%s", privacy);
    else ImGui::TextDisabled("%s", privacy);
    a.record_widget("status_privacy");
    if (remote && ImGui::IsItemHovered())
        ImGui::SetTooltip("Some work is set to run on an inference server (Assistant, Models, Where it runs):\n"
                          "the image in view is sent there for it.");
    ImGui::End();
    ImGui::PopStyleVar();
}

}  // namespace esui
