#include "api/server/hijack.h"

#include <sys/socket.h>

#include <cerrno>

#include "api/types/containers.h"

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

}  // namespace berth::api::server
