// http/test_util.h — fixtures shared by the http unit tests (not part of the
// library): a temp dir, a server on a unix socket in it, raw socket helpers.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "base/test_temp_dir.h"
#include "http/client.h"
#include "http/server.h"
#include "sys/syscalls.h"

namespace berth::http::testing {

using TempDir = berth::test::TempDir;

// A server on unix://<tmp>/s/berth.sock (the parent "s" is created by it).
struct UnixServer {
  TempDir dir;
  std::string sock_path;
  std::string address;
  std::unique_ptr<Server> server;

  explicit UnixServer(Handler h) {
    sock_path = dir.path() + "/s/berth.sock";
    address = "unix://" + sock_path;
    auto s = Server::start({Listener{address, 0660, -1, std::nullopt}}, std::move(h));
    EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
    if (s) server = std::move(*s);
  }
  std::unique_ptr<Client> client() const {
    auto c = Client::create(ClientOptions{address, std::nullopt, 30});
    EXPECT_TRUE(c.has_value());
    return c ? std::move(*c) : nullptr;
  }
  Fd raw() const {
    auto fd = sys::unix_connect(sock_path);
    EXPECT_TRUE(fd.has_value());
    return fd ? std::move(*fd) : Fd();
  }
};

inline void send_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

// Reads until EOF, `want` bytes, or `timeout` (bounded either way).
inline std::string recv_some(int fd, size_t want = SIZE_MAX,
                             std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < want) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    struct pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[65536];
    ssize_t n = ::recv(fd, buf, std::min(sizeof buf, want - out.size()), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

inline ClientRequest req(std::string target, std::string method = "GET") {
  ClientRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  return r;
}

inline ClientOptions opts(std::string address, std::optional<TlsConfig> tls = std::nullopt,
                          int timeout = 0) {
  ClientOptions o;
  o.address = std::move(address);
  o.tls = std::move(tls);
  o.timeout_seconds = timeout;
  return o;
}

inline Listener listener(std::string address) {
  Listener l;
  l.address = std::move(address);
  return l;
}

inline Headers json_headers() { return Headers{{"Content-Type", "application/json"}}; }

}  // namespace berth::http::testing
