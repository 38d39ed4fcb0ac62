// image_input.cpp: see image_input.h.
#include "api/image_input.h"

#include <algorithm>
#include <cctype>

#include "encoding/base64.h"

namespace es::server {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

ImageInput fail(int status, std::string message, std::string detail = "") {
    ImageInput r;
    r.status = status;
    r.message = std::move(message);
    r.detail = std::move(detail);
    return r;
}

}  // namespace

ImageInput read_image_data_url(const std::string& url, const std::string& what, const ImageLimits& limits) {
    const std::string head = lower(url.substr(0, std::min<size_t>(url.size(), 256)));
    if (head.rfind("http://", 0) == 0 || head.rfind("https://", 0) == 0)
        return fail(400, what + " is a web address; this server takes images only as data: URLs "
                                "(data:image/jpeg;base64,...), so the image never has to be fetched from elsewhere");
    if (head.rfind("data:", 0) != 0)
        return fail(400, what + " is not a data: URL; send the image as data:image/png;base64,... (or jpeg, bmp)");
    const size_t comma = url.find(',');
    if (comma == std::string::npos)
        return fail(400, what + " is a data: URL without a comma before its data; send data:image/png;base64,...");
    const std::string meta = lower(url.substr(5, comma - 5));
    if (meta.size() < 7 || meta.compare(meta.size() - 7, 7, ";base64") != 0)
        return fail(400, what + " must be base64-encoded (data:image/png;base64,...)");
    // base64 grows data by 4/3: refuse before decoding what would be too large.
    const size_t payload = url.size() - comma - 1;
    if (payload / 4 * 3 > limits.max_encoded_bytes + 3)
        return fail(413, what + " is larger than this server accepts (" + std::to_string(limits.max_encoded_bytes >> 20) +
                             " MiB encoded); send a smaller image");
    ImageInput r;
    std::string error;
    if (!base64_decode(url.substr(comma + 1), &r.bytes, &error))
        return fail(400, what + " is not valid base64, so it cannot be an image; encode the file again", error);
    if (r.bytes.size() > limits.max_encoded_bytes)
        return fail(413, what + " is larger than this server accepts (" + std::to_string(limits.max_encoded_bytes >> 20) +
                             " MiB encoded); send a smaller image");
    r.ok = true;
    return r;
}

ImageInput decode_image_bytes(std::vector<uint8_t> bytes, const std::string& what, const ImageLimits& limits) {
    DecodeLimits dl;
    dl.max_pixels = limits.max_pixels;
    DecodeResult d = decode_image(bytes.data(), bytes.size(), dl);
    if (!d.ok) {
        const bool too_big = d.reason.find("too large") != std::string::npos;
        if (too_big)
            return fail(413, what + " has more pixels than this server decodes (" +
                                 std::to_string(limits.max_pixels / 1000000) + " Mpx); send a smaller image", d.error);
        return fail(400, what + " could not be read as an image (" + d.reason + "); send a PNG, JPEG or BMP file", d.error);
    }
    ImageInput r;
    r.ok = true;
    r.bytes = std::move(bytes);
    r.image = std::move(d.image);
    return r;
}

ImageInput decode_image_data_url(const std::string& url, const std::string& what, const ImageLimits& limits) {
    ImageInput r = read_image_data_url(url, what, limits);
    if (!r.ok) return r;
    return decode_image_bytes(std::move(r.bytes), what, limits);
}

}  // namespace es::server
