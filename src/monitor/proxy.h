// monitor/proxy.h — a relay from sockets on the host (IPv6 host addresses of
// published ports) to the container's IPv4 address, which NAT cannot reach
// from IPv6. Used by berth-monitor (the "proxy" op of monitor/protocol.h),
// so the relay lives exactly as long as the container's run and outlives
// berthd, as the container does.
//
// Single-threaded and non-blocking: the relay has an epoll set of its own,
// whose fd the owner watches for readability and then calls pump().
//
// TCP: each accepted connection gets a non-blocking connect to its target;
// bytes are copied through one 16 KiB buffer per direction (allocated per
// connection), reading stops while a buffer waits to be written, so a slow
// side slows the other instead of growing memory. A side's EOF is passed on
// as shutdown (SHUT_WR) once its buffer is written; a connection ends when
// both directions have, or at the first error of either side. A target that
// refuses closes the accepted connection at once.
//
// UDP: each client address gets a flow, a socket connected to the target:
// the client's datagrams go out through it and the target's answers come
// back through the listening socket to that client (so the client sees
// answers from the address it sent to). A flow idle for udp_idle (90 s, as
// docker's proxy) is closed; at most kMaxFlows flows at once (datagrams of
// new clients beyond that are dropped, as a full conntrack table would).
//
// Out of fds (or memory) at accept, a listener rests (leaves the epoll
// interest) until a connection or flow ends or the timer ticks, instead of
// waking the loop for its queued connection again and again.
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "base/fd.h"
#include "base/result.h"

namespace berth::monitor {

class Proxy {
 public:
  static Result<std::unique_ptr<Proxy>> make();
  ~Proxy();

  static constexpr size_t kMaxFlows = 4096;

  // Serves `listener` (a bound, listening TCP socket, or a bound UDP socket;
  // made non-blocking here) towards target_ip (IPv4 text):target_port.
  // InvalidArgument when the fd is neither, or the target is not IPv4.
  Result<void> add(Fd listener, const std::string& target_ip, uint16_t target_port);
  // How long an idle UDP flow lives, and how often that is checked (tests).
  void set_udp_idle(std::chrono::milliseconds idle, std::chrono::milliseconds check);
  // The relay's epoll fd: readable when pump() has work.
  int fd() const { return epoll_.get(); }
  // Handles what is ready (never blocks).
  void pump();
  size_t listeners() const { return listeners_.size(); }
  size_t flows() const { return flows_.size(); }

 private:
  struct Dir {
    std::unique_ptr<char[]> buf;
    size_t off = 0, len = 0;
    bool eof = false;   // the source side ended
    bool done = false;  // eof passed on to the sink (SHUT_WR)
  };
  struct Conn {
    Fd client, upstream;
    bool connected = false;
    Dir up, down;  // client -> upstream, upstream -> client
    uint32_t client_events = 0, upstream_events = 0;
    bool client_gone = false, upstream_gone = false;  // hung up: out of the epoll set
  };
  struct Listener {
    Fd fd;
    sockaddr_in target{};
    bool udp = false;
    bool resting = false;  // out of epoll interest after EMFILE and the like
  };
  struct Flow {
    Fd sock;            // connected to the listener's target
    uint64_t listener;  // its token
    sockaddr_storage client{};
    socklen_t client_len = 0;
    std::string key;  // in flow_by_client_
    int64_t last_ms = 0;
  };
  Proxy() = default;
  void on_accept(uint64_t tok);
  void on_conn(uint64_t id, bool upstream_side, uint32_t events);
  // Moves bytes until nothing more can move without waiting; false = the
  // connection ended or failed (the caller drops it).
  bool relay(Conn& c);
  bool move(Dir& d, int from, int to);
  void update(uint64_t id, Conn& c);
  void drop(uint64_t id);
  void rest(uint64_t tok, bool on);
  // epoll_ctl on the relay's set with `tok` as the event's data; false on error.
  bool ctl(int op, int fd, uint32_t events, uint64_t tok);
  void wake_listeners();
  // UDP (proxy_udp.cc)
  void on_datagrams(uint64_t tok);
  void on_flow(uint64_t id);
  void on_timer();
  void drop_flow(uint64_t id);
  void arm_timer(bool on);

  Fd epoll_;
  uint64_t next_ = 1;
  std::map<uint64_t, Listener> listeners_;          // by token
  std::map<uint64_t, Conn> conns_;                  // by id; epoll tokens are id*2 (+1 upstream)
  std::map<uint64_t, Flow> flows_;                  // by token
  std::map<std::string, uint64_t> flow_by_client_;  // listener token + client address
  std::unique_ptr<char[]> dgram_;                   // 64 KiB, once a UDP listener is added
  Fd timer_;                                        // expires idle flows, wakes resting listeners
  bool resting_ = false;
  bool timer_armed_ = false;
  int64_t udp_idle_ms_ = 90'000, udp_check_ms_ = 10'000;
};

}  // namespace berth::monitor
