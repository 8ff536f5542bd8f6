// Container lifecycle routes: create, list, inspect, start, stop, restart,
// kill, wait, pause, unpause, rename, update, delete, prune, top, changes,
// stats, resize.
#include <sched.h>

#include <algorithm>

#include "api/server/container_map.h"
#include "api/server/context.h"
#include "api/server/stream.h"
#include "api/types/container_config.h"
#include "api/types/containers.h"
#include "api/types/time.h"
#include "base/strings.h"

namespace berth::api::server {
namespace {

// docker's CheckForJSON: a body must come as application/json.
Result<void> check_json_content_type(const Ctx& c, bool has_body) {
  auto ct = c.req.header("Content-Type").value_or("");
  if (ct.empty() && !has_body) return ok();
  std::string media = std::string(trim(ct.substr(0, ct.find(';'))));
  std::transform(media.begin(), media.end(), media.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (media == "application/json") return ok();
  return make_error(Errc::InvalidArgument,
                    "unsupported Content-Type header ({}): must be 'application/json'", ct);
}

// Optional integer parameter `t` (stop/restart timeout).
Result<std::optional<int>> timeout_param(const Ctx& c) {
  auto t = BERTH_TRY(int_param(c, "t"));
  if (!t) return std::optional<int>{};
  if (*t < -1 || *t > 24 * 3600 * 365)
    return make_error(Errc::InvalidArgument, "invalid value for parameter t: {}", *t);
  return std::optional<int>(static_cast<int>(*t));
}

engine::GoneFn gone_fn(Ctx& c) {
  return [&c]() { return c.res.client_gone(); };
}

}  // namespace

int usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

void containers_create(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  // The body is read before any answer: an early error would leave it
  // unread, and past the server's drain limit the connection is closed
  // while the client may still be sending (it sees a broken pipe, not the
  // error).
  auto body = c.req.read_all_body(4 << 20);
  if (!body) return send_error(c, body.error());
  std::string name = str_param(c, "name");
  if (!name.empty())
    if (auto v = validate_container_name(name); !v) return send_error(c, v.error());
  if (auto ct = check_json_content_type(c, !body->empty()); !ct) return send_error(c, ct.error());
  auto decoded = decode_create_body(*body, c.version, usable_cpus());
  if (!decoded) return send_error(c, decoded.error());
  if (decoded->config.image.empty())
    return send_error(
        c, make_error(Errc::InvalidArgument, "no image specified: Config.Image is empty"));
  engine::CreateRequest req;
  req.name = name;
  req.platform = str_param(c, "platform");
  req.config = to_engine(decoded->config);
  req.host_config = to_engine(decoded->host_config);
  req.networking_config = decoded->networking_config;
  auto r = svc->create(req);
  if (!r) return send_error(c, r.error());
  send_json(c, 201, Json{{"Id", r->id}, {"Warnings", Json(r->warnings)}});
}

void containers_list(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  engine::ListOptions o;
  auto all = bool_param(c, "all");
  if (!all) return send_error(c, all.error());
  auto size = bool_param(c, "size");
  if (!size) return send_error(c, size.error());
  auto limit = int_param(c, "limit");
  if (!limit) return send_error(c, limit.error());
  auto f = filters_param(c);
  if (!f) return send_error(c, f.error());
  static const std::set<std::string> kKeys = {
      "id",    "name",    "label",  "status",  "ancestor", "exited",    "health",  "before",
      "since", "network", "volume", "publish", "expose",   "isolation", "is-task", "label!"};
  if (auto v = f->validate(kKeys); !v) return send_error(c, v.error());
  for (const auto& k : kKeys)
    if (f->has(k)) o.filters[k] = f->get(k);
  // API < 1.?? clients may still send before=/since= as plain parameters.
  for (const char* k : {"before", "since"})
    if (auto p = c.req.param(k); p && !p->empty()) o.filters[k].push_back(*p);
  o.all = *all;
  o.size = *size;
  if (*limit && **limit > 0) o.limit = static_cast<int>(**limit);
  // berth's CLI names the members its columns read (berth-fields=Id,Names,...):
  // the others are not written. Other clients do not send it (dockerd
  // ignores it) and get every member.
  std::optional<std::set<std::string>> only;
  if (auto p = c.req.param("berth-fields"); p && !p->empty()) {
    only.emplace();
    for (auto& k : split(*p, ',', true)) only->insert(std::string(k));
  }
  auto rows = svc->list(o);
  if (!rows) return send_error(c, rows.error());
  int64_t now = now_unix_ns();
  // Written straight into the body: `ps -a` asks for this on every call,
  // and a tree of 50 rows took longer to build and dump than the rest of
  // the request.
  std::string body;
  body.reserve(rows->size() * 1024 + 2);
  JsonWriter w(body);
  w.begin_array();
  for (const auto& s : *rows)
    write_container_summary(w, to_wire(s), c.version, now, only ? &*only : nullptr);
  w.end_array();
  body += '\n';
  [[maybe_unused]] auto r = c.res.send(200, json_headers(c), body);
}

void containers_inspect(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto size = bool_param(c, "size");
  if (!size) return send_error(c, size.error());
  auto d = svc->inspect(c.name, *size);
  if (!d) return send_error(c, d.error());
  send_json(c, 200, encode_container_inspect(to_wire(*d), c.version));
}

void containers_start(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto body = c.req.read_all_body(1 << 20);
  if (!body) return send_error(c, body.error());
  auto t = trim(*body);
  if (!t.empty() && t != "null" && t != "{}")
    return send_error(c, make_error(Errc::InvalidArgument,
                                    "starting container with non-empty request body was "
                                    "deprecated since API v1.22 and removed in v1.24"));
  bool already = false;
  auto r = svc->start(c.name, &already);
  if (!r) return send_error(c, r.error());
  send_status(c, already ? 304 : 204);
}

void containers_stop(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto t = timeout_param(c);
  if (!t) return send_error(c, t.error());
  std::string sig = c.version >= ApiVersion{1, 42} ? str_param(c, "signal") : "";
  bool already = false;
  auto r = svc->stop(c.name, sig, *t, &already);
  if (!r) return send_error(c, r.error());
  send_status(c, already ? 304 : 204);
}

void containers_restart(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto t = timeout_param(c);
  if (!t) return send_error(c, t.error());
  std::string sig = c.version >= ApiVersion{1, 42} ? str_param(c, "signal") : "";
  auto r = svc->restart(c.name, sig, *t);
  if (!r) return send_error(c, r.error());
  send_status(c, 204);
}

void containers_kill(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto r = svc->kill(c.name, str_param(c, "signal"));
  // docker's router names the container in every kill error (a stopped one
  // included, from API 1.20).
  if (!r) return send_error(c, r.error().context(fmt::format("Cannot kill container: {}", c.name)));
  send_status(c, 204);
}

void containers_wait(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  std::string cond = c.version >= ApiVersion{1, 30} ? str_param(c, "condition") : "";
  if (cond.empty()) cond = "not-running";
  if (cond != "not-running" && cond != "next-exit" && cond != "removed")
    return send_error(c, make_error(Errc::InvalidArgument, "invalid condition: \"{}\"", cond));
  // Unknown container: a plain 404 before any header (docker checks first).
  auto d = svc->inspect(c.name, false);
  if (!d) return send_error(c, d.error());
  JsonStream out(c);
  // API >= 1.30: the headers go out at once so the client knows the wait is
  // registered (docker run waits for them before starting the container).
  if (c.version >= ApiVersion{1, 30})
    if (!out.start()) return;
  auto r = svc->wait(d->id, cond, gone_fn(c));
  if (!r) {
    if (r.error().code == Errc::Cancelled) return out.finish(r.error());
    if (!out.started()) return out.finish(r.error());
    [[maybe_unused]] auto w =
        out.write(dump_json(encode_wait_response(-1, r.error().message)) + "\n");
    return out.finish(ok());
  }
  [[maybe_unused]] auto w =
      out.write(dump_json(encode_wait_response(r->status_code, r->error)) + "\n");
  out.finish(ok());
}

void containers_pause(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto r = svc->pause(c.name);
  if (!r) return send_error(c, r.error());
  send_status(c, 204);
}

void containers_unpause(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto r = svc->unpause(c.name);
  if (!r) return send_error(c, r.error());
  send_status(c, 204);
}

void containers_rename(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  std::string name = str_param(c, "name");
  if (name.empty())
    return send_error(c,
                      make_error(Errc::InvalidArgument, "Neither old nor new names may be empty"));
  if (auto v = validate_container_name(name); !v) return send_error(c, v.error());
  auto r = svc->rename(c.name, name);
  if (!r) return send_error(c, r.error());
  send_status(c, 204);
}

void containers_update(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto body = c.req.read_all_body(1 << 20);
  if (!body) return send_error(c, body.error());
  if (auto ct = check_json_content_type(c, !body->empty()); !ct) return send_error(c, ct.error());
  auto u = decode_update_body(*body, usable_cpus());
  if (!u) return send_error(c, u.error());
  engine::UpdateRequest req;
  req.resources = to_engine(u->resources);
  if (u->restart_policy) req.restart_policy = to_engine(*u->restart_policy);
  auto r = svc->update(c.name, req);
  if (!r) return send_error(c, r.error());
  send_json(c, 200, Json{{"Warnings", r->empty() ? Json(nullptr) : Json(*r)}});
}

void containers_delete(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto force = bool_param(c, "force");
  if (!force) return send_error(c, force.error());
  auto volumes = bool_param(c, "v");
  if (!volumes) return send_error(c, volumes.error());
  auto link = bool_param(c, "link");
  if (!link) return send_error(c, link.error());
  if (*link)
    // berth keeps no legacy links, so every name is a container's own name.
    return send_error(c, make_error(Errc::Conflict,
                                    "Conflict, cannot remove the default link name of the "
                                    "container"));
  auto r = svc->remove(c.name, *force, *volumes);
  if (!r) return send_error(c, r.error());
  send_status(c, 204);
}

void containers_prune(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto f = filters_param(c);
  if (!f) return send_error(c, f.error());
  if (auto v = f->validate({"label", "label!", "until"}); !v) return send_error(c, v.error());
  std::map<std::string, std::vector<std::string>> filters;
  for (const char* k : {"label", "label!"})
    if (f->has(k)) filters[k] = f->get(k);
  if (auto u = f->get("until"); !u.empty()) {
    // docker's forms (RFC 3339, unix seconds, a duration back from now).
    auto t = parse_timestamp(u[0], now_unix_ns(), "filters.until");
    if (!t) return send_error(c, t.error());
    filters["until"] = {std::to_string(*t)};
  }
  auto r = svc->prune(filters);
  if (!r) return send_error(c, r.error());
  send_json(c, 200, encode_container_prune(r->deleted, r->space_reclaimed));
}

void containers_top(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto r = svc->top(c.name, str_param(c, "ps_args"));
  if (!r) return send_error(c, r.error());
  send_json(c, 200, encode_top(r->titles, r->processes));
}

void containers_changes(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto r = svc->changes(c.name);
  if (!r) return send_error(c, r.error());
  std::vector<ChangeItem> items;
  for (const auto& ch : *r) items.push_back({ch.kind, ch.path});
  send_json(c, 200, encode_changes(items));
}

void containers_stats(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto stream = bool_param(c, "stream", true);
  if (!stream) return send_error(c, stream.error());
  auto one_shot = bool_param(c, "one-shot");
  if (!one_shot) return send_error(c, one_shot.error());
  if (*one_shot && *stream)
    return send_error(
        c, make_error(Errc::InvalidArgument, "cannot have stream=true and one-shot=true"));
  JsonStream out(c);
  auto r = svc->stats(
      c.name, *stream, *one_shot,
      [&](const engine::StatsSample& s) -> Result<void> {
        return out.write(dump_json(encode_stats(to_wire(s), c.version)) + "\n");
      },
      gone_fn(c));
  if (!r && r.error().code == Errc::Cancelled && out.started()) return out.finish(ok());
  out.finish(r);
}

void containers_resize(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto size = resize_params(c);
  if (!size) return send_error(c, size.error());
  auto r = svc->resize(c.name, size->height, size->width);
  if (!r) return send_error(c, r.error());
  send_status(c, 200);
}

}  // namespace berth::api::server
