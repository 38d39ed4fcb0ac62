// access.cpp: see access.h.
#include "api/access.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace es::server {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// "host:port" / "[v6]:port" / "host" -> host, lower case, brackets removed.
std::string host_of(const std::string& host_port) {
    std::string h = host_port;
    if (!h.empty() && h[0] == '[') {
        size_t close = h.find(']');
        return lower(close == std::string::npos ? h.substr(1) : h.substr(1, close - 1));
    }
    size_t colon = h.find(':');
    if (colon != std::string::npos && h.find(':', colon + 1) == std::string::npos) h = h.substr(0, colon);
    return lower(h);
}

}  // namespace

bool is_loopback_host(const std::string& host) {
    std::string h = lower(host);
    if (h == "localhost" || h == "::1" || h == "[::1]" || h == "ip6-localhost") return true;
    if (h.rfind("127.", 0) == 0) {
        int dots = 0;
        for (char c : h) {
            if (c == '.') dots++;
            else if (c < '0' || c > '9') return false;
        }
        return dots == 3;
    }
    return false;
}

fs::path default_token_path() {
    const char* xdg = std::getenv("XDG_CONFIG_HOME");
    fs::path base;
    if (xdg && *xdg && fs::path(xdg).is_absolute()) {
        base = xdg;
    } else {
        const char* home = std::getenv("HOME");
        base = fs::path(home && *home ? home : ".") / ".config";
    }
    return base / "endoscribe" / "api_token";
}

TokenFile load_or_create_token(const fs::path& path) {
    TokenFile t;
    t.path = path;
    std::error_code ec;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
            t.error = "the API token file " + path.string() + " is not a regular file";
            return t;
        }
        if (st.st_mode & (S_IRWXG | S_IRWXO)) {
            t.error = "the API token file " + path.string() +
                      " can be read by other users; run: chmod 600 '" + path.string() + "' (or delete it to make a new token)";
            return t;
        }
        std::ifstream in(path, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        std::string token = ss.str();
        while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
        while (!token.empty() && std::isspace(static_cast<unsigned char>(token.front()))) token.erase(0, 1);
        if (token.size() < 16 || token.find_first_of(" \t\r\n") != std::string::npos) {
            t.error = "the API token file " + path.string() +
                      " does not hold a usable token (one line of at least 16 characters); delete it to make a new one";
            return t;
        }
        t.token = token;
        t.ok = true;
        return t;
    }
    // First start: the folder (0700) and the file (0600, created exclusively).
    fs::path dir = path.parent_path();
    if (!dir.empty() && !fs::exists(dir, ec)) {
        fs::create_directories(dir, ec);
        if (ec) {
            t.error = "cannot create the folder " + dir.string() + " for the API token (" + ec.message() + ")";
            return t;
        }
        ::chmod(dir.c_str(), 0700);
    }
    unsigned char raw[32];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t r = getrandom(raw + got, sizeof raw - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            t.error = "the system's random number generator failed (" + std::string(std::strerror(errno)) + ")";
            return t;
        }
        got += size_t(r);
    }
    static const char* hex = "0123456789abcdef";
    std::string token = "es-";
    for (unsigned char c : raw) {
        token += hex[c >> 4];
        token += hex[c & 15];
    }
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        t.error = "cannot create the API token file " + path.string() + " (" + std::strerror(errno) + ")";
        return t;
    }
    std::string line = token + "\n";
    bool written = ::write(fd, line.data(), line.size()) == ssize_t(line.size());
    ::fchmod(fd, 0600);
    ::close(fd);
    if (!written) {
        ::unlink(path.c_str());
        t.error = "cannot write the API token file " + path.string();
        return t;
    }
    t.token = token;
    t.created = true;
    t.ok = true;
    return t;
}

bool bearer_token_matches(const std::string& authorization, const std::string& token) {
    const std::string prefix = "Bearer ";
    if (token.empty() || authorization.size() < prefix.size() ||
        lower(authorization.substr(0, prefix.size())) != lower(prefix))
        return false;
    std::string given = authorization.substr(prefix.size());
    while (!given.empty() && given.front() == ' ') given.erase(0, 1);
    while (!given.empty() && given.back() == ' ') given.pop_back();
    // Constant time over the token's length.
    unsigned char diff = given.size() == token.size() ? 0 : 1;
    for (size_t i = 0; i < token.size(); ++i) diff |= static_cast<unsigned char>(token[i] ^ (i < given.size() ? given[i] : 0));
    return diff == 0;
}

bool host_header_allowed(const AccessPolicy& policy, const std::string& host_header) {
    if (!policy.loopback_bind) return true;
    if (host_header.empty()) return true;  // HTTP/1.0 clients; browsers always send Host
    return is_loopback_host(host_of(host_header));
}

OriginVerdict check_origin(const AccessPolicy& policy, const std::string& origin, const std::string& host_header) {
    if (origin.empty()) return OriginVerdict::Absent;
    std::string o = lower(origin);
    if (!host_header.empty() && host_header_allowed(policy, host_header) &&
        (o == "http://" + lower(host_header) || o == "https://" + lower(host_header)))
        return OriginVerdict::Allowed;
    for (const auto& a : policy.app_origins)
        if (o == lower(a)) return OriginVerdict::Allowed;
    return OriginVerdict::Refused;
}

}  // namespace es::server
