// EngineClient's volume calls (/volumes...).
#include "api/client/engine_client.h"

namespace berth::api::client {

namespace {

std::string vpath(const std::string& name) { return "/volumes/" + http::url_encode(name); }

Result<Json> json_of(const http::ClientResponse& r, std::string_view what) {
  return parse_json(r.body, what);
}

}  // namespace

Result<Json> EngineClient::create_volume(const Json& body) {
  auto r = BERTH_TRY(
      call("POST", "/volumes/create", {}, dump_json(body), {{"Content-Type", "application/json"}}));
  return json_of(r, "volume create response");
}

Result<Json> EngineClient::list_volumes(const std::string& filters_json) {
  Query q;
  if (!filters_json.empty()) q.emplace_back("filters", filters_json);
  auto r = BERTH_TRY(call("GET", "/volumes", q));
  return json_of(r, "volume list");
}

Result<std::string> EngineClient::inspect_volume_raw(const std::string& name) {
  auto r = BERTH_TRY(call("GET", vpath(name)));
  return r.body;
}

Result<void> EngineClient::remove_volume(const std::string& name, bool force) {
  Query q;
  if (force) q.emplace_back("force", "1");
  BERTH_TRY(call("DELETE", vpath(name), q));
  return ok();
}

Result<Json> EngineClient::prune_volumes(const std::string& filters_json) {
  Query q;
  if (!filters_json.empty()) q.emplace_back("filters", filters_json);
  auto r = BERTH_TRY(call("POST", "/volumes/prune", q));
  return json_of(r, "volume prune response");
}

}  // namespace berth::api::client
