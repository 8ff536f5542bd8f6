#include "api/server/router.h"

#include <chrono>

#include "api/server/context.h"
#include "api/types/system.h"
#include "base/log.h"
#include "base/strings.h"

namespace berth::api::server {
namespace {

// Forwards to the connection's Response and remembers the status for the
// access log.
class RecordingResponse : public http::Response {
 public:
  explicit RecordingResponse(http::Response& r) : r_(r) {}
  Result<void> send(int status, const http::Headers& h, std::string_view body) override {
    status_ = status;
    bytes_ += body.size();
    return r_.send(status, h, body);
  }
  Result<void> begin_stream(int status, const http::Headers& h) override {
    status_ = status;
    return r_.begin_stream(status, h);
  }
  Result<void> write(std::string_view chunk) override {
    bytes_ += chunk.size();
    return r_.write(chunk);
  }
  Result<void> end() override { return r_.end(); }
  Result<Hijacked> hijack() override {
    status_ = 101;
    return r_.hijack();
  }
  bool client_gone() override { return r_.client_gone(); }
  bool responded() const override { return r_.responded(); }
  int status() const { return status_; }
  size_t bytes() const { return bytes_; }

 private:
  http::Response& r_;
  int status_ = 0;
  size_t bytes_ = 0;
};

using Fn = void (*)(Ctx&);

struct Exact {
  const char* method;
  const char* path;
  Fn fn;
};

// Routes without a {name}. Checked before the name routes, as docker's
// router lists /images/json before /images/{name}/json.
const Exact kExact[] = {
    {"GET", "/_ping", ping},
    {"HEAD", "/_ping", ping},
    {"GET", "/version", version},
    {"GET", "/info", info},
    {"GET", "/system/df", system_df},
    {"GET", "/events", events},
    {"POST", "/auth", auth},
    {"POST", "/build", build},
    {"POST", "/build/prune", build_prune},
    {"GET", "/plugins", plugins_list},
    {"GET", "/swarm", swarm_unavailable},
    {"GET", "/nodes", swarm_unavailable},
    {"GET", "/services", swarm_unavailable},
    {"GET", "/tasks", swarm_unavailable},
    {"GET", "/secrets", swarm_unavailable},
    {"GET", "/configs", swarm_unavailable},
    {"POST", "/images/create", images_create},
    {"GET", "/images/json", images_list},
    {"GET", "/images/search", images_search},
    {"GET", "/images/get", images_get},
    {"POST", "/images/load", images_load},
    {"POST", "/images/prune", images_prune},
    {"POST", "/containers/create", containers_create},
    {"GET", "/containers/json", containers_list},
    {"POST", "/containers/prune", containers_prune},
    {"POST", "/commit", commit},
    {"GET", "/networks", networks_list},
    {"POST", "/networks/create", networks_create},
    {"POST", "/networks/prune", networks_prune},
    {"GET", "/volumes", volumes_list},
    {"POST", "/volumes/create", volumes_create},
    {"POST", "/volumes/prune", volumes_prune},
};

struct Suffix {
  const char* method;
  const char* suffix;  // "" = the bare /images/{name}
  Fn fn;
};

const Suffix kImageRoutes[] = {
    {"GET", "/json", images_inspect}, {"GET", "/history", images_history},
    {"POST", "/tag", images_tag},     {"POST", "/push", images_push},
    {"GET", "/get", images_get},      {"DELETE", "", images_delete},
};

// /containers/{id}/<action> ("" = the bare /containers/{id}).
const Suffix kContainerRoutes[] = {
    {"GET", "json", containers_inspect},
    {"POST", "start", containers_start},
    {"POST", "stop", containers_stop},
    {"POST", "restart", containers_restart},
    {"POST", "kill", containers_kill},
    {"POST", "wait", containers_wait},
    {"POST", "pause", containers_pause},
    {"POST", "unpause", containers_unpause},
    {"POST", "rename", containers_rename},
    {"POST", "update", containers_update},
    {"DELETE", "", containers_delete},
    {"GET", "logs", containers_logs},
    {"POST", "attach", containers_attach},
    {"GET", "attach/ws", containers_attach_ws},
    {"POST", "resize", containers_resize},
    {"POST", "exec", exec_create},
    {"GET", "top", containers_top},
    {"GET", "stats", containers_stats},
    {"GET", "changes", containers_changes},
    {"GET", "export", containers_export},
    {"HEAD", "archive", containers_archive_head},
    {"GET", "archive", containers_archive_get},
    {"PUT", "archive", containers_archive_put},
};

// /networks/{id}[/<action>]
const Suffix kNetworkRoutes[] = {
    {"GET", "", networks_inspect},
    {"DELETE", "", networks_delete},
    {"POST", "connect", networks_connect},
    {"POST", "disconnect", networks_disconnect},
};

// /exec/{id}/<action>
const Suffix kExecRoutes[] = {
    {"POST", "start", exec_start},
    {"GET", "start/ws", exec_start_ws},
    {"POST", "resize", exec_resize},
    {"GET", "json", exec_inspect},
};

// Matches "<id>[/<action>]" against a table; ids never contain '/'.
bool match_id_route(Ctx& c, std::string_view rest, const std::string& method, const Suffix* begin,
                    const Suffix* end) {
  auto slash = rest.find('/');
  std::string id(rest.substr(0, slash));
  std::string action(slash == std::string_view::npos ? "" : rest.substr(slash + 1));
  if (id.empty()) return false;
  for (const Suffix* r = begin; r != end; ++r) {
    if (action == r->suffix && method == r->method) {
      c.name = id;
      r->fn(c);
      return true;
    }
  }
  return false;
}

// Strips "/v1.NN"; returns the version text ("" when absent) or nullopt when
// the prefix is not a version (then no route matches, like docker's router).
std::optional<std::string> split_version(std::string& path) {
  if (path.size() < 3 || path[0] != '/' || path[1] != 'v') return std::string();
  auto slash = path.find('/', 1);
  std::string v = path.substr(2, slash == std::string::npos ? std::string::npos : slash - 2);
  if (v.empty() || v.find_first_not_of("0123456789.") != std::string::npos) return std::string();
  path = slash == std::string::npos ? "/" : path.substr(slash);
  return v;
}

}  // namespace

Router::Router(engine::Engine& engine, RouterOptions opts)
    : engine_(engine), opts_(std::move(opts)) {}

void Router::handle(http::Request& req, http::Response& raw_res) {
  auto start = std::chrono::steady_clock::now();
  RecordingResponse res(raw_res);
  Ctx c{req, res, engine_, kDefaultApiVersion, {}, {}};
  c.base_headers.emplace("Api-Version", kMaxApiVersion.str());
  c.base_headers.emplace("Server", opts_.server_header);
  c.base_headers.emplace("Ostype", "linux");
  c.base_headers.emplace("Docker-Experimental", opts_.experimental ? "true" : "false");

  std::string path = req.path();
  auto vtext = split_version(path);
  [&] {
    if (!vtext->empty()) {
      auto v = ApiVersion::parse(*vtext);
      if (!v) {
        send_json(c, 404, Json{{"message", "page not found"}});
        return;
      }
      if (*v > kMaxApiVersion) {
        send_error(c, make_error(Errc::InvalidArgument,
                                 "client version {} is too new. Maximum supported API version "
                                 "is {}",
                                 *vtext, kMaxApiVersion.str()));
        return;
      }
      if (*v < kMinApiVersion) {
        send_error(c, make_error(Errc::InvalidArgument,
                                 "client version {} is too old. Minimum supported API version "
                                 "is {}, please upgrade your client to a newer version",
                                 *vtext, kMinApiVersion.str()));
        return;
      }
      c.version = *v;
    }
    // Trailing slashes are not significant ("/images/json/" is /images/json).
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    const std::string& method = req.method();
    for (const auto& r : kExact)
      if (path == r.path && method == r.method) return r.fn(c);
    if (starts_with(path, "/images/") && path.size() > 8) {
      std::string rest = path.substr(8);
      for (const auto& r : kImageRoutes) {
        std::string_view suf = r.suffix;
        if (suf.empty()) {
          if (method != r.method) continue;
          c.name = rest;
          return r.fn(c);
        }
        if (rest.size() > suf.size() && ends_with(rest, suf) && method == r.method) {
          c.name = rest.substr(0, rest.size() - suf.size());
          return r.fn(c);
        }
      }
    }
    // Names hold slashes: the name is all between the prefix and "/json".
    if (starts_with(path, "/distribution/") && ends_with(path, "/json") && method == "GET" &&
        path.size() > 19) {
      c.name = path.substr(14, path.size() - 19);
      return distribution_inspect(c);
    }
    if (starts_with(path, "/containers/") &&
        match_id_route(c, std::string_view(path).substr(12), method, std::begin(kContainerRoutes),
                       std::end(kContainerRoutes)))
      return;
    if (starts_with(path, "/networks/") &&
        match_id_route(c, std::string_view(path).substr(10), method, std::begin(kNetworkRoutes),
                       std::end(kNetworkRoutes)))
      return;
    if (starts_with(path, "/volumes/") && path.size() > 9 &&
        path.find('/', 9) == std::string::npos) {
      c.name = path.substr(9);
      if (method == "GET") return volumes_inspect(c);
      if (method == "DELETE") return volumes_delete(c);
    }
    if (starts_with(path, "/exec/") &&
        match_id_route(c, std::string_view(path).substr(6), method, std::begin(kExecRoutes),
                       std::end(kExecRoutes)))
      return;
    send_json(c, 404, Json{{"message", "page not found"}});
  }();
  if (!res.responded()) {
    log_error("api: {} {} returned without answering", req.method(), req.target());
    send_error(c, make_error(Errc::Internal, "internal error: no response"));
  }
  if (log_enabled(LogLevel::Debug)) {
    auto ms = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count() /
              1000.0;
    log_debug(
        "api: method={} target=\"{}\" version={} status={} bytes={} duration_ms={:.1f} uid={}",
        req.method(), req.target(), c.version.str(), res.status(), res.bytes(), ms, req.peer_uid());
  }
}

}  // namespace berth::api::server
