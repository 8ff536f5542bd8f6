// network/dns.cc — the embedded DNS server's event loop (messages are in
// dns_message.cc).
//
// One thread waits in epoll on: an eventfd (stop), every container's UDP
// and TCP listening sockets, accepted TCP connections, and one socket per
// forwarded query. Forwarding uses a fresh non-blocking socket per query
// made by this thread, so in berthd's (the host's) network namespace, where
// the host's resolvers (127.0.0.53 included) are reachable; a slow upstream
// costs a socket and a timer, never the thread. Every epoll registration
// carries a token (never an fd number), so an event fetched just before a
// remove() cannot be applied to a reused fd.
//
// All state is guarded by one mutex, held by the thread while it handles a
// batch of events and by add/remove/set_upstreams; so after remove()
// returns, nothing more is sent on that tag's sockets. The lookup callback
// runs with the mutex held: it must not call back into the server.
#include "network/dns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <system_error>
#include <thread>

#include "base/log.h"
#include "base/strings.h"
#include "network/dns_message_internal.h"

namespace berth::network {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kUpstreamTimeout = std::chrono::seconds(2);
constexpr auto kTcpIdle = std::chrono::seconds(5);
constexpr int kMaxConnsPerTag = 64;
constexpr size_t kMaxPending = 1024;
constexpr size_t kMaxMessage = 65535;  // the 2-byte TCP length prefix's limit
constexpr size_t kMaxTcpOut = 4 * (kMaxMessage + 2);
constexpr int kRcodeServfail = 2;  // RFC 1035 4.1.1
constexpr uint64_t kWakeToken = 0;

struct Upstream {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;
};

// "ip", "ip:port", "[v6]:port" or a bare IPv6 address; port 53 by default.
std::optional<Upstream> parse_upstream(const std::string& s) {
  std::string host = s;
  std::string port = "53";
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string::npos) return std::nullopt;
    host = s.substr(1, close - 1);
    if (close + 1 < s.size()) {
      if (s[close + 1] != ':') return std::nullopt;
      port = s.substr(close + 2);
    }
  } else if (std::count(s.begin(), s.end(), ':') == 1) {
    host = s.substr(0, s.find(':'));
    port = s.substr(s.find(':') + 1);
  }
  auto p = parse_uint(port);
  if (!p || *p == 0 || *p > 65535) return std::nullopt;
  Upstream u;
  u.text = s;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&u.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&u.addr);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(*p));
    u.len = sizeof *v4;
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(*p));
    u.len = sizeof *v6;
  } else {
    return std::nullopt;
  }
  return u;
}

std::vector<Upstream> parse_upstreams(const std::vector<std::string>& list) {
  std::vector<Upstream> out;
  for (const auto& s : list) {
    if (auto u = parse_upstream(s)) {
      out.push_back(*u);
    } else {
      log_warn("dns: ignoring invalid upstream \"{}\"", s);
    }
  }
  return out;
}

std::string frame(const std::string& msg) {
  std::string out(2, '\0');
  out[0] = static_cast<char>((msg.size() >> 8) & 0xff);
  out[1] = static_cast<char>(msg.size() & 0xff);
  return out + msg;
}

// The length of the first framed message in `buf`, when complete.
std::optional<size_t> framed_length(const std::string& buf) {
  if (buf.size() < 2) return std::nullopt;
  size_t n = (static_cast<uint8_t>(buf[0]) << 8) | static_cast<uint8_t>(buf[1]);
  return n;
}

}  // namespace

struct DnsServer::Impl {
  struct Listener {
    std::string tag;
    Fd fd;
    bool tcp = false;
    int conns = 0;
  };
  struct Conn {
    std::string tag;
    uint64_t listener = 0;
    Fd fd;
    std::string in, out;
    Clock::time_point last_active;
    int pending = 0;
    bool want_out = false;
  };
  // One forwarded query; the token changes with each upstream tried.
  struct Pending {
    dnsmsg::Query query;
    std::string wire;  // the client's bytes
    bool tcp = false;
    uint64_t reply_listener = 0;  // UDP: where to answer from, and to whom
    sockaddr_storage client{};
    socklen_t client_len = 0;
    uint64_t reply_conn = 0;  // TCP
    std::vector<Upstream> upstreams;
    size_t next = 0;  // the next upstream to try
    Fd fd;
    uint16_t up_id = 0;
    Clock::time_point deadline;
    std::string out, in;  // TCP to the upstream
    bool connected = false;
  };
  struct Tag {
    uint64_t udp = 0, tcp = 0;
    std::vector<Upstream> upstreams;  // empty = the server's
  };

