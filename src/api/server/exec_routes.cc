// Exec routes: POST /containers/{id}/exec, POST /exec/{id}/start (hijacked
// unless detached), GET /exec/{id}/start/ws (berth extension: the same
// over a websocket, for the dashboard's terminal), POST /exec/{id}/resize,
// GET /exec/{id}/json.
#include <fcntl.h>

#include "api/server/container_map.h"
#include "api/server/context.h"
#include "api/server/hijack.h"
#include "api/types/containers.h"

namespace berth::api::server {

void exec_create(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto body = c.req.read_all_body(1 << 20);
  if (!body) return send_error(c, body.error());
  auto e = decode_exec_create(*body, c.version);
  if (!e) return send_error(c, e.error());
  engine::ExecConfig cfg;
  cfg.attach_stdin = e->attach_stdin;
  cfg.attach_stdout = e->attach_stdout;
  cfg.attach_stderr = e->attach_stderr;
  cfg.detach_keys = e->detach_keys;
  cfg.tty = e->tty;
  cfg.env = e->env;
  cfg.cmd = e->cmd;
  cfg.privileged = e->privileged;
  cfg.user = e->user;
  cfg.working_dir = e->working_dir;
  cfg.console_size = e->console_size;
  auto id = svc->exec_create(c.name, cfg);
  if (!id) return send_error(c, id.error());
  send_json(c, 201, Json{{"Id", *id}});
}

void exec_start(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto body = c.req.read_all_body(1 << 20);
  if (!body) return send_error(c, body.error());
  auto s = decode_exec_start(*body);
  if (!s) return send_error(c, s.error());
  // Unknown exec (404) and one already started (409) answer with a plain
  // status before the connection is taken.
  auto d = svc->exec_inspect(c.name);
  if (!d) return send_error(c, d.error());
  if (d->running)
    return send_error(
        c, make_error(Errc::Conflict, "Error: Exec command {} is already running", c.name));
  if (!s->console_size.empty() && s->console_size.size() == 2 &&
      (s->console_size[0] || s->console_size[1]) && !s->tty && !d->config.tty)
    return send_error(
        c, make_error(Errc::InvalidArgument, "console size is only supported when TTY is enabled"));
  bool tty = s->tty || d->config.tty;
  if (s->detach) {
    auto r = svc->exec_start(c.name, true, tty, Fd(), "");
    if (!r) return send_error(c, r.error());
    [[maybe_unused]] auto w = c.res.send(200, json_headers(c), "");
    return;
  }
  auto h = hijack_stream(c, tty);
  if (!h) {
    if (!c.res.responded()) send_error(c, h.error());
    return;
  }
  Fd spare(::fcntl(h->fd.get(), F_DUPFD_CLOEXEC, 3));
  auto r = svc->exec_start(c.name, false, tty, std::move(h->fd), std::move(h->buffered));
  if (!r && spare) write_stream_error(spare.get(), tty, r.error());
  if (r && !s->console_size.empty() && s->console_size.size() == 2 &&
      (s->console_size[0] || s->console_size[1])) [[maybe_unused]]
    auto rs = svc->exec_resize(c.name, static_cast<int>(s->console_size[0]),
                               static_cast<int>(s->console_size[1]));
}

// GET /exec/{id}/start/ws: starts an exec created with AttachStdin/Stdout/
// Stderr and relays its stream as binary websocket messages both ways
// (browsers cannot hijack a connection, but they can open a websocket).
// The terminal size follows POST /exec/{id}/resize.
void exec_start_ws(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto d = svc->exec_inspect(c.name);
  if (!d) return send_error(c, d.error());
  if (d->running)
    return send_error(
        c, make_error(Errc::Conflict, "Error: Exec command {} is already running", c.name));
  relay_websocket(c, d->config.tty, "exec start/ws", [&](Fd engine_end) {
    return svc->exec_start(c.name, false, d->config.tty, std::move(engine_end), "");
  });
}

void exec_resize(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto size = resize_params(c);
  if (!size) return send_error(c, size.error());
  auto r = svc->exec_resize(c.name, size->height, size->width);
  if (!r) return send_error(c, r.error());
  send_status(c, 200);
}

void exec_inspect(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  auto d = svc->exec_inspect(c.name);
  if (!d) return send_error(c, d.error());
  send_json(c, 200, encode_exec_inspect(to_wire(*d)));
}

}  // namespace berth::api::server
