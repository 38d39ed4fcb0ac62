// main.cpp: the app's entry point. web/loader.js has already obtained the
// WebGPU device (asynchronously, in JS) and handed it over as
// Module.preinitializedWebGPUDevice; main sets up and starts the frame loop,
// which runs on requestAnimationFrame and never blocks.
#include <emscripten/emscripten.h>
#include <emscripten/html5.h>

#include "app.h"

namespace esui {
void install_html5_input();
}

static EM_BOOL frame(double time_ms, void*) {
    esui::app().frame(time_ms);
    return EM_TRUE;
}

int main() {
    if (!esui::app().init()) {
        EM_ASM({ if (Module.onAppFailed) Module.onAppFailed("could not set up WebGPU rendering"); });
        return 1;
    }
    esui::install_html5_input();
    emscripten_request_animation_frame_loop(frame, nullptr);
    EM_ASM({ if (Module.onAppReady) Module.onAppReady(); });
    return 0;
}
