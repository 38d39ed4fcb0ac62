// client_connection.cpp: see client_connection.h.
#include "api/client_connection.h"

#include <dirent.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include <httplib.h>

namespace es::server {

namespace {

bool address_is(const sockaddr_storage& addr, socklen_t len, const std::string& ip, int port) {
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return false;
    return std::atoi(serv) == port && ip == host;
}

}  // namespace

ClientConnection::ClientConnection(const httplib::Request& req) {
    if (req.remote_port <= 0 || req.local_port <= 0) return;
    DIR* dir = opendir("/proc/self/fd");
    if (!dir) return;
    while (dirent* e = readdir(dir)) {
        char* end = nullptr;
        long fd = std::strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '\0' || fd < 0) continue;
        struct stat st {};
        if (fstat(int(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
        sockaddr_storage peer{}, local{};
        socklen_t plen = sizeof peer, llen = sizeof local;
        if (getpeername(int(fd), reinterpret_cast<sockaddr*>(&peer), &plen) != 0) continue;
        if (getsockname(int(fd), reinterpret_cast<sockaddr*>(&local), &llen) != 0) continue;
        if (address_is(peer, plen, req.remote_addr, req.remote_port) &&
            address_is(local, llen, req.local_addr, req.local_port)) {
            fd_ = int(fd);
            break;
        }
    }
    closedir(dir);
}

bool ClientConnection::closed() const {
    if (fd_ < 0) return false;
    pollfd p{fd_, short(POLLRDHUP), 0};
    if (poll(&p, 1, 0) <= 0) return false;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

}  // namespace es::server
