// http/server.h — HTTP/1.1 server over unix and TCP(+TLS) sockets (Boost.Beast).
//
// Model: one acceptor thread per listener and one thread per connection
// (synchronous Beast). Docker clients hold few connections; long operations
// (pull, events, logs -f, attach) block only their own thread, and a handler
// may simply run to completion. Keep-alive and pipelining follow HTTP/1.1.
// Beast/Asio never appear in this header (they take ~10 s per TU to compile).
// Contract for handlers: called on the connection's thread; must finish the
// response through exactly one of Response::send / begin_stream..end /
// hijack. A handler that returns without responding gets a 500.
// Request bodies: Content-Length and chunked are both accepted; the body is
// read lazily through Request::read_body (so a 1 GB `docker load` streams).
// Limits: header block 64 KiB (431 otherwise); body size unlimited when
// streamed, read_all_body refuses more than `max` bytes (413).
// Depends on: base, sys, Boost.Beast/Asio, OpenSSL.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/fd.h"
#include "base/result.h"

namespace berth::http {

// Case-insensitive header map (names compared with ASCII case folding).
struct CaseLess {
  bool operator()(const std::string& a, const std::string& b) const;
};
using Headers = std::multimap<std::string, std::string, CaseLess>;

class Request {
 public:
  virtual ~Request() = default;
  virtual const std::string& method() const = 0;  // "GET"
  virtual const std::string& target() const = 0;  // raw: "/v1.47/images/json?all=1"
  virtual const std::string& path() const = 0;    // percent-decoded path, no query
  // Percent-decoded query parameters in order; repeated keys kept.
  virtual const std::vector<std::pair<std::string, std::string>>& query() const = 0;
  virtual const Headers& headers() const = 0;
  // Next body chunk (at most 64 KiB, as it arrives); "" at the end of the
  // body. Sends "100 Continue" first when the client asked for it.
  virtual Result<std::string> read_body() = 0;
  // Whole body; PayloadTooLarge-ish InvalidArgument past max.
  virtual Result<std::string> read_all_body(size_t max = 16 << 20) = 0;
  // Peer credentials on unix sockets (SO_PEERCRED), -1 on TCP.
  virtual int peer_uid() const = 0;

  // Helpers over query(): last value of key, or nullopt.
  std::optional<std::string> param(std::string_view key) const;
  std::optional<std::string> header(std::string_view name) const;
};

class Response {
 public:
  virtual ~Response() = default;
  // Whole response with Content-Length.
  virtual Result<void> send(int status, const Headers& headers, std::string_view body) = 0;
  // Streaming: headers now (Transfer-Encoding: chunked), then write() chunks
  // (each flushed at once: progress must reach the client while pulling),
  // then end(). write() fails with Errc::Cancelled when the client is gone.
  virtual Result<void> begin_stream(int status, const Headers& headers) = 0;
  virtual Result<void> write(std::string_view chunk) = 0;
  virtual Result<void> end() = 0;
  // Takes the raw connection (docker attach/exec upgrade: the caller sends
  // "HTTP/1.1 101 UPGRADED" itself through the fd). Bytes already buffered
  // by the parser are returned with the fd. TCP+TLS connections cannot be
  // hijacked (NotImplemented). The fd is a dup (blocking, close-on-exec)
  // owned by the caller; it may outlive the handler. Server::stop() shuts
  // the socket down while the handler is still running.
  struct Hijacked {
    Fd fd;
    std::string buffered;
  };
  virtual Result<Hijacked> hijack() = 0;
  // True once the peer closed its side (checked by long handlers: events,
  // pull), or a write failed, or the server is stopping. Non-blocking.
  virtual bool client_gone() = 0;
  virtual bool responded() const = 0;
};

using Handler = std::function<void(Request&, Response&)>;

struct TlsConfig {
  std::string cert_file;
  std::string key_file;
  std::string ca_file;  // when set, clients must present a cert signed by it
};

struct Listener {
  // "unix:///run/berth/berth.sock" | "tcp://127.0.0.1:2376" | "fd://N" (inherited)
  std::string address;
  // unix: socket file mode and group (gid -1 = leave)
  unsigned mode = 0660;
  int gid = -1;
  std::optional<TlsConfig> tls;  // tcp only
};

class Server {
 public:
  // Binds every listener (unix: removes a stale socket file first, creates
  // parent dirs 0700) before returning, so a caller can report "listening".
  static Result<std::unique_ptr<Server>> start(const std::vector<Listener>& listeners,
                                               Handler handler);
  virtual ~Server() = default;  // stop() + join; never destroy it from a handler
  // Stops accepting, shuts down every connection (blocked reads and writes
  // in handlers fail, client_gone() turns true), joins all threads: a handler
  // that neither does I/O nor checks client_gone() delays stop(). Removes the
  // unix socket files. Idempotent.
  virtual void stop() = 0;
  virtual std::vector<std::string> addresses() const = 0;  // bound (tcp port resolved)
  virtual size_t open_connections() const = 0;
};

}  // namespace berth::http
