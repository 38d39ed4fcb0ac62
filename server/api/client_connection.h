// client_connection.h: noticing that a client went away while its request
// waits or runs, so its generation can be cancelled.
//
// Debian's cpp-httplib 0.11.4 gives handlers no socket and its
// DataSink::is_writable() only asks whether a write would block, which a closed
// connection never does; a failed sink.write() notices only when something is
// written. So the handler finds its own connection's socket (the one whose
// local and peer addresses are the request's) and polls it for the peer's
// close (POLLRDHUP/POLLHUP) - while waiting in the queue, during prefill and
// between tokens, streaming or not.
#pragma once
#include <string>

namespace httplib {
struct Request;
}

namespace es::server {

class ClientConnection {
public:
    explicit ClientConnection(const httplib::Request& req);
    // True once the peer closed or reset the connection. False when unsure
    // (socket not found): the request then runs to its end.
    bool closed() const;
    bool found() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

}  // namespace es::server
