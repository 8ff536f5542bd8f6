// dashboard/forward.h — adapters between the dashboard listener and the
// Engine API handler: a Request seen under another target/path ("/api"
// stripped) and a Response that adds fixed headers to whatever the handler
// sends. Everything else (body, query, hijack, streaming) is passed through.
// Both borrow the wrapped object; they live for one handler call.
// Depends on: http.
#pragma once

#include <string>

#include "http/server.h"

namespace berth::dashboard {

class ForwardedRequest : public http::Request {
 public:
  ForwardedRequest(http::Request& inner, std::string target, std::string path)
      : inner_(inner), target_(std::move(target)), path_(std::move(path)) {}
  const std::string& method() const override { return inner_.method(); }
  const std::string& target() const override { return target_; }
  const std::string& path() const override { return path_; }
  const std::vector<std::pair<std::string, std::string>>& query() const override {
    return inner_.query();
  }
  const http::Headers& headers() const override { return inner_.headers(); }
  Result<std::string> read_body() override { return inner_.read_body(); }
  Result<std::string> read_all_body(size_t max) override { return inner_.read_all_body(max); }
  int peer_uid() const override { return inner_.peer_uid(); }

 private:
  http::Request& inner_;
  std::string target_, path_;
};

// Adds `extra` to the headers of send() and begin_stream() (a header the
// handler set itself wins).
class HeaderAddingResponse : public http::Response {
 public:
  HeaderAddingResponse(http::Response& inner, const http::Headers& extra)
      : inner_(inner), extra_(extra) {}
  Result<void> send(int status, const http::Headers& h, std::string_view body) override {
    return inner_.send(status, merged(h), body);
  }
  Result<void> begin_stream(int status, const http::Headers& h) override {
    return inner_.begin_stream(status, merged(h));
  }
  Result<void> write(std::string_view chunk) override { return inner_.write(chunk); }
  Result<void> end() override { return inner_.end(); }
  Result<Hijacked> hijack() override { return inner_.hijack(); }
  bool client_gone() override { return inner_.client_gone(); }
  bool responded() const override { return inner_.responded(); }

 private:
  http::Headers merged(const http::Headers& h) const {
    http::Headers out = h;
    for (const auto& [k, v] : extra_)
      if (!out.count(k)) out.emplace(k, v);
    return out;
  }
  http::Response& inner_;
  const http::Headers& extra_;
};

}  // namespace berth::dashboard
