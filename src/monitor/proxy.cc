// monitor/proxy.cc — see proxy.h.
#include "monitor/proxy.h"

#include "monitor/proxy_internal.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace berth::monitor {

namespace {

constexpr size_t kBuf = 16 * 1024;
// Accepts per wake-up per listener: a flood cannot starve the monitor's
// other work (the rest stays queued and the listener stays readable).
constexpr int kAcceptBurst = 32;

}  // namespace

Result<std::unique_ptr<Proxy>> Proxy::make() {
  std::unique_ptr<Proxy> p(new Proxy());
  p->epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!p->epoll_) return sys_error("epoll_create1 for the port proxy");
  return p;
}

Proxy::~Proxy() = default;

Result<void> Proxy::add(Fd listener, const std::string& target_ip, uint16_t target_port) {
  Listener l;
  l.target.sin_family = AF_INET;
  l.target.sin_port = htons(target_port);
  if (target_port == 0 || ::inet_pton(AF_INET, target_ip.c_str(), &l.target.sin_addr) != 1)
    return make_error(Errc::InvalidArgument,
                      "proxy target \"{}:{}\" is not an IPv4 address and port", target_ip,
                      target_port);
  int type = 0, accepting = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(listener.get(), SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
      (type != SOCK_STREAM && type != SOCK_DGRAM))
    return make_error(Errc::InvalidArgument,
                      "proxy: the passed fd is not a stream or datagram socket");
  l.udp = type == SOCK_DGRAM;
  len = sizeof accepting;
  if (!l.udp && (::getsockopt(listener.get(), SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 ||
                 !accepting))
    return make_error(Errc::InvalidArgument, "proxy: the passed socket does not listen");
  int fl = ::fcntl(listener.get(), F_GETFL);
  if (fl < 0 || ::fcntl(listener.get(), F_SETFL, fl | O_NONBLOCK) != 0)
    return sys_error("proxy: make the listener non-blocking");
  if (l.udp && !dgram_) dgram_.reset(new char[kDgram]);
  uint64_t tok = kListenerBit | next_++;
  if (!ctl(EPOLL_CTL_ADD, listener.get(), EPOLLIN, tok))
    return sys_error("proxy: watch the listener");
  l.fd = std::move(listener);
  listeners_.emplace(tok, std::move(l));
  return {};
}

void Proxy::pump() {
  struct epoll_event evs[32];
  int n = ::epoll_wait(epoll_.get(), evs, 32, 0);
  for (int i = 0; i < n; ++i) {
    uint64_t tok = evs[i].data.u64;
    if (tok == kTimerTok) {
      on_timer();
    } else if (tok & kListenerBit) {
      auto l = listeners_.find(tok);
      if (l == listeners_.end()) continue;
      if (l->second.udp)
        on_datagrams(tok);
      else
        on_accept(tok);
    } else if (tok & kFlowBit) {
      on_flow(tok);
    } else {
      on_conn(tok >> 1, tok & 1, evs[i].events);
    }
  }
}

void Proxy::on_accept(uint64_t tok) {
  auto it = listeners_.find(tok);
  if (it == listeners_.end()) return;
  for (int i = 0; i < kAcceptBurst; ++i) {
    Fd client(::accept4(it->second.fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!client) {
      // Out of fds or memory: the connection stays queued and the listener
      // readable, which would wake this loop again and again. It rests
      // until a connection ends or the timer's next tick.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        rest(tok, true);
      return;  // else EAGAIN, or an aborted connection: nothing to serve
    }
    Fd up(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!up) continue;  // closing `client` tells the peer
    const auto& t = it->second.target;
    if (::connect(up.get(), reinterpret_cast<const sockaddr*>(&t), sizeof t) != 0 &&
        errno != EINPROGRESS)
      continue;
    uint64_t id = next_++;
    Conn& c = conns_[id];
    c.client = std::move(client);
    c.upstream = std::move(up);
    c.up.buf.reset(new char[kBuf]);
    c.down.buf.reset(new char[kBuf]);
    if (!ctl(EPOLL_CTL_ADD, c.client.get(), 0, id * 2)) {
      conns_.erase(id);
      continue;
    }
    if (!ctl(EPOLL_CTL_ADD, c.upstream.get(), 0, id * 2 + 1)) {
      drop(id);
      continue;
    }
    update(id, c);  // waits for the connect (upstream writable)
  }
}

void Proxy::on_conn(uint64_t id, bool upstream_side, uint32_t events) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  if (!c.connected) {
    if (!upstream_side) {
      // The client hung up before the target answered.
      if (events & (EPOLLHUP | EPOLLERR)) drop(id);
      return;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(c.upstream.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      drop(id);  // refused / unreachable: the client sees its connection close
      return;
    }
    c.connected = true;
  }
  if ((events & EPOLLERR) || !relay(c)) {
    drop(id);
    return;
  }
  if (events & EPOLLHUP) {
    // That side can neither send nor receive any more (both of its
    // directions ended), and the hang-up would be reported again and again:
    // it leaves the set, the other side finishes what is left.
    Fd& f = upstream_side ? c.upstream : c.client;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, f.get(), nullptr);
    (upstream_side ? c.upstream_gone : c.client_gone) = true;
  }
  update(id, c);
}

bool Proxy::move(Dir& d, int from, int to) {
  for (;;) {
    if (d.len > 0) {
      ssize_t w = ::send(to, d.buf.get() + d.off, d.len, MSG_NOSIGNAL);
      if (w < 0) return errno == EAGAIN || errno == EINTR;
      d.off += static_cast<size_t>(w);
      d.len -= static_cast<size_t>(w);
      if (d.len > 0) continue;
      d.off = 0;
    }
    if (d.eof) {
      if (!d.done) {
        d.done = true;
        ::shutdown(to, SHUT_WR);
      }
      return true;
    }
    ssize_t r = ::recv(from, d.buf.get(), kBuf, 0);
    if (r < 0) return errno == EAGAIN || errno == EINTR;
    if (r == 0) {
      d.eof = true;
      continue;
    }
    d.len = static_cast<size_t>(r);
  }
}

bool Proxy::relay(Conn& c) {
  if (!move(c.up, c.client.get(), c.upstream.get())) return false;
  if (!move(c.down, c.upstream.get(), c.client.get())) return false;
  return !(c.up.done && c.down.done);
}

// Interest: a side is read while its direction's buffer is empty and its
// EOF not seen, written while the other direction has bytes for it (or,
// for the upstream, while its connect is in progress).
void Proxy::update(uint64_t id, Conn& c) {
  uint32_t want_client = 0, want_up = 0;
  if (!c.connected) {
    want_up = EPOLLOUT;
  } else {
    if (c.up.len == 0 && !c.up.eof) want_client |= EPOLLIN;
    if (c.up.len > 0) want_up |= EPOLLOUT;
    if (c.down.len == 0 && !c.down.eof) want_up |= EPOLLIN;
    if (c.down.len > 0) want_client |= EPOLLOUT;
  }
  // A side with nothing to wait for still reports hang-ups and errors.
  // (The upstream's is EPOLLOUT while its connect is in progress.)
  if (want_client != c.client_events && !c.client_gone) {
    ctl(EPOLL_CTL_MOD, c.client.get(), want_client, id * 2);
    c.client_events = want_client;
  }
  if (want_up != c.upstream_events && !c.upstream_gone) {
    ctl(EPOLL_CTL_MOD, c.upstream.get(), want_up, id * 2 + 1);
    c.upstream_events = want_up;
  }
}

void Proxy::drop(uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  // Closing an fd removes it from the epoll set (no other copies exist).
  conns_.erase(it);
  if (resting_) wake_listeners();
}

void Proxy::rest(uint64_t tok, bool on) {
  auto it = listeners_.find(tok);
  if (it == listeners_.end() || it->second.resting == on) return;
  ctl(EPOLL_CTL_MOD, it->second.fd.get(), on ? 0u : static_cast<uint32_t>(EPOLLIN), tok);
  it->second.resting = on;
  if (on) {
    resting_ = true;
    if (!timer_armed_) arm_timer(true);
  }
}

void Proxy::wake_listeners() {
  resting_ = false;
  for (auto& [tok, l] : listeners_)
    if (l.resting) rest(tok, false);
}

bool Proxy::ctl(int op, int fd, uint32_t events, uint64_t tok) {
  struct epoll_event ev {};
  ev.events = events;
  ev.data.u64 = tok;
  return ::epoll_ctl(epoll_.get(), op, fd, &ev) == 0;
}

}  // namespace berth::monitor
