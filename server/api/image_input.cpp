// image_input.cpp: see image_input.h.
#include "api/image_input.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>

#include "encoding/base64.h"
#include "image/image.h"

namespace es::server {

namespace {

std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string mib(size_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

}  // namespace

bool decode_data_url(const std::string& url, std::vector<uint8_t>* bytes, std::string* error) {
    if (lower(url.substr(0, 5)) != "data:") {
        *error = "it is not a data: URL";
        return false;
    }
    size_t comma = url.find(',');
    if (comma == std::string::npos) {
        *error = "the data: URL has no ',' before its data";
        return false;
    }
    std::string meta = lower(url.substr(5, comma - 5));
    if (meta.size() < 7 || meta.compare(meta.size() - 7, 7, ";base64") != 0) {
        *error = "the data: URL is not base64 (it must look like data:image/png;base64,....)";
        return false;
    }
    std::string b64error;
    if (!base64_decode(url.substr(comma + 1), bytes, &b64error)) {
        *error = "its base64 data is damaged (" + b64error + ")";
        return false;
    }
    return true;
}

ImageInput check_image_bytes(std::vector<uint8_t> bytes, const std::string& param, const ImageLimits& limits) {
    ImageInput in;
    if (bytes.size() > limits.max_encoded_bytes) {
        in.error = too_large("The image is " + mib(bytes.size()) + "; images may be at most " +
                                 mib(limits.max_encoded_bytes) + ". Send a smaller or more compressed image.",
                             param, "image_too_large");
        return in;
    }
    std::string format = sniff_image_format(bytes.data(), bytes.size());
    if (format != "png" && format != "jpeg" && format != "bmp") {
        std::string what = format.empty() ? "not an image this server can read" : "a " + format + " image";
        in.error = bad_request("The image is " + what + ". Send it as PNG, JPEG or BMP.", param, "image_unsupported");
        return in;
    }
    DecodeLimits dl;
    dl.max_pixels = limits.max_pixels;
    DecodeResult r = decode_image(bytes.data(), bytes.size(), dl);
    if (!r.ok) {
        bool over = r.reason.rfind("the image is too large", 0) == 0;
        std::string msg = over ? "The image is too large: at most " + std::to_string(limits.max_pixels / 1000000) +
                                     " megapixels are accepted. Send a smaller image. (" + r.error + ")"
                               : "The image cannot be read: " + r.reason + ". Send a PNG, JPEG or BMP file. (" +
                                     r.error + ")";
        in.error = over ? too_large(msg, param, "image_too_large") : bad_request(msg, param, "image_unreadable");
        return in;
    }
    in.format = r.format;
    in.width = r.image.width;
    in.height = r.image.height;
    in.bytes = std::move(bytes);
    return in;
}

ImageInput read_image_url(const std::string& url, const std::string& param, const ImageLimits& limits,
                          const std::vector<std::string>& allowed_hosts) {
    ImageInput in;
    std::string scheme = lower(url.substr(0, url.find(':') == std::string::npos ? 0 : url.find(':')));
    if (scheme == "data") {
        // Cheap size check before decoding: base64 is 4 characters per 3 bytes.
        if (url.size() / 4 * 3 > limits.max_encoded_bytes + 3) {
            in.error = too_large("The image is about " + mib(url.size() / 4 * 3) + "; images may be at most " +
                                     mib(limits.max_encoded_bytes) + ". Send a smaller or more compressed image.",
                                 param, "image_too_large");
            return in;
        }
        std::vector<uint8_t> bytes;
        std::string why;
        if (!decode_data_url(url, &bytes, &why)) {
            in.error = bad_request("The image URL cannot be read: " + why + ".", param, "invalid_image_url");
            return in;
        }
        return check_image_bytes(std::move(bytes), param, limits);
    }
    if (scheme != "http" && scheme != "https") {
        in.error = bad_request("Images must be sent as data: URLs (data:image/png;base64,...).", param,
                               "invalid_image_url");
        return in;
    }
    // http(s): only for hosts the config allows, fetched without following redirects.
    size_t host_start = scheme.size() + 3;
    if (url.compare(scheme.size(), 3, "://") != 0) {
        in.error = bad_request("The image URL is not a valid URL.", param, "invalid_image_url");
        return in;
    }
    size_t path_start = url.find_first_of("/?#", host_start);
    std::string authority = url.substr(host_start, path_start == std::string::npos ? std::string::npos : path_start - host_start);
    std::string host = authority;
    if (authority.find('@') != std::string::npos) host = "";  // no user:password@ URLs
    if (host.find(':') != std::string::npos) host = host.substr(0, host.find(':'));
    host = lower(host);
    if (host.empty() || std::find(allowed_hosts.begin(), allowed_hosts.end(), host) == allowed_hosts.end()) {
        in.error = bad_request(
            "This server does not fetch images from other web sites. Send the image itself as a data: URL "
            "(data:image/jpeg;base64,...), or ask the server's operator to list the host in config.json's "
            "\"image_url_hosts\".",
            param, "image_url_not_allowed");
        return in;
    }
    std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
    if (!path.empty() && path[0] != '/') path = "/" + path;
    httplib::Client client(scheme + "://" + authority);
    client.set_connection_timeout(10);
    client.set_read_timeout(30);
    client.set_follow_location(false);
    std::string body;
    bool too_big = false;
    auto result = client.Get(path.c_str(), [&](const char* data, size_t n) {
        if (body.size() + n > limits.max_encoded_bytes) {
            too_big = true;
            return false;
        }
        body.append(data, n);
        return true;
    });
    if (too_big) {
        in.error = too_large("The image at the URL is larger than " + mib(limits.max_encoded_bytes) + ".", param,
                             "image_too_large");
        return in;
    }
    if (!result || result->status != 200) {
        std::string why = !result ? httplib::to_string(result.error()) : "HTTP status " + std::to_string(result->status);
        in.error = bad_request("The image could not be fetched from its URL (" + why + ").", param,
                               "image_url_unreachable");
        return in;
    }
    return check_image_bytes(std::vector<uint8_t>(body.begin(), body.end()), param, limits);
}

}  // namespace es::server
