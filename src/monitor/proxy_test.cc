#include "monitor/proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>

namespace berth::monitor {
namespace {

// A socket of `type` on the loopback of `family`, bound to an ephemeral
// port; listening when `backlog` > 0.
Fd loopback_socket(int family, int backlog, uint16_t* port, int type = SOCK_STREAM) {
  Fd s(::socket(family, type | SOCK_CLOEXEC, 0));
  if (!s) return s;
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *a;
  }
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return Fd();
  if (backlog > 0 && ::listen(s.get(), backlog) != 0) return Fd();
  ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  *port = family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                             : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return s;
}

Fd connect_v6(uint16_t port) {
  Fd s(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  a.sin6_port = htons(port);
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return Fd();
  timeval tv{5, 0};  // a hang fails the test instead of blocking it
  ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return s;
}

// Runs the proxy's loop on a thread of its own, as the monitor's loop would.
class Pump {
 public:
  explicit Pump(Proxy& p)
      : t_([this, &p] {
          while (!stop_) {
            pollfd pf{p.fd(), POLLIN, 0};
            if (::poll(&pf, 1, 20) > 0) {
              p.pump();
              ++wakeups_;
            }
          }
        }) {}
  ~Pump() {
    stop_ = true;
    t_.join();
  }
  int wakeups() const { return wakeups_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> wakeups_{0};
  std::thread t_;
};

class ProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uint16_t port = 0;
    listener_ = loopback_socket(AF_INET6, 128, &port);
    if (!listener_) GTEST_SKIP() << "no IPv6 loopback on this host";
    port_ = port;
    proxy_ = Proxy::make().value();
  }
  Fd listener_;
  uint16_t port_ = 0;
  std::unique_ptr<Proxy> proxy_;
};

TEST_F(ProxyTest, RelaysBothWaysAndPassesEofOn) {
  uint16_t target_port = 0;
  Fd server = loopback_socket(AF_INET, 4, &target_port);
  ASSERT_TRUE(server);
  ASSERT_TRUE(proxy_->add(std::move(listener_), "127.0.0.1", target_port).has_value());
  // The target: echoes every byte, upper-cased, until the client's EOF, then
  // says "bye" and closes.
  std::thread echo([&] {
    Fd c(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(c.get(), buf, sizeof buf, 0)) > 0) {
      for (ssize_t i = 0; i < n; ++i) buf[i] = static_cast<char>(std::toupper(buf[i]));
      ASSERT_EQ(::send(c.get(), buf, static_cast<size_t>(n), MSG_NOSIGNAL), n);
    }
    ASSERT_EQ(::send(c.get(), "bye", 3, MSG_NOSIGNAL), 3);
  });
  Pump pump(*proxy_);
  Fd client = connect_v6(port_);
  ASSERT_TRUE(client);
  // More than the relay's buffers and the sockets' queues hold, written on
  // a thread while this one reads: the relay has to apply back-pressure.
  std::string sent(3 * 1024 * 1024, 'x');
  for (size_t i = 0; i < sent.size(); i += 7) sent[i] = static_cast<char>('a' + i % 26);
  std::thread writer([&] {
    size_t off = 0;
    while (off < sent.size()) {
      ssize_t w = ::send(client.get(), sent.data() + off, sent.size() - off, MSG_NOSIGNAL);
      ASSERT_GT(w, 0);
      off += static_cast<size_t>(w);
    }
    ::shutdown(client.get(), SHUT_WR);
  });
  std::string got;
  char buf[65536];
  ssize_t n;
  while ((n = ::recv(client.get(), buf, sizeof buf, 0)) > 0)
    got.append(buf, static_cast<size_t>(n));
  writer.join();
  echo.join();
  std::string want = sent;
  for (auto& ch : want) ch = static_cast<char>(std::toupper(ch));
  ASSERT_EQ(got.size(), want.size() + 3);
  EXPECT_TRUE(got.compare(0, want.size(), want) == 0);
  EXPECT_EQ(got.substr(want.size()), "bye");
  EXPECT_EQ(n, 0);  // a clean EOF, passed on from the target
}

TEST_F(ProxyTest, ARefusingTargetClosesTheClient) {
  uint16_t closed_port = 0;
  {
    Fd probe = loopback_socket(AF_INET, 0, &closed_port);  // bound, never listening
    ASSERT_TRUE(probe);
  }
  ASSERT_TRUE(proxy_->add(std::move(listener_), "127.0.0.1", closed_port).has_value());
  Pump pump(*proxy_);
  Fd client = connect_v6(port_);
  ASSERT_TRUE(client);
  char b;
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_LE(::recv(client.get(), &b, 1, 0), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(4));
}

