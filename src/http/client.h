// http/client.h — HTTP/1.1 client over unix and TCP(+TLS) sockets (Boost.Beast),
// used by the CLI (api/client) and by tests. Not for registries (libcurl is).
// One Client = one connection, reconnected on demand (keep-alive otherwise).
// Thread-safety: none; one Client per thread.
// Depends on: base, sys, Boost.Beast/Asio, OpenSSL.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/fd.h"
#include "base/result.h"
#include "http/server.h"

namespace berth::http {

struct ClientOptions {
  // "unix:///run/berth/berth.sock" | "tcp://host:port" | "https://..." (TLS)
  std::string address;
  std::optional<TlsConfig> tls;  // client cert/key + CA to verify the server
  // 0: none (pull, events, logs -f run long). Otherwise the longest wait for
  // response bytes (DeadlineExceeded, and the connection is dropped).
  int timeout_seconds = 0;
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;  // empty when on_chunk consumed it
};

struct ClientRequest {
  std::string method = "GET";
  std::string target;  // "/v1.47/images/json?all=1" (caller encodes)
  Headers headers;
  std::string body;                                  // Content-Length body, or
  std::function<Result<std::string>()> body_source;  // chunked upload ("" = end)
  // When set, body chunks are passed here as they arrive (streams).
  std::function<Result<void>(std::string_view)> on_chunk;
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> create(ClientOptions opts);
  virtual ~Client() = default;
  // Unavailable when the daemon cannot be reached: message "Cannot connect to
  // the berth daemon at unix:///...: <strerror>. Is the berth daemon running?"
  // A kept-alive connection the server closed meanwhile is replaced without
  // error (a request without body_source is re-sent once). on_chunk gets the
  // body as it arrives (pieces of at most 64 KiB, not the server's chunk
  // boundaries); an error from on_chunk aborts the request and is returned.
  // Content-Length is sent when body is non-empty or the method is
  // POST/PUT/PATCH; body_source sends Transfer-Encoding: chunked.
  virtual Result<ClientResponse> request(ClientRequest req) = 0;
  // Sends the request with "Connection: Upgrade" (and "Upgrade: tcp" unless
  // req.headers sets them), reads the status line and headers (101 or 200)
  // and hands back the raw connection (attach/exec): `fd` is blocking and
  // close-on-exec, `buffered` holds stream bytes read past the header. Any
  // other status (404, 409...) is an ordinary response: its body is read into
  // response.body and `fd` is left invalid. Not over TLS (NotImplemented).
  struct Upgraded {
    ClientResponse response;
    Fd fd;
    std::string buffered;
  };
  virtual Result<Upgraded> upgrade(ClientRequest req) = 0;
  // A long poll in two steps, for an answer whose headers come at once and
  // whose body comes later (docker's wait, sent before the start it waits
  // for): begin() sends the request and reads the status line and headers;
  // finish() reads the body (Content-Length or chunked) into the response.
  // Between the two the connection belongs to that exchange: request(),
  // upgrade() or another begin() abandon it (the connection is closed).
  // finish() without a begun exchange is an error.
  virtual Result<ClientResponse> begin(ClientRequest req) = 0;
  virtual Result<ClientResponse> finish() = 0;
};

// Percent-encodes a query value (RFC 3986 unreserved set kept).
std::string url_encode(std::string_view s);

}  // namespace berth::http
