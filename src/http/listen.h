// http/listen.h — binding the server's listening sockets (internal to http).
// unix://PATH, tcp://HOST:PORT and fd://N are turned into a listening fd.
// No Beast here: plain socket(2)/bind(2)/listen(2).
#pragma once

#include <string>

#include "base/fd.h"
#include "base/result.h"
#include "http/server.h"

namespace berth::http {

struct BoundListener {
  Fd fd;
  int family = 0;         // AF_UNIX, AF_INET, AF_INET6
  std::string address;    // as bound: tcp port resolved
  std::string unix_path;  // for unix listeners (removed on stop)
  std::optional<TlsConfig> tls;
};

// Binds and listens. unix: a stale socket file is removed (anything else at
// the path is an AlreadyExists error), a missing parent directory is created
// 0700, the socket gets `mode` and, when gid >= 0, that group.
Result<BoundListener> bind_listener(const Listener& l);

// "host:port" split, with "[v6]:port" brackets removed.
Result<std::pair<std::string, std::string>> split_host_port(std::string_view hp);

}  // namespace berth::http
