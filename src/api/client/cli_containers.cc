// EngineClient members used by the CLI's container commands (see the
// "container calls used by the CLI" block of engine_client.h).
#include "api/client/engine_client.h"
#include "api/client/held_error.h"

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
  if (!on_chunk) {
    auto resp = BERTH_TRY(http_->request(std::move(req)));
    if (resp.status >= 400) return daemon_error(resp.status, resp.body);
    return resp;
  }
  HeldErrorStream stream([&](std::string_view first) { return hold_error_body && first[0] == '{'; },
                         on_chunk, HeldErrorStream::Overflow::Deliver);
  req.on_chunk = [&](std::string_view chunk) { return stream.on_chunk(chunk); };
  return stream.finish(http_->request(std::move(req)));
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