TEST_F(ProxyTest, ManyConnectionsAtOnceAllGetThrough) {
  uint16_t target_port = 0;
  Fd server = loopback_socket(AF_INET, 64, &target_port);
  ASSERT_TRUE(server);
  ASSERT_TRUE(proxy_->add(std::move(listener_), "127.0.0.1", target_port).has_value());
  constexpr int kConns = 40;
  // The target answers each connection with its own number, then closes.
  std::thread target([&] {
    for (int i = 0; i < kConns; ++i) {
      Fd c(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!c) return;
      char b[16];
      ssize_t n = ::recv(c.get(), b, sizeof b, 0);
      if (n > 0) ::send(c.get(), b, static_cast<size_t>(n), MSG_NOSIGNAL);
    }
  });
  Pump pump(*proxy_);
  std::vector<Fd> clients;
  for (int i = 0; i < kConns; ++i) {
    clients.push_back(connect_v6(port_));
    ASSERT_TRUE(clients.back());
    std::string m = std::to_string(i);
    ASSERT_EQ(::send(clients.back().get(), m.data(), m.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(m.size()));
  }
  for (int i = 0; i < kConns; ++i) {
    char b[16];
    ssize_t n = ::recv(clients[i].get(), b, sizeof b, 0);
    ASSERT_GT(n, 0) << i;
    EXPECT_EQ(std::string(b, static_cast<size_t>(n)), std::to_string(i));
  }
  target.join();
}

TEST_F(ProxyTest, RefusesWhatItCannotServe) {
  uint16_t p = 0;
  Fd unlistened = loopback_socket(AF_INET6, 0, &p);
  auto r = proxy_->add(std::move(unlistened), "127.0.0.1", 80);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("does not listen"), std::string::npos) << r.error().message;
  Fd raw(::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP));
  if (raw) {
    r = proxy_->add(std::move(raw), "127.0.0.1", 80);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("not a stream or datagram socket"), std::string::npos);
  }
  Fd pipe_end;
  {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    pipe_end.reset(fds[0]);
    ::close(fds[1]);
  }
  r = proxy_->add(std::move(pipe_end), "127.0.0.1", 80);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("not a stream or datagram socket"), std::string::npos);
  Fd l2 = loopback_socket(AF_INET6, 4, &p);
  r = proxy_->add(std::move(l2), "::1", 80);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_NE(r.error().message.find("\"::1:80\""), std::string::npos) << r.error().message;
  EXPECT_EQ(proxy_->listeners(), 0u);
}

// A UDP socket on [::1] (the listener) or 127.0.0.1 (the target), bound to
// an ephemeral port, with a receive time-out.
Fd udp_socket(int family, uint16_t* port) {
  Fd s = loopback_socket(family, 0, port, SOCK_DGRAM);
  timeval tv{5, 0};
  if (s) ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return s;
}

