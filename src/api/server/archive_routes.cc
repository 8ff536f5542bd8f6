// Archive routes (docker cp): HEAD/GET/PUT /containers/{id}/archive, and
// POST /commit.
#include "api/server/container_map.h"
#include "api/server/context.h"
#include "api/server/stream.h"
#include "api/types/container_config.h"
#include "api/types/containers.h"
#include "base/strings.h"

namespace berth::api::server {
namespace {

constexpr const char* kPathStatHeader = "X-Docker-Container-Path-Stat";

Result<std::string> path_param(const Ctx& c) {
  std::string p = str_param(c, "path");
  if (p.empty()) return make_error(Errc::InvalidArgument, "Path cannot be empty");
  return p;
}

}  // namespace

void containers_archive_head(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto path = path_param(c);
  if (!path) return send_error(c, path.error());
  auto st = svc->archive_stat(c.name, *path);
  if (!st) return send_error(c, st.error());
  auto h = c.base_headers;
  h.emplace(kPathStatHeader, encode_path_stat_header(to_wire(*st)));
  h.emplace("Content-Type", "application/json");
  [[maybe_unused]] auto r = c.res.send(200, h, "");
}

void containers_archive_get(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto path = path_param(c);
  if (!path) return send_error(c, path.error());
  // The stat travels in a header, so it is taken before the tar streams.
  auto st = svc->archive_stat(c.name, *path);
  if (!st) return send_error(c, st.error());
  http::Headers extra;
  extra.emplace(kPathStatHeader, encode_path_stat_header(to_wire(*st)));
  JsonStream out(c, "application/x-tar", extra);
  auto r = svc->archive_get(c.name, *path, [&out](std::string_view b) { return out.write(b); });
  if (!r && out.started()) return;  // a truncated tar, never a valid-looking one
  if (!r) return out.finish(r.error());
  out.finish(ok());
}

void containers_archive_put(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto path = path_param(c);
  if (!path) return send_error(c, path.error());
  auto no_overwrite = bool_param(c, "noOverwriteDirNonDir");
  if (!no_overwrite) return send_error(c, no_overwrite.error());
  auto copy_uid_gid = bool_param(c, "copyUIDGID");
  if (!copy_uid_gid) return send_error(c, copy_uid_gid.error());
  auto r = svc->archive_put(
      c.name, *path, [&c]() { return c.req.read_body(); }, *no_overwrite, *copy_uid_gid);
  if (!r) return send_error(c, r.error());
  send_status(c, 200);
}

void commit(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  // The body is read before any parameter is judged: answering early would
  // leave a large body unread, and the server closes such a connection under
  // a client still sending (it sees a broken pipe, not the error).
  auto body = c.req.read_all_body(1 << 20);
  if (!body) return send_error(c, body.error());
  engine::CommitOptions o;
  o.container = str_param(c, "container");
  if (o.container.empty())
    return send_error(c, make_error(Errc::InvalidArgument, "missing parameter: container"));
  o.repository = str_param(c, "repo");
  o.tag = str_param(c, "tag");
  o.comment = str_param(c, "comment");
  o.author = str_param(c, "author");
  o.changes = all_params(c, "changes");
  auto pause = bool_param(c, "pause", true);
  if (!pause) return send_error(c, pause.error());
  o.pause = *pause;
  if (!o.tag.empty() && o.repository.empty())
    return send_error(
        c, make_error(Errc::InvalidArgument, "invalid reference format: a tag needs a repository"));
  auto cfg = decode_commit_config(*body);
  if (!cfg) return send_error(c, cfg.error());
  if (*cfg) o.config = to_engine(**cfg);
  auto id = svc->commit(o);
  if (!id) return send_error(c, id.error());
  send_json(c, 201, Json{{"Id", *id}});
}

}  // namespace berth::api::server
