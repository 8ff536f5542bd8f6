// Fake http::Request / http::Response for the container route tests; the
// response can be hijacked (a socketpair: the test reads the peer end).
#pragma once

#include <sys/socket.h>

#include <string>
#include <utility>
#include <vector>

#include "base/json.h"
#include "http/server.h"

namespace berth::api::server::testing {

class TestRequest : public http::Request {
 public:
  TestRequest(std::string method, std::string target, std::string body = "")
      : method_(std::move(method)), target_(std::move(target)), body_(std::move(body)) {
    auto q = target_.find('?');
    path_ = target_.substr(0, q);
    if (q == std::string::npos) return;
    std::string rest = target_.substr(q + 1);
    size_t start = 0;
    while (start <= rest.size()) {
      auto amp = rest.find('&', start);
      std::string kv =
          rest.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
      auto eq = kv.find('=');
      if (!kv.empty())
        query_.emplace_back(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
      if (amp == std::string::npos) break;
      start = amp + 1;
    }
  }
  const std::string& method() const override { return method_; }
  const std::string& target() const override { return target_; }
  const std::string& path() const override { return path_; }
  const std::vector<std::pair<std::string, std::string>>& query() const override { return query_; }
  const http::Headers& headers() const override { return hdrs; }
  Result<std::string> read_body() override {
    std::string out = body_.substr(0, 5);
    body_.erase(0, 5);
    return out;
  }
  Result<std::string> read_all_body(size_t) override { return std::exchange(body_, ""); }
  int peer_uid() const override { return 0; }
  http::Headers hdrs;

 private:
  std::string method_, target_, path_, body_;
  std::vector<std::pair<std::string, std::string>> query_;
};

class TestResponse : public http::Response {
 public:
  Result<void> send(int s, const http::Headers& h, std::string_view b) override {
    status = s;
    headers = h;
    body = b;
    done = true;
    return ok();
  }
  Result<void> begin_stream(int s, const http::Headers& h) override {
    status = s;
    headers = h;
    streamed = true;
    return ok();
  }
  Result<void> write(std::string_view c) override {
    body += c;
    chunks.emplace_back(c);
    return ok();
  }
  Result<void> end() override {
    done = true;
    return ok();
  }
  Result<Hijacked> hijack() override {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      return sys_error("socketpair");
    peer = Fd(sv[1]);
    status = 101;
    done = true;
    hijacked = true;
    return Hijacked{Fd(sv[0]), "stdin-bytes"};
  }
  bool client_gone() override { return false; }
  bool responded() const override { return status != 0; }
  std::string header(const std::string& k) const {
    auto it = headers.find(k);
    return it == headers.end() ? "" : it->second;
  }
  Json json() const { return Json::parse(body); }
  // Everything the server wrote on the hijacked connection (until EOF).
  std::string read_peer() {
    std::string out;
    char buf[4096];
    for (int i = 0; i < 10000; ++i) {
      ssize_t n = ::recv(peer.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  int status = 0;
  http::Headers headers;
  std::string body;
  std::vector<std::string> chunks;  // each write() of a stream
  bool streamed = false, done = false, hijacked = false;
  Fd peer;
};

}  // namespace berth::api::server::testing
