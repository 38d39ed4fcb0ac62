// model_loading.h: the chat model loads on a thread of its own while the
// server already serves (the app, /health, segmentation): /health says
// "loading" meanwhile, then "ready", or "failed" with the reason, which also
// goes to stderr. A load takes from seconds (the test model) to minutes (a 4B
// package checked against its manifest), so nothing waits for it.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "api/inference_api.h"

namespace es::server {

class ModelLoading {
public:
    // load(): the engine, or null with *error saying why. Called once, on the
    // loading thread; set_loading(true) is said before the constructor returns.
    using Load = std::function<std::unique_ptr<ChatEngine>(std::string* error)>;
    ModelLoading(InferenceApi& api, Load load);
    ~ModelLoading();  // waits for the load to end
    ModelLoading(const ModelLoading&) = delete;
    ModelLoading& operator=(const ModelLoading&) = delete;

    bool finished() const { return finished_; }

private:
    std::atomic<bool> finished_{false};
    std::thread thread_;
};

}  // namespace es::server
