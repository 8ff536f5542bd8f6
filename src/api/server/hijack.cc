#include "api/server/hijack.h"

#include <sys/socket.h>

#include <cerrno>

#include "api/types/containers.h"
#include "base/log.h"
#include "http/websocket.h"

namespace berth::api::server {

Result<void> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write to hijacked connection");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return ok();
}

Result<http::Response::Hijacked> hijack_stream(Ctx& c, bool tty) {
  bool upgrade = c.req.header("Upgrade").has_value();
  auto h = BERTH_TRY(c.res.hijack());
  std::string head;
  if (upgrade) {
    head = "HTTP/1.1 101 UPGRADED\r\nContent-Type: ";
    head += stream_content_type(tty, c.version);
    head += "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n";
  } else {
    head = "HTTP/1.1 200 OK\r\nContent-Type: ";
    head += kRawStream;
    head += "\r\n";
  }
  for (const auto& [k, v] : c.base_headers) head += k + ": " + v + "\r\n";
  head += "\r\n";
  BERTH_TRY(write_all(h.fd.get(), head));
  return h;
}

void write_stream_error(int fd, bool tty, const Error& e) {
  std::string msg = e.message + "\r\n";
  [[maybe_unused]] auto r = write_all(fd, tty ? msg : frame_stream(1, msg));
}

void relay_websocket(Ctx& c, bool tty, std::string_view what,
                     const std::function<Result<void>(Fd engine_end)>& start) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return send_error(c, sys_error(fmt::format("{}: socketpair", what)));
  Fd engine_end(sv[0]), relay_end(sv[1]);
  auto h = c.res.hijack();
  if (!h) return send_error(c, h.error());
  if (auto r = start(std::move(engine_end)); !r) {
    log_debug("api: {} {}: {}", what, c.name, r.error().message);
    return;  // closing the hijacked connection tells the client
  }
  http::RelayFilter filter;
  std::string frames;  // an unfinished stdcopy frame
  if (!tty)
    filter = [&frames](std::string_view data) {
      frames.append(data);
      std::string out;
      size_t off = 0;
      while (frames.size() - off >= 8) {
        auto byte = [&](size_t i) { return static_cast<unsigned char>(frames[off + i]); };
        size_t n =
            (size_t{byte(4)} << 24) | (size_t{byte(5)} << 16) | (size_t{byte(6)} << 8) | byte(7);
        if (frames.size() - off - 8 < n) break;
        out.append(frames, off + 8, n);
        off += 8 + n;
      }
      frames.erase(0, off);
      return out;
    };
  auto relay = http::serve_websocket_relay(c.req, std::move(*h), std::move(relay_end), filter);
  if (!relay) log_debug("api: {} {}: {}", what, c.name, relay.error().message);
}

}  // namespace berth::api::server
