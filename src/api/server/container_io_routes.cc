// Container I/O routes: logs, attach (hijacked), export.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

#include "api/server/context.h"
#include "api/server/hijack.h"
#include "api/server/stream.h"
#include "api/types/containers.h"
#include "api/types/time.h"
#include "base/log.h"
#include "base/strings.h"

namespace berth::api::server {
namespace {

Result<std::optional<int64_t>> time_param(const Ctx& c, std::string_view key) {
  auto v = c.req.param(key);
  if (!v || v->empty() || *v == "0") return std::optional<int64_t>{};
  auto t = BERTH_TRY(parse_timestamp(*v, now_unix_ns(), key));
  return std::optional<int64_t>(t);
}

// Log output in large chunks: one HTTP chunk per entry costs a send(2) per
// line (a million-line log was a million syscalls on each side). Entries are
// appended (framed unless TTY) and written when kLogBatch bytes accumulate,
// when the reader has caught up (see containers_logs) and at the end.
class LogBatch {
 public:
  static constexpr size_t kLogBatch = 128 * 1024;
  LogBatch(JsonStream& out, bool tty) : out_(out), tty_(tty) { buf_.reserve(kLogBatch + 512); }
  Result<void> add(int stream, std::string_view data) {
    if (data.empty()) return ok();
    if (!tty_) {
      // docker's stdcopy header: [stream 0 0 0 size(BE32)]. An entry is at
      // most 16 KiB plus a timestamp (logs/json_file.h).
      auto n = static_cast<uint32_t>(data.size());
      buf_.push_back(static_cast<char>(stream));
      buf_.append(3, '\0');
      for (int shift : {24, 16, 8, 0}) buf_.push_back(static_cast<char>(n >> shift));
    }
    buf_.append(data);
    if (buf_.size() >= kLogBatch) return flush();
    return ok();
  }
  Result<void> flush() {
    if (buf_.empty()) return ok();
    auto r = out_.write(buf_);
    buf_.clear();
    return r;
  }

 private:
  JsonStream& out_;
  bool tty_;
  std::string buf_;
};

}  // namespace

void containers_logs(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  engine::LogsOptions o;
  for (auto [key, dst] : {std::pair<const char*, bool*>{"follow", &o.follow},
                          {"stdout", &o.stdout},
                          {"stderr", &o.stderr},
                          {"timestamps", &o.timestamps},
                          {"details", &o.details}}) {
    auto b = bool_param(c, key);
    if (!b) return send_error(c, b.error());
    *dst = *b;
  }
  if (!o.stdout && !o.stderr)
    return send_error(c, make_error(Errc::InvalidArgument,
                                    "Bad parameters: you must choose at least one stream"));
  auto since = time_param(c, "since");
  if (!since) return send_error(c, since.error());
  o.since_ns = *since;
  auto until = time_param(c, "until");
  if (!until) return send_error(c, until.error());
  o.until_ns = *until;
  // docker: "all", or a number; anything else (and negatives) means all.
  std::string tail = str_param(c, "tail");
  if (!tail.empty() && tail != "all") {
    auto n = parse_int(trim(tail));
    o.tail = n && *n >= 0 ? *n : -1;
  }
  auto d = svc->inspect(c.name, false);
  if (!d) return send_error(c, d.error());
  if (d->host_config.log_config.type == "none")
    return send_error(
        c, make_error(Errc::NotImplemented, "configured logging driver does not support reading"));
  bool tty = d->config.tty;
  JsonStream out(c, stream_content_type(tty, c.version));
  // Headers at once, as dockerd flushes them: `logs -f` of a quiet
  // container must not look hung.
  if (!out.start()) return;
  LogBatch batch(out, tty);
  // The engine polls `gone` from the logs reader's StopFn, which runs each
  // time the reader has delivered everything written so far and is about to
  // wait (logs/json_file.h): the moment to send what is batched, so `logs -f`
  // shows new lines at once. Same thread as the sink.
  auto r = svc->logs(
      d->id, o, [&](int stream, std::string_view data) { return batch.add(stream, data); },
      [&]() {
        if (!batch.flush()) return true;
        return c.res.client_gone();
      });
  auto flushed = batch.flush();  // what was batched before an error, too
  if (r) r = flushed;
  // After the headers an error can only end the stream (a JSON error line
  // would corrupt the log bytes).
  if (!r && r.error().code != Errc::Cancelled)
    log_debug("api: logs {}: {}", c.name, r.error().message);
  out.finish(ok());
}

void containers_attach(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  engine::AttachOptions o;
  for (auto [key, dst, def] : {std::tuple<const char*, bool*, bool>{"stream", &o.stream, false},
                               {"logs", &o.logs, false},
                               {"stdin", &o.stdin, false},
                               {"stdout", &o.stdout, false},
                               {"stderr", &o.stderr, false}}) {
    auto b = bool_param(c, key, def);
    if (!b) return send_error(c, b.error());
    *dst = *b;
  }
  o.detach_keys = str_param(c, "detachKeys");
  auto d = svc->inspect(c.name, false);
  if (!d) return send_error(c, d.error());
  if (d->state.status == "paused")
    return send_error(
        c, make_error(Errc::Conflict,
                      "container {} is paused, unpause the container before attach.", c.name));
  if (d->state.status == "restarting")
    return send_error(c, make_error(Errc::Conflict,
                                    "container {} is restarting, wait until the container is "
                                    "running",
                                    c.name));
  bool tty = d->config.tty;
  auto h = hijack_stream(c, tty);
  if (!h) {
    if (!c.res.responded()) send_error(c, h.error());
    return;
  }
  // A second descriptor of the socket, to report a failure after the
  // engine took the connection.
  Fd spare(::fcntl(h->fd.get(), F_DUPFD_CLOEXEC, 3));
  auto r = svc->attach(d->id, o, std::move(h->fd), std::move(h->buffered));
  if (!r && spare) write_stream_error(spare.get(), tty, r.error());
}

// GET /containers/{id}/attach/ws: docker's websocket form (see
// relay_websocket).
void containers_attach_ws(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  engine::AttachOptions o;
  for (auto [key, dst] : {std::pair<const char*, bool*>{"stream", &o.stream},
                          {"logs", &o.logs},
                          {"stdin", &o.stdin},
                          {"stdout", &o.stdout},
                          {"stderr", &o.stderr}}) {
    auto b = bool_param(c, key);
    if (!b) return send_error(c, b.error());
    *dst = *b;
  }
  o.detach_keys = str_param(c, "detachKeys");
  auto d = svc->inspect(c.name, false);
  if (!d) return send_error(c, d.error());
  if (d->state.status == "paused" || d->state.status == "restarting")
    return send_error(c, make_error(Errc::Conflict, "container {} is {}, cannot attach", c.name,
                                    d->state.status));
  relay_websocket(c, d->config.tty, "attach/ws",
                  [&](Fd engine_end) { return svc->attach(d->id, o, std::move(engine_end), ""); });
}

void containers_export(Ctx& c) {
  auto* svc = containers_or_501(c);
  if (!svc) return;
  JsonStream out(c, "application/x-tar");
  auto r = svc->export_rootfs(c.name, [&out](std::string_view b) { return out.write(b); });
  // A tar cannot carry an error line: cut the stream (the client sees a
  // truncated archive, not a valid-looking one).
  if (!r && out.started()) return;
  out.finish(r);
}

}  // namespace berth::api::server
