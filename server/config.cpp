// config.cpp: reading and validating server/config.json (see config.h).
#include "config.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "hub_hosts_data.h"
#include "version.h"

namespace es::server {

const std::vector<std::string>& hugging_face_hosts() {
    static const std::vector<std::string> hosts = [] {
        std::vector<std::string> out;
        // Checked at build time by the server tests (ServerConfig.HuggingFaceHostsFile).
        nlohmann::json j = nlohmann::json::parse(kHubHostsJson, nullptr, /*allow_exceptions=*/false);
        if (j.is_object() && j.contains("download_origins") && j["download_origins"].is_array())
            for (const auto& o : j["download_origins"])
                if (o.is_object() && o.contains("origin") && o["origin"].is_string() &&
                    check_https_origin(o["origin"].get<std::string>()).empty())
                    out.push_back(o["origin"].get<std::string>());
        return out;
    }();
    return hosts;
}

std::string check_https_origin(const std::string& origin) {
    const std::string scheme = "https://";
    if (origin.compare(0, scheme.size(), scheme) != 0)
        return "is not an https origin (it must start with https://)";
    std::string rest = origin.substr(scheme.size());
    if (rest.empty()) return "has no host name";
    std::string host = rest, port;
    size_t colon = rest.find(':');
    if (colon != std::string::npos) {
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
    }
    for (char c : port)
        if (c < '0' || c > '9') return "is not an https origin (it must be https://host[:port], with no path, query or user)";
    if (colon != std::string::npos && (port.empty() || port.size() > 5 || std::stol(port) < 1 || std::stol(port) > 65535))
        return "has an invalid port";
    if (host.empty() || host.size() > 253) return "has no valid host name";
    // Host names only (letters, digits, '-', '.'): anything else - '/', '?',
    // '@', '*', spaces, ';' - is a path, a wildcard, credentials, or an attempt
    // to inject into the Content-Security-Policy.
    for (char c : host) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        if (!ok) return "is not an https origin (it must be https://host[:port], with no path, query, wildcard or user)";
    }
    if (host.front() == '.' || host.back() == '.' || host.front() == '-' || host.find("..") != std::string::npos)
        return "has an invalid host name";
    return "";
}

std::string check_http_origin(const std::string& origin) {
    if (origin.compare(0, 7, "http://") == 0) {
        std::string why = check_https_origin("https://" + origin.substr(7));
        return why.empty() ? "" : why;
    }
    if (origin.compare(0, 8, "https://") == 0) return check_https_origin(origin);
    return "is not an http or https origin (it must be http://host[:port] or https://host[:port])";
}

std::vector<std::string> connect_sources(const Config& config) {
    std::vector<std::string> out = config.model_hosts;
    for (const auto& s : config.inference_servers)
        if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    return out;
}

namespace {

// A list of strings, each checked by `check` ("" = fine); false and r.error when not.
bool read_list(const nlohmann::json& j, const char* key, const std::function<std::string(const std::string&)>& check,
               std::vector<std::string>* out, ConfigResult& r) {
    auto it = j.find(key);
    if (it == j.end()) return true;
    if (!it->is_array()) {
        r.error = std::string("\"") + key + "\" must be an array of strings";
        return false;
    }
    for (size_t i = 0; i < it->size(); ++i) {
        const auto& v = (*it)[i];
        std::string where = std::string(key) + "[" + std::to_string(i) + "]";
        if (!v.is_string()) {
            r.error = where + " must be a string, not " + std::string(v.type_name());
            return false;
        }
        std::string s = v.get<std::string>();
        std::string why = check(s);
        if (!why.empty()) {
            r.error = where + " \"" + s + "\" " + why;
            return false;
        }
        if (std::find(out->begin(), out->end(), s) == out->end()) out->push_back(s);
    }
    return true;
}

std::string check_host_name(const std::string& host) {
    std::string why = check_https_origin("https://" + host);
    if (!why.empty() || host.find(':') != std::string::npos)
        return "is not a host name (write just the name, like images.example.org)";
    for (char c : host)
        if (c >= 'A' && c <= 'Z') return "must be written in lower case";
    return "";
}

}  // namespace

