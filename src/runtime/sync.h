// runtime/sync.h — the message channel between the runtime and the processes
// it spawns (stage-1 child, container init, exec child).
//
// A SOCK_SEQPACKET socketpair: each send() is one message, so there is no
// framing to parse. A message is "<kind>" or "<kind> <payload>". EOF means
// the peer exited (or exec'd: both ends are close-on-exec).
#pragma once

#include <string>

#include "base/fd.h"
#include "base/result.h"

namespace berth::runtime {

struct SyncMsg {
  std::string kind;
  std::string payload;
};

class SyncChannel {
 public:
  SyncChannel() = default;
  explicit SyncChannel(Fd fd) : fd_(std::move(fd)) {}
  // A connected pair (both ends CLOEXEC).
  static Result<std::pair<SyncChannel, SyncChannel>> make_pair();

  Result<void> send(std::string_view kind, std::string_view payload = {});
  // Blocks for the next message. Unavailable at EOF (peer gone).
  Result<SyncMsg> recv();
  // Waits for exactly `kind`; an "error" message becomes an Error with its text.
  Result<SyncMsg> expect(std::string_view kind);
  int fd() const { return fd_.get(); }
  void close() { fd_.reset(); }

 private:
  Fd fd_;
};

}  // namespace berth::runtime