// Sends `msg` to [::1]:port from `s` and returns the one answer ("" on time-out).
std::string udp_ask(int s, uint16_t port, const std::string& msg) {
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  a.sin6_port = htons(port);
  if (::sendto(s, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
    return "";
  char buf[70000];
  sockaddr_in6 from{};
  socklen_t flen = sizeof from;
  ssize_t n = ::recvfrom(s, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
  if (n < 0) return "";
  // The answer comes from the address the client sent to.
  if (flen != sizeof from || ntohs(from.sin6_port) != port) return "<from elsewhere>";
  return std::string(buf, static_cast<size_t>(n));
}

TEST_F(ProxyTest, UdpGivesEachClientItsOwnAnswersAndIdleFlowsGo) {
  uint16_t port = 0, target_port = 0;
  Fd listener = udp_socket(AF_INET6, &port);
  Fd target = udp_socket(AF_INET, &target_port);
  ASSERT_TRUE(listener && target);
  ASSERT_TRUE(proxy_->add(std::move(listener), "127.0.0.1", target_port).has_value());
  proxy_->set_udp_idle(std::chrono::milliseconds(200), std::chrono::milliseconds(50));
  // The target answers each datagram with "re:" and its text, to its sender
  // (the relay's flow socket); a datagram of 60000 bytes comes back whole.
  std::atomic<bool> stop{false};
  std::thread echo([&] {
    char buf[70000];
    while (!stop) {
      sockaddr_in from{};
      socklen_t flen = sizeof from;
      ssize_t n =
          ::recvfrom(target.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
      if (n < 0) continue;
      std::string reply = "re:" + std::string(buf, static_cast<size_t>(n));
      ::sendto(target.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from),
               flen);
    }
  });
  {
    Pump pump(*proxy_);
    uint16_t p1 = 0, p2 = 0;
    Fd a = udp_socket(AF_INET6, &p1), b = udp_socket(AF_INET6, &p2);
    EXPECT_EQ(udp_ask(a.get(), port, "one"), "re:one");
    EXPECT_EQ(udp_ask(b.get(), port, "two"), "re:two");
    EXPECT_EQ(udp_ask(a.get(), port, "three"), "re:three");
    std::string big(60000, 'z');
    EXPECT_EQ(udp_ask(b.get(), port, big), "re:" + big);
  }
  EXPECT_EQ(proxy_->flows(), 2u);
  {
    Pump pump(*proxy_);
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
  }
  EXPECT_EQ(proxy_->flows(), 0u);  // idle for longer than 200 ms
  stop = true;
  uint16_t p3 = 0;
  Fd c = udp_socket(AF_INET, &p3);
  sockaddr_in t{};
  t.sin_family = AF_INET;
  t.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  t.sin_port = htons(target_port);
  ::sendto(c.get(), "x", 1, 0, reinterpret_cast<sockaddr*>(&t), sizeof t);  // wakes the echo
  echo.join();
}

// Out of fds, a listener rests instead of waking the loop for its queued
// connection again and again, and serves it once a connection ends.
TEST_F(ProxyTest, OutOfFdsTheListenerRestsUntilAConnectionEnds) {
  uint16_t target_port = 0;
  Fd server = loopback_socket(AF_INET, 8, &target_port);
  ASSERT_TRUE(server);
  ASSERT_TRUE(proxy_->add(std::move(listener_), "127.0.0.1", target_port).has_value());
  proxy_->set_udp_idle(std::chrono::seconds(90), std::chrono::seconds(30));  // no timer wake-up
  // The target: answers "hi" to each connection and closes it when the client does.
  timeval limit_wait{10, 0};  // a relay that never connects fails the test, not hangs it
  ::setsockopt(server.get(), SOL_SOCKET, SO_RCVTIMEO, &limit_wait, sizeof limit_wait);
  std::thread target([&] {
    for (int i = 0; i < 2; ++i) {
      Fd c(::accept4(server.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!c) return;
      ::send(c.get(), "hi", 2, MSG_NOSIGNAL);
      char b[16];
      while (::recv(c.get(), b, sizeof b, 0) > 0) {
      }
    }
  });
  Fd a(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)),
      b(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  to.sin6_addr = in6addr_loopback;
  to.sin6_port = htons(port_);
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  {
    // Room for exactly one relayed connection: its accepted and upstream
    // sockets and the target's accepted one (this process is all three):
    // the limit below which exactly three fds are free.
    std::set<int> open;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd"))
      open.insert(std::stoi(e.path().filename()));
    // (Without the directory's own fd, which the listing showed.)
    std::erase_if(open, [](int fd) { return ::fcntl(fd, F_GETFD) < 0; });
    int limit = 0;
    for (int free_below = 0; free_below < 3; ++limit)
      if (!open.count(limit)) ++free_below;
    rlimit low = old;
    low.rlim_cur = static_cast<rlim_t>(limit);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  }
  Pump pump(*proxy_);
  char buf[8];
  ASSERT_EQ(::connect(a.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  timeval tv{5, 0};
  ::setsockopt(a.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(b.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  EXPECT_EQ(::recv(a.get(), buf, sizeof buf, 0), 2);
  ASSERT_EQ(::connect(b.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int before = pump.wakeups();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int during = pump.wakeups() - before;
  a.reset();  // the first connection ends: its fds come back
  ssize_t got = ::recv(b.get(), buf, sizeof buf, 0);
  ::setrlimit(RLIMIT_NOFILE, &old);
  EXPECT_LE(during, 2) << "the loop kept waking while out of fds";
  EXPECT_EQ(got, 2) << "the queued connection was not served after the first one ended";
  b.reset();
  target.join();
}

TEST_F(ProxyTest, DestroyingTheProxyClosesItsPort) {
  uint16_t target_port = 0;
  Fd server = loopback_socket(AF_INET, 4, &target_port);
  ASSERT_TRUE(proxy_->add(std::move(listener_), "127.0.0.1", target_port).has_value());
  EXPECT_EQ(proxy_->listeners(), 1u);
  proxy_.reset();
  EXPECT_FALSE(connect_v6(port_));
}

}  // namespace
}  // namespace berth::monitor
