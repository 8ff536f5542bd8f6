// System routes: /_ping, /version, /info, /system/df, /events, /auth, /build,
// /build/prune.
#include <chrono>

#include "api/server/container_map.h"
#include "api/server/context.h"
#include "api/server/stream.h"
#include "api/types/auth.h"
#include "api/types/events.h"
#include "api/types/system.h"
#include "api/types/time.h"

namespace berth::api::server {

void ping(Ctx& c) {
  auto h = c.base_headers;
  h.emplace("Content-Type", "text/plain; charset=utf-8");
  h.emplace("Cache-Control", "no-cache, no-store, must-revalidate");
  h.emplace("Pragma", "no-cache");
  h.emplace("Swarm", "inactive");
  h.emplace("Builder-Version", "1");
  [[maybe_unused]] auto r = c.res.send(200, h, c.req.method() == "HEAD" ? "" : "OK");
  if (auto* cs = c.engine.containers()) cs->expect_requests();
}

void version(Ctx& c) {
  auto v = c.engine.version();
  VersionInfo w;
  w.version = v.version;
  w.git_commit = v.git_commit;
  w.os = v.os;
  w.arch = v.arch;
  w.kernel_version = v.kernel_version;
  send_json(c, 200, encode_version(w));
}

void info(Ctx& c) {
  auto i = c.engine.info();
  if (!i) return send_error(c, i.error());
  SystemInfo w;
  w.id = i->id;
  w.name = i->host.hostname;
  w.operating_system = i->host.operating_system;
  w.os_version = i->host.os_version;
  w.architecture = i->host.machine;
  w.kernel_version = i->host.kernel_version;
  w.ncpu = i->host.ncpu;
  w.mem_total = i->host.mem_total;
  w.driver = i->driver;
  w.docker_root_dir = i->docker_root_dir;
  w.cgroup_version = i->host.cgroup_version;
  w.server_version = i->server_version;
  w.system_time = format_rfc3339_nano(now_unix_ns());
  w.images = i->images;
  w.containers = i->containers;
  w.containers_running = i->containers_running;
  w.containers_paused = i->containers_paused;
  w.containers_stopped = i->containers_stopped;
  if (auto* svc = c.engine.containers()) {
    auto n = svc->counts();
    w.containers = n.total;
    w.containers_running = n.running;
    w.containers_paused = n.paused;
    w.containers_stopped = n.stopped;
    w.logging_driver = svc->default_log_driver();
    auto rt = svc->runtimes();
    w.default_runtime = rt.default_name;
    w.runtimes = rt.paths;
  }
  w.debug = i->debug;
  w.registry.mirrors = i->registry.mirrors;
  for (const auto& r : i->registry.insecure_registries) {
    if (r.find('/') != std::string::npos)
      w.registry.insecure_registry_cidrs.push_back(r);
    else
      w.registry.insecure_hosts.push_back(r);
  }
  w.registry.insecure_registry_cidrs.push_back("127.0.0.0/8");
  w.warnings = i->warnings;
  send_json(c, 200, encode_info(w, c.version));
}

void system_df(Ctx& c) {
  DiskUsage w;
  // ?type= (repeatable, API 1.42): only those objects are computed.
  std::vector<std::string> types;
  for (const auto& [k, v] : c.req.query())
    if (k == "type") types.push_back(v);
  if (c.version >= ApiVersion{1, 42} && !types.empty()) {
    w.with_images = w.with_containers = w.with_volumes = w.with_build_cache = false;
    for (const std::string& t : types) {
      if (t == "image") {
        w.with_images = true;
      } else if (t == "container") {
        w.with_containers = true;
      } else if (t == "volume") {
        w.with_volumes = true;
      } else if (t == "build-cache") {
        w.with_build_cache = true;
      } else {
        return send_error(c, make_error(Errc::InvalidArgument, "unknown object type: {}", t));
      }
    }
  }
  auto d = w.with_images ? c.engine.disk_usage() : Result<image::DiskUsage>(image::DiskUsage{});
  if (!d) return send_error(c, d.error());
  w.layers_size = d->layers_size;
  for (const auto& s : d->images) {
    ImageSummary row;
    row.id = s.id.str();
    row.repo_tags = s.repo_tags;
    row.repo_digests = s.repo_digests;
    row.created = s.created;
    row.size = s.size;
    row.labels = s.labels;
    row.containers = s.containers < 0 ? 0 : s.containers;
    auto it = d->shared_size.find(s.id.str());
    row.shared_size = it == d->shared_size.end() ? 0 : it->second;
    w.images.push_back(std::move(row));
  }
  if (auto* svc = c.engine.containers(); svc && w.with_containers) {
    engine::ListOptions o;
    o.all = true;
    o.size = true;
    auto rows = svc->list(o);
    if (!rows) return send_error(c, rows.error());
    for (const auto& r : *rows) w.containers.push_back(to_wire(r));
  }
  if (auto* vols = c.engine.volumes(); vols && w.with_volumes) {
    auto usage = vols->usage();
    if (!usage) return send_error(c, usage.error());
    for (const auto& v : *usage) {
      w.volumes.push_back(api::VolumeWire{v.name, v.driver, v.mountpoint, v.created_ns, v.labels,
                                          v.options, v.scope, true, v.size, v.ref_count});
    }
  }
  send_json(c, 200, encode_disk_usage(w, c.version));
}

void events(Ctx& c) {
  auto f = filters_param(c);
  if (!f) return send_error(c, f.error());
  engine::EventFilter ef;
  for (const char* k :
       {"type", "event", "action", "image", "container", "volume", "network", "daemon", "label",
        "scope", "plugin", "node", "service", "secret", "config"})
    if (f->has(k)) ef.by_key[k] = f->get(k);
  // Unknown keys: re-validate against the raw filter set.
  if (auto v = f->validate({"type", "event", "action", "image", "container", "volume", "network",
                            "daemon", "label", "scope", "plugin", "node", "service", "secret",
                            "config"});
      !v)
    return send_error(c, v.error());
  int64_t now = now_unix_ns();
  std::optional<int64_t> since, until;
  if (auto s = c.req.param("since"); s && !s->empty()) {
    auto t = parse_timestamp(*s, now, "since");
    if (!t) return send_error(c, t.error());
    since = *t;
  }
  if (auto u = c.req.param("until"); u && !u->empty()) {
    auto t = parse_timestamp(*u, now, "until");
    if (!t) return send_error(c, t.error());
    until = *t;
  }
  if (since && until && *since > *until)
    return send_error(c, make_error(Errc::InvalidArgument,
                                    "since time ({}) cannot be after "
                                    "until time ({})",
                                    *c.req.param("since"), *c.req.param("until")));
  auto sub = c.engine.events().subscribe(ef, since, until);
  JsonStream out(c);
  // Headers go out at once: docker clients wait for them before printing.
  auto started = out.start();
  if (!started) return;
  using Status = engine::EventBus::Subscription::Status;
  while (!c.res.client_gone()) {
    auto n = sub->next(std::chrono::milliseconds(500));
    if (n.status == Status::Ended) break;
    if (n.status == Status::Timeout) continue;
    EventMessage m{n.event.type,       n.event.action, n.event.actor_id,
                   n.event.attributes, n.event.scope,  n.event.time_ns};
    if (!out.write(dump_json(encode_event(m, c.version)) + "\n")) break;
  }
  out.finish(ok());
}

void auth(Ctx& c) {
  auto body = c.req.read_all_body(1 << 20);
  if (!body) return send_error(c, body.error());
  auto a = decode_auth_config_json(*body, "auth config");
  if (!a) return send_error(c, a.error());
  engine::Credentials cred{a->username, a->password, a->identity_token};
  auto r = c.engine.images().login(a->server_address, cred);
  if (!r) {
    // docker answers a failed login with 401 and the registry's reason.
    if (r.error().code == Errc::PermissionDenied) {
      [[maybe_unused]] auto s =
          c.res.send(401, json_headers(c), error_body(r.error().message) + "\n");
      return;
    }
    return send_error(c, r.error());
  }
  OrderedJson j = {{"Status", "Login Succeeded"}};
  if (!r->empty() && *r != "Login Succeeded") j["IdentityToken"] = *r;
  send_json(c, 200, j);
}

// berthd's build cache is its intermediate images (image prune removes
// them), not a store of its own: a builder prune (docker's `system prune`
// and `builder prune` send one) frees nothing here. Its filters are still
// checked, as docker's are.
void build_prune(Ctx& c) {
  auto f = filters_param(c);
  if (!f) return send_error(c, f.error());
  // `system prune --filter label=...` passes its filters on to this prune too.
  if (auto v = f->validate({"until", "unused-for", "id", "parent", "type", "description", "inuse",
                            "shared", "private", "label", "label!"});
      !v)
    return send_error(c, v.error());
  send_json(c, 200, Json{{"CachesDeleted", nullptr}, {"SpaceReclaimed", 0}});  // docker's nil slice
}

// berth has no plugins: an empty list, as a dockerd without any answers.
void plugins_list(Ctx& c) { send_json(c, 200, Json::array()); }

// berth is never part of a swarm. Tools probe these to learn that; dockerd
// outside a swarm answers 503 with these words, and so does berthd.
void swarm_unavailable(Ctx& c) {
  send_json(c, 503,
            Json{{"message",
                  "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm "
                  "join\" to connect this node to swarm and try again."}});
}

}  // namespace berth::api::server
