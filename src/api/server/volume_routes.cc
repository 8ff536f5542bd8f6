// api/server/volume_routes.cc — /volumes: list, create, inspect, remove,
// prune. Status codes come from the engine's errors (404 "get NAME: no such
// volume", 409 in use, 400 bad names/options/filters).
#include "api/server/context.h"
#include "api/types/volumes.h"
#include "engine/volumes.h"

namespace berth::api::server {

namespace {

engine::VolumeService* volumes_or_501(Ctx& c) {
  return service_or_501(c, c.engine.volumes(), "volume support");
}

VolumeWire wire(const engine::VolumeInfo& v) {
  VolumeWire w;
  w.name = v.name;
  w.driver = v.driver;
  w.mountpoint = v.mountpoint;
  w.created_ns = v.created_ns;
  w.labels = v.labels;
  w.options = v.options;
  w.scope = v.scope;
  return w;
}

Result<std::map<std::string, std::vector<std::string>>> filter_map(
    Ctx& c, const std::set<std::string>& allowed) {
  auto f = BERTH_TRY(filters_param(c));
  BERTH_TRY(f.validate(allowed));
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& k : allowed)
    if (f.has(k)) out[k] = f.get(k);
  return out;
}

}  // namespace

void volumes_list(Ctx& c) {
  auto* svc = volumes_or_501(c);
  if (!svc) return;
  auto f = filter_map(c, {"dangling", "name", "label", "driver"});
  if (!f) return send_error(c, f.error());
  auto vs = svc->list(*f);
  if (!vs) return send_error(c, vs.error());
  std::vector<VolumeWire> out;
  for (const auto& v : *vs) out.push_back(wire(v));
  send_json(c, 200, encode_volume_list(out));
}

void volumes_create(Ctx& c) {
  auto* svc = volumes_or_501(c);
  if (!svc) return;
  auto body = c.req.read_all_body(1 << 20);
  if (!body) return send_error(c, body.error());
  auto b = decode_volume_create(*body);
  if (!b) return send_error(c, b.error());
  engine::VolumeCreateRequest r{b->name, b->driver, b->driver_opts, b->labels};
  auto v = svc->create(r);
  if (!v) return send_error(c, v.error());
  send_json(c, 201, encode_volume(wire(*v)));
}

void volumes_inspect(Ctx& c) {
  auto* svc = volumes_or_501(c);
  if (!svc) return;
  auto v = svc->inspect(c.name);
  if (!v) return send_error(c, v.error());
  send_json(c, 200, encode_volume(wire(*v)));
}

void volumes_delete(Ctx& c) {
  auto* svc = volumes_or_501(c);
  if (!svc) return;
  auto force = bool_param(c, "force");
  if (!force) return send_error(c, force.error());
  if (auto r = svc->remove(c.name, *force); !r) return send_error(c, r.error());
  send_status(c, 204);
}

void volumes_prune(Ctx& c) {
  auto* svc = volumes_or_501(c);
  if (!svc) return;
  auto f = filter_map(c, {"label", "label!", "all"});
  if (!f) return send_error(c, f.error());
  // API 1.42 made prune take only anonymous volumes unless all=true.
  bool anonymous_only = !(c.version < ApiVersion{1, 42});
  auto r = svc->prune(*f, anonymous_only);
  if (!r) return send_error(c, r.error());
  send_json(c, 200, encode_volume_prune(r->deleted, r->space_reclaimed));
}

}  // namespace berth::api::server
