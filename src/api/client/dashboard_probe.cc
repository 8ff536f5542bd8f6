#include "api/client/dashboard_probe.h"

#include "base/strings.h"
#include "http/client.h"

namespace berth::api::client {

Result<Json> dashboard_session(const std::string& address, int timeout_seconds) {
  std::string a = address;
  if (starts_with(a, "http://")) a = "tcp://" + a.substr(7);
  while (!a.empty() && a.back() == '/') a.pop_back();
  http::ClientOptions o;
  o.address = a;
  o.timeout_seconds = timeout_seconds;
  auto c = BERTH_TRY(http::Client::create(o));
  http::ClientRequest req;
  req.target = "/api/berth/session";
  req.headers.emplace("X-Berth-Dashboard", "1");
  auto resp = BERTH_TRY(c->request(std::move(req)));
  if (resp.status != 200)
    return make_error(Errc::Internal, "{} answered {} to /api/berth/session", address, resp.status);
  return parse_json(resp.body, "dashboard session");
}

}  // namespace berth::api::client
