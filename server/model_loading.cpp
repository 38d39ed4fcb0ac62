// model_loading.cpp: see model_loading.h.
#include "model_loading.h"

#include <cstdio>
#include <exception>

namespace es::server {

ModelLoading::ModelLoading(InferenceApi& api, Load load) {
    api.set_loading(true);
    thread_ = std::thread([this, &api, load = std::move(load)] {
        std::string error;
        std::unique_ptr<ChatEngine> engine;
        try {
            engine = load(&error);
        } catch (const std::exception& e) {
            error = e.what();
        }
        if (engine) {
            api.set_engine(std::move(engine));
        } else {
            if (error.empty()) error = "the model package could not be loaded";
            std::fprintf(stderr, "endoscribe-server: cannot load the model: %s\n", error.c_str());
            api.set_load_failed(error);
        }
        finished_ = true;
    });
}

ModelLoading::~ModelLoading() {
    if (thread_.joinable()) thread_.join();
}

}  // namespace es::server
