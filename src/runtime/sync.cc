#include "runtime/sync.h"

#include <sys/socket.h>

namespace berth::runtime {

Result<std::pair<SyncChannel, SyncChannel>> SyncChannel::make_pair() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return sys_error("socketpair");
  return std::make_pair(SyncChannel(Fd(sv[0])), SyncChannel(Fd(sv[1])));
}

Result<void> SyncChannel::send(std::string_view kind, std::string_view payload) {
  std::string m(kind);
  if (!payload.empty()) {
    m += ' ';
    m += payload;
  }
  while (::send(fd_.get(), m.data(), m.size(), MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return sys_error("sync send");
  }
  return ok();
}

Result<SyncMsg> SyncChannel::recv() {
  char buf[65536];
  ssize_t n;
  while ((n = ::recv(fd_.get(), buf, sizeof buf, 0)) < 0) {
    if (errno != EINTR) return sys_error("sync recv");
  }
  if (n == 0) return make_error(Errc::Unavailable, "peer exited");
  std::string_view s(buf, static_cast<size_t>(n));
  SyncMsg m;
  auto sp = s.find(' ');
  m.kind = std::string(s.substr(0, sp));
  if (sp != std::string_view::npos) m.payload = std::string(s.substr(sp + 1));
  return m;
}

Result<SyncMsg> SyncChannel::expect(std::string_view kind) {
  SyncMsg m = BERTH_TRY(recv());
  if (m.kind == "error") return make_error(Errc::FailedPrecondition, "{}", m.payload);
  if (m.kind != kind) return make_error(Errc::Internal, "sync: expected {}, got {}", kind, m.kind);
  return m;
}

}  // namespace berth::runtime
