// api/server/context.h — what a route handler gets, and the helpers every
// handler uses (query parsing with errors naming the parameter, JSON answers,
// docker's error body). Internal to api/server.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/types/filters.h"
#include "api/types/version.h"
#include "base/json.h"
#include "base/result.h"
#include "engine/engine.h"
#include "http/server.h"

namespace berth::api::server {

struct Ctx {
  http::Request& req;
  http::Response& res;
  engine::Engine& engine;
  ApiVersion version;
  http::Headers base_headers;  // Api-Version, Server, Ostype, Docker-Experimental
  std::string name;  // {name} of /images/{name}/..., {id} of /containers/{id}/..., /exec/{id}/...
};

http::Headers json_headers(const Ctx& c);
void send_json(Ctx& c, int status, const Json& body);
// Answers built in docker's field order (api/types' encoders). A template so
// that a braced list still means Json.
template <typename J>
requires std::same_as<J, OrderedJson>
void send_json(Ctx& c, int status, const J& body) {
  [[maybe_unused]] auto r = c.res.send(status, json_headers(c), dump_json(body) + "\n");
}
void send_error(Ctx& c, const Error& e);
void send_status(Ctx& c, int status);  // empty body (204, 201)

// Query parameters. Missing -> default. Bad values -> InvalidArgument
// "invalid value for parameter all: \"maybe\" ...".
Result<bool> bool_param(const Ctx& c, std::string_view key, bool def = false);
Result<std::optional<long long>> int_param(const Ctx& c, std::string_view key);
Result<Filters> filters_param(const Ctx& c);
std::string str_param(const Ctx& c, std::string_view key);
std::vector<std::string> all_params(const Ctx& c, std::string_view key);
// ?h=&w= of the container and exec resize routes: both required, 0..65535.
struct ResizeParams {
  int height = 0, width = 0;
};
Result<ResizeParams> resize_params(const Ctx& c);

// Handlers (image_routes.cc, system_routes.cc).
void ping(Ctx& c);
void version(Ctx& c);
void info(Ctx& c);
void system_df(Ctx& c);
void events(Ctx& c);
void auth(Ctx& c);
void build(Ctx& c);
void build_prune(Ctx& c);
void plugins_list(Ctx& c);
void swarm_unavailable(Ctx& c);

void images_create(Ctx& c);
void images_list(Ctx& c);
void images_inspect(Ctx& c);
void images_history(Ctx& c);
void images_tag(Ctx& c);
void images_delete(Ctx& c);
void images_push(Ctx& c);
void images_search(Ctx& c);
void distribution_inspect(Ctx& c);  // /distribution/{name}/json
void images_get(Ctx& c);            // /images/get and /images/{name}/get
void images_load(Ctx& c);
void images_prune(Ctx& c);

// `service`, or nullptr after answering 501 "this berthd was started without
// <what>" (a daemon wired without it, as the image-only tests are).
template <class Service>
Service* service_or_501(Ctx& c, Service* service, std::string_view what) {
  if (!service)
    send_error(c, make_error(Errc::NotImplemented, "this berthd was started without {}", what));
  return service;
}
inline engine::ContainerService* containers_or_501(Ctx& c) {
  return service_or_501(c, c.engine.containers(), "container support");
}
// Number of CPUs usable by the daemon (bounds NanoCpus as docker's NumCPU).
int usable_cpus();

// Container handlers (container_routes.cc, container_io_routes.cc,
// exec_routes.cc, archive_routes.cc).
// Network handlers (network_routes.cc).
void networks_list(Ctx& c);
void networks_inspect(Ctx& c);
void networks_create(Ctx& c);
void networks_delete(Ctx& c);
void networks_prune(Ctx& c);
void networks_connect(Ctx& c);
void networks_disconnect(Ctx& c);

void containers_create(Ctx& c);
void containers_list(Ctx& c);
void containers_inspect(Ctx& c);
void containers_start(Ctx& c);
void containers_stop(Ctx& c);
void containers_restart(Ctx& c);
void containers_kill(Ctx& c);
void containers_wait(Ctx& c);
void containers_pause(Ctx& c);
void containers_unpause(Ctx& c);
void containers_rename(Ctx& c);
void containers_update(Ctx& c);
void containers_delete(Ctx& c);
void containers_prune(Ctx& c);
void containers_top(Ctx& c);
void containers_changes(Ctx& c);
void containers_stats(Ctx& c);
void containers_resize(Ctx& c);
void containers_logs(Ctx& c);
void containers_attach(Ctx& c);
void containers_attach_ws(Ctx& c);
void containers_export(Ctx& c);
void containers_archive_head(Ctx& c);
void containers_archive_get(Ctx& c);
void containers_archive_put(Ctx& c);
void commit(Ctx& c);
void exec_create(Ctx& c);
void exec_start(Ctx& c);
void exec_start_ws(Ctx& c);
void exec_resize(Ctx& c);
void exec_inspect(Ctx& c);

// Volume handlers (volume_routes.cc).
void volumes_list(Ctx& c);
void volumes_create(Ctx& c);
void volumes_inspect(Ctx& c);
void volumes_delete(Ctx& c);
void volumes_prune(Ctx& c);

}  // namespace berth::api::server
