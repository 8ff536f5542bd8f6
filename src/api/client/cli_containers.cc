// EngineClient members used by the CLI's container commands (see the
// "container calls used by the CLI" block of engine_client.h).
#include <optional>

#include "api/client/engine_client.h"

namespace berth::api::client {

Result<http::ClientResponse> EngineClient::cli_request(
    const std::string& method, const std::string& path, const Query& query, std::string body,
    http::Headers headers, const std::function<Result<void>(std::string_view)>& on_chunk,
    ByteSource body_source, bool hold_error_body) {
  http::ClientRequest req;
  req.method = method;
  req.target = BERTH_TRY(target(path, query));
  req.headers = std::move(headers);
  if (!body.empty() && req.headers.find("Content-Type") == req.headers.end())
    req.headers.emplace("Content-Type", "application/json");
  req.body = std::move(body);
  req.body_source = std::move(body_source);
  std::string held;
  bool holding = false, first = true;
  std::optional<Error> sink_error;
  if (on_chunk) {
    req.on_chunk = [&](std::string_view chunk) -> Result<void> {
      if (chunk.empty()) return ok();
      if (first) {
        first = false;
        holding = hold_error_body && chunk[0] == '{';
      }
      if (holding) {
        held.append(chunk);
        if (held.size() <= 65536) return ok();
        holding = false;
        std::string h = std::move(held);
        held.clear();
        auto r = on_chunk(h);
        if (!r) sink_error = r.error();
        return r;
      }
      auto r = on_chunk(chunk);
      if (!r) sink_error = r.error();
      return r;
    };
  }
  auto resp = http_->request(std::move(req));
  if (sink_error) return *sink_error;
  if (!resp) return resp.error();
  if (resp->status >= 400)
    return daemon_error(resp->status, resp->body.empty() ? held : resp->body);
  if (on_chunk) {
    if (!held.empty()) BERTH_TRY(on_chunk(held));
    if (!resp->body.empty()) BERTH_TRY(on_chunk(resp->body));
    resp->body.clear();
  }
  return resp;
}

Result<http::Client::Upgraded> EngineClient::cli_upgrade(const std::string& method,
                                                         const std::string& path,
                                                         const Query& query, std::string body) {
  http::ClientRequest req;
  req.method = method;
  req.target = BERTH_TRY(target(path, query));
  if (!body.empty()) req.headers.emplace("Content-Type", "application/json");
  req.body = std::move(body);
  auto up = BERTH_TRY(http_->upgrade(std::move(req)));
  if (up.response.status >= 400) return daemon_error(up.response.status, up.response.body);
  return up;
}

Result<void> EngineClient::cli_begin(const std::string& method, const std::string& path,
                                     const Query& query) {
  http::ClientRequest req;
  req.method = method;
  req.target = BERTH_TRY(target(path, query));
  auto head = BERTH_TRY(http_->begin(std::move(req)));
  if (head.status >= 400) {
    auto full = BERTH_TRY(http_->finish());
    return daemon_error(full.status, full.body);
  }
  return ok();
}

Result<std::string> EngineClient::cli_finish() {
  auto r = BERTH_TRY(http_->finish());
  return std::move(r.body);
}

}  // namespace berth::api::client
