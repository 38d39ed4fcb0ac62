// static_files.cpp: static file serving with MIME types, ranges and validators
// (see static_files.h).
#include "static_files.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <system_error>
#include <vector>

namespace fs = std::filesystem;

namespace es::server {
namespace {

std::string lower(std::string s) {
    for (char& c : s) c = char(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return s;
}

std::string http_date(std::time_t t) {
    char buf[64];
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

struct ByteRange {
    uint64_t first = 0, length = 0;
};

// Parses a single "bytes=a-b" / "bytes=a-" / "bytes=-n" range against size.
// Returns 1 for a satisfiable range, 0 for none/ignored (serve everything),
// -1 for unsatisfiable (416).
int parse_single_range(const std::string& header, uint64_t size, ByteRange& out) {
    const std::string prefix = "bytes=";
    if (header.compare(0, prefix.size(), prefix) != 0) return 0;
    std::string spec = header.substr(prefix.size());
    if (spec.find(',') != std::string::npos) return 0;  // several ranges: send it all
    size_t dash = spec.find('-');
    if (dash == std::string::npos) return 0;
    std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
    auto trim = [](std::string& s) {
        while (!s.empty() && s.front() == ' ') s.erase(s.begin());
        while (!s.empty() && s.back() == ' ') s.pop_back();
    };
    trim(a);
    trim(b);
    auto number = [](const std::string& s, uint64_t& v) {
        if (s.empty() || s.size() > 19) return false;
        v = 0;
        for (char c : s) {
            if (c < '0' || c > '9') return false;
            v = v * 10 + uint64_t(c - '0');
        }
        return true;
    };
    uint64_t first = 0, last = 0;
    if (a.empty()) {  // suffix: the last n bytes
        uint64_t n;
        if (!number(b, n)) return 0;
        if (n == 0 || size == 0) return -1;
        if (n > size) n = size;
        out.first = size - n;
        out.length = n;
        return 1;
    }
    if (!number(a, first)) return 0;
    if (b.empty()) {
        last = size ? size - 1 : 0;
    } else {
        if (!number(b, last)) return 0;
        if (last < first) return 0;  // invalid syntax: ignore the header
        if (size && last >= size) last = size - 1;
    }
    if (first >= size) return -1;
    out.first = first;
    out.length = last - first + 1;
    return 1;
}

bool has_bad_segment(const std::string& url_path) {
    if (url_path.empty() || url_path[0] != '/') return true;
    if (url_path.find('\0') != std::string::npos || url_path.find('\\') != std::string::npos) return true;
    size_t i = 1;
    while (i <= url_path.size()) {
        size_t j = url_path.find('/', i);
        if (j == std::string::npos) j = url_path.size();
        std::string seg = url_path.substr(i, j - i);
        if (!seg.empty() && seg[0] == '.') return true;  // "..", "." and hidden files
        i = j + 1;
    }
    return false;
}

}  // namespace

std::string mime_type_for(const std::string& file_name) {
    std::string name = lower(fs::path(file_name).filename().string());
    size_t dot = name.rfind('.');
    std::string ext = dot == std::string::npos ? "" : name.substr(dot + 1);
    static const std::vector<std::pair<std::string, std::string>> types = {
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"js", "text/javascript"},
        {"mjs", "text/javascript"},
        {"css", "text/css"},
        {"json", "application/json"},
        {"map", "application/json"},
        {"webmanifest", "application/manifest+json"},
        {"wasm", "application/wasm"},
        {"onnx", "application/octet-stream"},
        {"onnx_data", "application/octet-stream"},
        {"bin", "application/octet-stream"},
        {"data", "application/octet-stream"},
        {"model", "application/octet-stream"},
        {"npy", "application/octet-stream"},
        {"safetensors", "application/octet-stream"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"bmp", "image/bmp"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"svg", "image/svg+xml"},
        {"ico", "image/x-icon"},
        {"txt", "text/plain; charset=utf-8"},
        {"md", "text/markdown; charset=utf-8"},
        {"wgsl", "text/plain; charset=utf-8"},
        {"woff2", "font/woff2"},
    };
    for (const auto& [e, type] : types)
        if (e == ext) return type;
    return "application/octet-stream";
}

ResolvedPath resolve_static_path(const fs::path& root, const std::string& url_path) {
    ResolvedPath r;
    if (has_bad_segment(url_path)) return r;
    fs::path rel = fs::path(url_path.substr(1)).relative_path();
    fs::path p = root / rel;
    std::error_code ec;
    fs::file_status st = fs::status(p, ec);
    if (ec) return r;
    if (fs::is_directory(st)) {
        if (url_path.back() != '/') {
            r.kind = ResolvedPath::Redirect;
            r.location = url_path + "/";
            return r;
        }
        p /= "index.html";
        st = fs::status(p, ec);
        if (ec) return r;
    } else if (url_path.back() == '/') {
        return r;  // "file.js/" is not a directory
    }
    if (!fs::is_regular_file(st)) return r;
    r.kind = ResolvedPath::File;
    r.file = p;
    return r;
}

void serve_static_file(const fs::path& root, const httplib::Request& req, httplib::Response& res) {
    // httplib would apply Range itself, without bounds checks on streamed
    // content; this handler applies it, so httplib must see no ranges.
    const_cast<httplib::Request&>(req).ranges.clear();

    ResolvedPath rp = resolve_static_path(root, req.path);
    if (rp.kind == ResolvedPath::Redirect) {
        res.status = 301;
        res.set_header("Location", rp.location);
        return;
    }
    std::error_code ec;
    uint64_t size = rp.kind == ResolvedPath::File ? fs::file_size(rp.file, ec) : 0;
    auto mtime = rp.kind == ResolvedPath::File ? fs::last_write_time(rp.file, ec) : fs::file_time_type{};
    auto in = std::make_shared<std::ifstream>();
    if (rp.kind == ResolvedPath::File && !ec) in->open(rp.file, std::ios::binary);
    if (rp.kind != ResolvedPath::File || ec || !*in) {
        res.status = 404;
        return;
    }

    // Validators: size + modification time identify a version of the file.
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count();
    char etag[64];
    std::snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)size, (unsigned long long)ns);
    auto sys_mtime = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
        mtime - fs::file_time_type::clock::now() + std::chrono::system_clock::now());
    const std::string last_modified = http_date(std::chrono::system_clock::to_time_t(sys_mtime));

    const std::string type = mime_type_for(rp.file.filename().string());
    res.set_header("ETag", etag);
    res.set_header("Last-Modified", last_modified);
    res.set_header("Cache-Control", "no-cache");
    res.set_header("Accept-Ranges", "bytes");

    if (req.has_header("If-None-Match")) {
        std::string inm = req.get_header_value("If-None-Match");
        if (inm == etag || inm == "*" || inm.find(etag) != std::string::npos) {
            res.status = 304;
            return;
        }
    }

    ByteRange range{0, size};
    int ranged = 0;
    if (req.has_header("Range")) {
        bool if_range_ok = true;
        if (req.has_header("If-Range")) {
            std::string v = req.get_header_value("If-Range");
            if_range_ok = v == etag || v == last_modified;
        }
        if (if_range_ok) ranged = parse_single_range(req.get_header_value("Range"), size, range);
    }
    if (ranged < 0) {
        res.status = 416;
        res.set_header("Content-Range", "bytes */" + std::to_string(size));
        return;
    }
    if (ranged > 0) {
        res.status = 206;
        res.set_header("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                            std::to_string(range.first + range.length - 1) + "/" + std::to_string(size));
    } else {
        res.status = 200;
        range = {0, size};
    }
    if (range.length == 0) {
        res.set_content("", type);
        return;
    }
    const uint64_t start = range.first;
    res.set_content_provider(size_t(range.length), type,
                             [in, start](size_t offset, size_t length, httplib::DataSink& sink) {
                                 char buf[1 << 16];
                                 in->clear();
                                 in->seekg(std::streamoff(start + offset));
                                 size_t want = length < sizeof buf ? length : sizeof buf;
                                 in->read(buf, std::streamsize(want));
                                 std::streamsize got = in->gcount();
                                 if (got <= 0) return false;  // file shrank while being sent
                                 return sink.write(buf, size_t(got));
                             });
}

}  // namespace es::server