  DnsLookup lookup;
  std::mutex mu;
  std::vector<Upstream> upstreams;
  Fd ep, wake;
  std::thread thread;
  std::atomic<bool> stop{false};
  uint64_t next_token = 1;
  std::map<std::string, Tag> tags;
  std::map<uint64_t, Listener> listeners;
  std::map<uint64_t, Conn> conns;
  std::map<uint64_t, Pending> pending;
  std::mt19937 rng{std::random_device{}()};

  bool watch(int fd, uint64_t token, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = token;
    return ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) == 0;
  }
  void rewatch(int fd, uint64_t token, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = token;
    ::epoll_ctl(ep.get(), EPOLL_CTL_MOD, fd, &ev);
  }
  void unwatch(int fd) { ::epoll_ctl(ep.get(), EPOLL_CTL_DEL, fd, nullptr); }

  // --- control (mu held) ---

  uint64_t add_listener(const std::string& tag, Fd fd, bool tcp) {
    if (!fd) return 0;
    uint64_t t = next_token++;
    if (!watch(fd.get(), t, EPOLLIN)) {
      log_warn("dns: cannot watch a socket of {}: {}", tag, std::strerror(errno));
      return 0;
    }
    listeners[t] = Listener{tag, std::move(fd), tcp, 0};
    return t;
  }

  void close_conn(uint64_t token) {
    auto it = conns.find(token);
    if (it == conns.end()) return;
    unwatch(it->second.fd.get());
    if (auto l = listeners.find(it->second.listener); l != listeners.end()) --l->second.conns;
    conns.erase(it);
  }

  void remove_tag(const std::string& tag) {
    auto it = tags.find(tag);
    if (it == tags.end()) return;
    for (auto it2 = conns.begin(); it2 != conns.end();) {
      uint64_t t = it2->first;
      ++it2;
      if (conns[t].tag == tag) close_conn(t);
    }
    for (uint64_t t : {it->second.udp, it->second.tcp}) {
      auto l = listeners.find(t);
      if (l == listeners.end()) continue;
      unwatch(l->second.fd.get());
      listeners.erase(l);
    }
    tags.erase(it);
  }

  // --- replies ---

  void send_udp(uint64_t listener, const sockaddr_storage& to, socklen_t len,
                const std::string& msg) {
    auto l = listeners.find(listener);
    if (l == listeners.end() || msg.empty()) return;  // removed meanwhile
    // Non-blocking: a full send buffer drops the reply (the client retries),
    // it never stalls the server.
    ::sendto(l->second.fd.get(), msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
             reinterpret_cast<const sockaddr*>(&to), len);
  }

  void send_tcp(uint64_t conn, const std::string& msg) {
    auto it = conns.find(conn);
    if (it == conns.end() || msg.empty()) return;
    Conn& c = it->second;
    c.out += frame(msg);
    if (c.out.size() > kMaxTcpOut) return close_conn(conn);  // the client does not read
    flush_conn(conn);
  }

  void flush_conn(uint64_t token) {
    Conn& c = conns[token];
    while (!c.out.empty()) {
      ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n <= 0) return close_conn(token);
      c.out.erase(0, static_cast<size_t>(n));
      c.last_active = Clock::now();
    }
    bool want = !c.out.empty();
    if (want != c.want_out) {
      c.want_out = want;
      rewatch(c.fd.get(), token, want ? (EPOLLIN | EPOLLOUT) : EPOLLIN);
    }
  }

  void reply(Pending& p, const std::string& msg) {
    if (p.tcp) {
      if (auto c = conns.find(p.reply_conn); c != conns.end()) --c->second.pending;
      send_tcp(p.reply_conn, msg);
    } else {
      send_udp(p.reply_listener, p.client, p.client_len, msg);
    }
  }

  // --- queries ---

  // A query from a container; `conn` is 0 for UDP.
  void handle_query(const std::string& tag, std::string_view wire, uint64_t listener,
                    const sockaddr_storage* from, socklen_t from_len, uint64_t conn) {
    auto q = dnsmsg::parse_query(wire);
    if (!q) {
      if (conn) close_conn(conn);  // malformed: UDP drops, TCP closes
      return;
    }
    constexpr uint16_t kClassIn = 1;
    if (q->qclass == kClassIn && lookup) {
      if (auto addrs = lookup(tag, q->name)) {
        std::string a = dnsmsg::answer(*q, *addrs, conn ? kMaxMessage : q->max_udp);
        if (conn) {
          send_tcp(conn, a);
        } else {
          send_udp(listener, *from, from_len, a);
        }
        return;
      }
    }
    Pending p;
    p.wire = std::string(wire);
    p.tcp = conn != 0;
    p.reply_listener = listener;
    if (from) {
      p.client = *from;
      p.client_len = from_len;
    }
    p.reply_conn = conn;
    auto own = tags.find(tag);
    p.upstreams =
        own != tags.end() && !own->second.upstreams.empty() ? own->second.upstreams : upstreams;
    p.query = std::move(*q);
    if (pending.size() >= kMaxPending) {
      log_warn("dns: {} queries in flight; answering SERVFAIL", pending.size());
      reply_servfail_unregistered(p);
      return;
    }
    if (conn) ++conns[conn].pending;
    try_next_upstream(std::move(p));
  }

  void reply_servfail_unregistered(Pending& p) {
    std::string msg = dnsmsg::error_reply(p.query, kRcodeServfail);
    if (p.tcp) {
      send_tcp(p.reply_conn, msg);
    } else {
      send_udp(p.reply_listener, p.client, p.client_len, msg);
    }
  }

  // Starts the query on the next upstream that accepts it; SERVFAIL when
  // none is left. Takes the query out of `pending` if it was there.
  void try_next_upstream(Pending p) {
    p.fd.reset();
    p.in.clear();
    p.out.clear();
    p.connected = false;
    while (p.next < p.upstreams.size()) {
      const Upstream& u = p.upstreams[p.next++];
      Fd s(::socket(u.addr.ss_family,
                    (p.tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      if (!s) continue;
      // connect(2) on UDP too: only replies from the upstream's address
      // and port are delivered, and an ICMP unreachable shows as
      // ECONNREFUSED instead of a 2 s wait.
      if (::connect(s.get(), reinterpret_cast<const sockaddr*>(&u.addr), u.len) != 0 &&
          errno != EINPROGRESS) {
        continue;
      }
      p.up_id = static_cast<uint16_t>(rng());
      std::string q = dnsmsg::with_id(p.wire, p.up_id);
      uint32_t events = EPOLLIN;
      if (p.tcp) {
        p.out = frame(q);
        events |= EPOLLOUT;
      } else if (::send(s.get(), q.data(), q.size(), MSG_NOSIGNAL) !=
                 static_cast<ssize_t>(q.size())) {
        continue;
      }
      uint64_t t = next_token++;
      if (!watch(s.get(), t, events)) continue;
      p.fd = std::move(s);
      p.deadline = Clock::now() + kUpstreamTimeout;
      pending.emplace(t, std::move(p));
      return;
    }
    std::string msg = dnsmsg::error_reply(p.query, kRcodeServfail);
    reply(p, msg);
  }

  // Moves to the next upstream (timeout, refusal, bad answer stream).
  void retry(uint64_t token) {
    auto it = pending.find(token);
    if (it == pending.end()) return;
    unwatch(it->second.fd.get());
    Pending p = std::move(it->second);
    pending.erase(it);
    try_next_upstream(std::move(p));
  }

  void finish(uint64_t token, std::string_view response) {
    auto it = pending.find(token);
    if (it == pending.end()) return;
    unwatch(it->second.fd.get());
    Pending p = std::move(it->second);
    pending.erase(it);
    reply(p, dnsmsg::with_id(response, p.query.id));
  }

  void on_upstream(uint64_t token, uint32_t events) {
    Pending& p = pending.at(token);
    char buf[kMaxMessage];
    if (!p.tcp) {
      for (int i = 0; i < 8; ++i) {  // a few stray datagrams at most per wakeup
        ssize_t n = ::recv(p.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n < 0) return retry(token);  // ECONNREFUSED: nobody there
        std::string_view r(buf, static_cast<size_t>(n));
        if (dnsmsg::is_response_to(r, p.up_id, p.query)) return finish(token, r);
      }
      return;
    }
    if (!p.connected && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
      int err = 0;
      socklen_t len = sizeof err;
      if (::getsockopt(p.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        return retry(token);
      }
      p.connected = true;
    }
    if (p.connected && !p.out.empty()) {
      ssize_t n = ::send(p.fd.get(), p.out.data(), p.out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return retry(token);
      }
      if (n > 0) p.out.erase(0, static_cast<size_t>(n));
      if (p.out.empty()) rewatch(p.fd.get(), token, EPOLLIN);
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
    for (int i = 0; i < 8; ++i) {
      ssize_t n = ::recv(p.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) return retry(token);  // closed before answering
      p.in.append(buf, static_cast<size_t>(n));
      auto len = framed_length(p.in);
      if (len && p.in.size() >= 2 + *len) {
        std::string_view r(p.in.data() + 2, *len);
        if (dnsmsg::is_response_to(r, p.up_id, p.query)) return finish(token, r);
        return retry(token);
      }
    }
  }

  // --- containers' sockets ---

  void on_udp_listener(uint64_t token) {
    char buf[kMaxMessage];
    for (int i = 0; i < 64; ++i) {  // bounded: other sockets get their turn
      auto l = listeners.find(token);
      if (l == listeners.end()) return;  // the lookup may not remove, but be safe
      sockaddr_storage from{};
      socklen_t len = sizeof from;
      ssize_t n = ::recvfrom(l->second.fd.get(), buf, sizeof buf, MSG_DONTWAIT,
                             reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return;
      std::string tag = l->second.tag;
      handle_query(tag, std::string_view(buf, static_cast<size_t>(n)), token, &from, len, 0);
    }
  }

  void on_tcp_listener(uint64_t token) {
    for (int i = 0; i < 16; ++i) {
      auto l = listeners.find(token);
      if (l == listeners.end()) return;
      Fd c(::accept4(l->second.fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!c) return;
      if (l->second.conns >= kMaxConnsPerTag) continue;  // closed at once: a bound, not a queue
      uint64_t t = next_token++;
      if (!watch(c.get(), t, EPOLLIN)) continue;
      ++l->second.conns;
      Conn conn;
      conn.tag = l->second.tag;
      conn.listener = token;
      conn.fd = std::move(c);
      conn.last_active = Clock::now();
      conns.emplace(t, std::move(conn));
    }
  }

  void on_conn(uint64_t token, uint32_t events) {
    if (events & EPOLLOUT) {
      flush_conn(token);
      if (!conns.count(token)) return;
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
    char buf[16384];
    for (int i = 0; i < 8; ++i) {
      auto it = conns.find(token);
      if (it == conns.end()) return;
      Conn& c = it->second;
      ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) return close_conn(token);
      c.in.append(buf, static_cast<size_t>(n));
      c.last_active = Clock::now();
      // Every complete message in the buffer (clients may pipeline).
      for (int m = 0; m < 64; ++m) {
        auto cit = conns.find(token);
        if (cit == conns.end()) return;
        auto len = framed_length(cit->second.in);
        if (!len) break;
        if (*len == 0) return close_conn(token);
        if (cit->second.in.size() < 2 + *len) break;
        std::string msg = cit->second.in.substr(2, *len);
        cit->second.in.erase(0, 2 + *len);
        std::string tag = cit->second.tag;
        uint64_t listener = cit->second.listener;
        handle_query(tag, msg, listener, nullptr, 0, token);
      }
    }
  }

  // --- time ---

  void expire() {
    auto now = Clock::now();
    std::vector<uint64_t> late;
    for (const auto& [t, p] : pending) {
      if (p.deadline <= now) late.push_back(t);
    }
    for (uint64_t t : late) retry(t);
    std::vector<uint64_t> idle;
    for (const auto& [t, c] : conns) {
      if (c.pending == 0 && now - c.last_active >= kTcpIdle) idle.push_back(t);
    }
    for (uint64_t t : idle) close_conn(t);
  }

  int next_timeout_ms() {
    auto now = Clock::now();
    auto next = now + std::chrono::seconds(1);
    for (const auto& [t, p] : pending) next = std::min(next, p.deadline);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
    return static_cast<int>(std::clamp<long long>(ms + 1, 0, 1000));
  }

  void run() {
    epoll_event events[64];
    int timeout = 1000;
    while (!stop.load()) {
      int n = ::epoll_wait(ep.get(), events, 64, timeout);
      if (n < 0 && errno != EINTR) {
        log_error("dns: epoll_wait: {}", std::strerror(errno));
        return;
      }
      std::lock_guard lock(mu);
      for (int i = 0; i < n; ++i) {
        uint64_t t = events[i].data.u64;
        uint32_t ev = events[i].events;
        if (t == kWakeToken) {
          uint64_t v;
          (void)!::read(wake.get(), &v, sizeof v);
        } else if (auto l = listeners.find(t); l != listeners.end()) {
          if (l->second.tcp) {
            on_tcp_listener(t);
          } else {
            on_udp_listener(t);
          }
        } else if (conns.count(t)) {
          on_conn(t, ev);
        } else if (pending.count(t)) {
          on_upstream(t, ev);
        }
        // else: removed after epoll_wait returned it.
      }
      expire();
      timeout = next_timeout_ms();
    }
  }
};

DnsServer::DnsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<DnsServer>> DnsServer::start(DnsLookup lookup,
                                                    std::vector<std::string> upstreams) {
  auto impl = std::make_unique<Impl>();
  impl->lookup = std::move(lookup);
  impl->upstreams = parse_upstreams(upstreams);
  impl->ep.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!impl->ep) return sys_error("dns: epoll_create1");
  impl->wake.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!impl->wake) return sys_error("dns: eventfd");
  if (!impl->watch(impl->wake.get(), kWakeToken, EPOLLIN)) return sys_error("dns: epoll_ctl");
  Impl* raw = impl.get();
  try {
    impl->thread = std::thread([raw] { raw->run(); });
  } catch (const std::system_error& e) {
    return make_error(Errc::Unavailable, "dns: cannot start the server thread: {}", e.what());
  }
  return std::unique_ptr<DnsServer>(new DnsServer(std::move(impl)));
}

DnsServer::~DnsServer() {
  impl_->stop.store(true);
  uint64_t one = 1;
  (void)!::write(impl_->wake.get(), &one, sizeof one);
  if (impl_->thread.joinable()) impl_->thread.join();
  // The Fds in the maps close with impl_.
}

void DnsServer::add(const std::string& tag, Fd udp, Fd tcp,
                    const std::vector<std::string>& upstreams) {
  auto parsed = parse_upstreams(upstreams);
  std::lock_guard lock(impl_->mu);
  impl_->remove_tag(tag);
  Impl::Tag t;
  t.upstreams = std::move(parsed);
  t.udp = impl_->add_listener(tag, std::move(udp), false);
  t.tcp = impl_->add_listener(tag, std::move(tcp), true);
  impl_->tags[tag] = t;
}

void DnsServer::remove(const std::string& tag) {
  std::lock_guard lock(impl_->mu);
  impl_->remove_tag(tag);
}

void DnsServer::set_upstreams(std::vector<std::string> upstreams) {
  auto parsed = parse_upstreams(upstreams);
  std::lock_guard lock(impl_->mu);
  impl_->upstreams = std::move(parsed);  // queries in flight keep their list
}

std::vector<std::string> resolv_conf_nameservers(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& raw : split(text, '\n')) {
    std::string_view line = trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    std::vector<std::string> words;
    for (const auto& w : split(std::string(line), ' ', true)) {
      for (const auto& x : split(w, '\t', true)) words.push_back(x);
    }
    if (words.size() < 2 || words[0] != "nameserver") continue;
    // resolv.conf(5): an IPv4 or IPv6 address; anything else is skipped.
    unsigned char buf[16];
    const std::string& ns = words[1];
    if (::inet_pton(AF_INET, ns.c_str(), buf) == 1 || ::inet_pton(AF_INET6, ns.c_str(), buf) == 1) {
      out.push_back(ns);
    }
  }
  return out;
}

}  // namespace berth::network
