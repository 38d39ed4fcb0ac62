// static_files.h: serving the built app (a plain folder of static files).
//
// GET and HEAD only; "/" and "dir/" serve index.html; a directory without the
// slash is redirected to it; no listings. Paths are decoded by httplib, then
// any "..", backslash, NUL or hidden (dot) segment is refused with 404, so no
// request reaches outside the root. Symbolic links inside the root are
// followed: whoever builds the folder decides what it exposes.
// Single byte ranges (Range: bytes=a-b, a-, -n) give 206 with Content-Range,
// so interrupted model downloads can resume; unsatisfiable ones 416; several
// ranges at once get the whole file (allowed by RFC 9110). ETag/Last-Modified
// with If-None-Match (304) and If-Range; Cache-Control: no-cache, so browsers
// revalidate and the service worker owns offline caching. Files are streamed,
// never read whole into memory.
#pragma once
#include <filesystem>
#include <string>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace es::server {

// Content-Type for a file name, from its extension (case-insensitive);
// application/octet-stream when unknown.
std::string mime_type_for(const std::string& file_name);

struct ResolvedPath {
    enum Kind { File, Redirect, NotFound } kind = NotFound;
    std::filesystem::path file;  // File: the file to send
    std::string location;        // Redirect: where to
};

// Maps a decoded URL path ("/a/b.js") to a regular file under root.
ResolvedPath resolve_static_path(const std::filesystem::path& root, const std::string& url_path);

// Handles a GET/HEAD request for a static file (status, headers, streamed body).
void serve_static_file(const std::filesystem::path& root, const httplib::Request& req, httplib::Response& res);

}  // namespace es::server