ConfigResult parse_config(const std::string& json_text) {
    ConfigResult r;
    nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/false);
    if (j.is_discarded()) {
        // Parse again for nlohmann's message, which says where the error is.
        try {
            nlohmann::json again = nlohmann::json::parse(json_text);
            (void)again;
            r.error = "not valid JSON";
        } catch (const nlohmann::json::parse_error& e) {
            r.error = std::string("not valid JSON: ") + e.what();
        }
        return r;
    }
    if (!j.is_object()) {
        r.error = "must be a JSON object, like {\"model_hosts\": [\"https://huggingface.co\"]}";
        return r;
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& key = it.key();
        if (key == "model_hosts" || key == "hugging_face_hosts" || key == "$comment" || key == "inference_servers" ||
            key == "app_origins" || key == "image_url_hosts")
            continue;
        r.error = "unknown key \"" + key +
                  "\" (known keys: hugging_face_hosts, model_hosts, inference_servers, app_origins, image_url_hosts, $comment)";
        return r;
    }
    if (j.contains("$comment") && !j["$comment"].is_string()) {
        r.error = "\"$comment\" must be a string";
        return r;
    }
    if (!read_list(j, "inference_servers", check_http_origin, &r.config.inference_servers, r) ||
        !read_list(j, "app_origins", check_http_origin, &r.config.app_origins, r) ||
        !read_list(j, "image_url_hosts", check_host_name, &r.config.image_url_hosts, r))
        return r;
    auto hf = j.find("hugging_face_hosts");
    if (hf != j.end()) {
        if (!hf->is_boolean()) {
            r.error = "\"hugging_face_hosts\" must be true or false";
            return r;
        }
        r.config.hugging_face_hosts = hf->get<bool>();
    }
    auto add = [&r](const std::string& origin) {
        for (const auto& h : r.config.model_hosts)
            if (h == origin) return;
        r.config.model_hosts.push_back(origin);
    };
    if (r.config.hugging_face_hosts)
        for (const auto& h : hugging_face_hosts()) add(h);
    auto hosts = j.find("model_hosts");
    if (hosts == j.end()) {
        if (hf != j.end()) {
            r.ok = true;
            return r;
        }
        r.error = "missing \"model_hosts\": a list of https origins the app may download models from (may be []), "
                  "or \"hugging_face_hosts\": true for Hugging Face's";
        return r;
    }
    if (!hosts->is_array()) {
        r.error = "\"model_hosts\" must be an array of strings";
        return r;
    }
    for (size_t i = 0; i < hosts->size(); ++i) {
        const auto& h = (*hosts)[i];
        std::string where = "model_hosts[" + std::to_string(i) + "]";
        if (!h.is_string()) {
            r.error = where + " must be a string, not " + std::string(h.type_name());
            return r;
        }
        std::string origin = h.get<std::string>();
        std::string why = check_https_origin(origin);
        if (!why.empty()) {
            r.error = where + " \"" + origin + "\" " + why;
            return r;
        }
        add(origin);
    }
    r.ok = true;
    return r;
}

ConfigResult load_config_file(const std::string& path) {
    ConfigResult r;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        r.error = "config " + path + ": cannot be read (does the file exist?)";
        return r;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    r = parse_config(ss.str());
    if (!r.ok) r.error = "config " + path + ": " + r.error;
    return r;
}

std::string config_to_json(const Config& config, const std::string& content_security_policy) {
    nlohmann::json j;
    j["model_hosts"] = config.model_hosts;
    j["hugging_face_hosts"] = config.hugging_face_hosts;
    j["inference_servers"] = config.inference_servers;
    j["content_security_policy"] = content_security_policy;
    j["version"] = es::version();
    return j.dump(2);
}

}  // namespace es::server
