// The embedded DNS server on sockets bound to 127.0.0.1 ephemeral ports
// (no root, no namespace), queried with ldns-built packets over UDP and TCP;
// fake upstreams are sockets of the test on 127.0.0.1.
#include "network/dns.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "base/scope_exit.h"

// After the C++ headers: ldns/common.h may define bool macros.
#include <ldns/ldns.h>

namespace berth::network {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

uint16_t port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

Fd bound(int type, uint16_t port = 0) {
  Fd s(::socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  int one = 1;
  ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = loopback(port);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return Fd();
  if (type == SOCK_STREAM && ::listen(s.get(), 64) != 0) return Fd();
  return s;
}

// A UDP and a TCP socket on one 127.0.0.1 port.
struct SocketPair {
  Fd udp, tcp;
  uint16_t port = 0;
};
SocketPair bound_pair() {
  for (int i = 0; i < 20; ++i) {
    SocketPair p;
    p.udp = bound(SOCK_DGRAM);
    p.port = port_of(p.udp.get());
    p.tcp = bound(SOCK_STREAM, p.port);
    if (p.tcp) return p;  // else the TCP port was taken: another try
  }
  return {};
}

std::string query(const std::string& name, ldns_rr_type type, uint16_t id, bool rd = true) {
  ldns_rdf* dname = ldns_dname_new_frm_str(name.c_str());
  Pkt p(ldns_pkt_query_new(dname, type, LDNS_RR_CLASS_IN, rd ? LDNS_RD : 0));
  ldns_pkt_set_id(p.get(), id);
  uint8_t* buf = nullptr;
  size_t size = 0;
  EXPECT_EQ(ldns_pkt2wire(&buf, p.get(), &size), LDNS_STATUS_OK);
  std::string out(reinterpret_cast<char*>(buf), size);
  std::free(buf);
  return out;
}

Pkt parse(const std::string& wire) {
  ldns_pkt* p = nullptr;
  if (ldns_wire2pkt(&p, reinterpret_cast<const uint8_t*>(wire.data()), wire.size()) !=
      LDNS_STATUS_OK) {
    return nullptr;
  }
  return Pkt(p);
}

std::string rdata_text(const ldns_rr* rr) {
  char* s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
  std::string out = s ? s : "";
  std::free(s);
  return out;
}

bool readable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) == 1;
}

std::optional<std::string> udp_ask(uint16_t port, const std::string& wire, int ms = 2000) {
  Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = loopback(port);
  ::sendto(s.get(), wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  if (!readable(s.get(), ms)) return std::nullopt;
  char buf[65536];
  ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

std::string framed(const std::string& m) {
  std::string f(2, '\0');
  f[0] = static_cast<char>(m.size() >> 8);
  f[1] = static_cast<char>(m.size() & 0xff);
  return f + m;
}

Fd tcp_connect(uint16_t port) {
  Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = loopback(port);
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return Fd();
  return s;
}

// Reads exactly n bytes within the deadline; nullopt on EOF or timeout.
std::optional<std::string> read_n(int fd, size_t n, Clock::time_point deadline) {
  std::string out;
  while (out.size() < n) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 || !readable(fd, static_cast<int>(left))) return std::nullopt;
    char buf[4096];
    ssize_t r = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
    if (r <= 0) return std::nullopt;
    out.append(buf, static_cast<size_t>(r));
  }
  return out;
}

std::optional<std::string> tcp_read_msg(int fd, int ms = 2000) {
  auto deadline = Clock::now() + milliseconds(ms);
  auto len = read_n(fd, 2, deadline);
  if (!len) return std::nullopt;
  size_t n = (static_cast<uint8_t>((*len)[0]) << 8) | static_cast<uint8_t>((*len)[1]);
  return read_n(fd, n, deadline);
}

// True when the peer closed the connection within `ms`.
bool closed_by_peer(int fd, int ms) {
  auto deadline = Clock::now() + milliseconds(ms);
  while (Clock::now() < deadline) {
    if (!readable(fd, 100)) continue;
    char c;
    ssize_t r = ::recv(fd, &c, 1, 0);
    if (r <= 0) return true;
  }
  return false;
}

// An upstream resolver: answers every A query with 9.9.9.9 (or stays
// silent), over UDP and TCP on one port, and counts what it saw.
class FakeUpstream {
 public:
  explicit FakeUpstream(bool answer) : answer_(answer), sockets_(bound_pair()) {
    thread_ = std::thread([this] { run(); });
  }
  ~FakeUpstream() {
    stop_ = true;
    thread_.join();
  }
  std::string addr() const { return fmt::format("127.0.0.1:{}", sockets_.port); }
  int udp_queries() const { return udp_.load(); }
  int tcp_queries() const { return tcp_.load(); }
  std::string last_name() {
    std::lock_guard l(mu_);
    return last_name_;
  }

 private:
  std::string respond(const std::string& q) {
    Pkt p = parse(q);
    if (!p) return "";
    ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(p.get()), 0);
    char* owner = ldns_rdf2str(ldns_rr_owner(question));
    {
      std::lock_guard l(mu_);
      last_name_ = owner ? owner : "";
    }
    Pkt r(ldns_pkt_new());
    ldns_pkt_set_id(r.get(), ldns_pkt_id(p.get()));
    ldns_pkt_set_qr(r.get(), true);
    ldns_pkt_set_ra(r.get(), true);
    ldns_pkt_push_rr(r.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(question));
    ldns_rr* a = nullptr;
    ldns_rr_new_frm_str(&a, fmt::format("{} 300 IN A 9.9.9.9", owner).c_str(), 0, nullptr, nullptr);
    std::free(owner);
    ldns_pkt_push_rr(r.get(), LDNS_SECTION_ANSWER, a);
    uint8_t* buf = nullptr;
    size_t size = 0;
    ldns_pkt2wire(&buf, r.get(), &size);
    std::string out(reinterpret_cast<char*>(buf), size);
    std::free(buf);
    return out;
  }

  void run() {
    auto end = Clock::now() + std::chrono::seconds(30);  // bounded even if never stopped
    while (!stop_ && Clock::now() < end) {
      pollfd p[2] = {{sockets_.udp.get(), POLLIN, 0}, {sockets_.tcp.get(), POLLIN, 0}};
      if (::poll(p, 2, 50) <= 0) continue;
      if (p[0].revents & POLLIN) {
        char buf[65536];
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        ssize_t n = ::recvfrom(sockets_.udp.get(), buf, sizeof buf, 0,
                               reinterpret_cast<sockaddr*>(&from), &len);
        if (n > 0) {
          ++udp_;
          std::string r = respond(std::string(buf, static_cast<size_t>(n)));
          if (answer_ && !r.empty()) {
            ::sendto(sockets_.udp.get(), r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from),
                     len);
          }
        }
      }
      if (p[1].revents & POLLIN) {
        Fd c(::accept4(sockets_.tcp.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!c) continue;
        auto q = tcp_read_msg(c.get(), 1000);
        if (!q) continue;
        ++tcp_;
        std::string r = respond(*q);
        if (answer_) {
          std::string f = framed(r);
          (void)!::send(c.get(), f.data(), f.size(), MSG_NOSIGNAL);
        }
      }
    }
  }

  bool answer_;
  SocketPair sockets_;
  std::atomic<bool> stop_{false};
  std::atomic<int> udp_{0}, tcp_{0};
  std::mutex mu_;
  std::string last_name_;
  std::thread thread_;
};

class DnsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(start({})); }

  bool start(std::vector<std::string> upstreams) {
    server_.reset();
    auto s = DnsServer::start(
        [this](const std::string& tag,
               const std::string& name) -> std::optional<std::vector<std::string>> {
          std::lock_guard l(mu_);
          calls_.push_back(tag + "/" + name);
          if (tag == "c1" && name == "web") {
            return std::vector<std::string>{"172.18.0.5", "fd00::5", "172.18.0.6"};
          }
          if (tag == "c1" && name == "nothing") return std::vector<std::string>{};
          return std::nullopt;
        },
        std::move(upstreams));
    if (!s) return false;
    server_ = std::move(s).value();
    SocketPair p = bound_pair();
    if (!p.udp || !p.tcp) return false;
    port_ = p.port;
    server_->add("c1", std::move(p.udp), std::move(p.tcp));
    return true;
  }

  std::vector<std::string> calls() {
    std::lock_guard l(mu_);
    return calls_;
  }

  std::unique_ptr<DnsServer> server_;
  uint16_t port_ = 0;
  std::mutex mu_;
  std::vector<std::string> calls_;
};

TEST_F(DnsTest, KnownNameUdpA) {
  auto r = udp_ask(port_, query("WeB.", LDNS_RR_TYPE_A, 0x1234));
  ASSERT_TRUE(r.has_value()) << "no answer";
  Pkt p = parse(*r);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_id(p.get()), 0x1234);
  EXPECT_TRUE(ldns_pkt_qr(p.get()));
  EXPECT_TRUE(ldns_pkt_rd(p.get()));
  EXPECT_TRUE(ldns_pkt_ra(p.get()));
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_qdcount(p.get()), 1);
  ldns_rr_list* ans = ldns_pkt_answer(p.get());
  ASSERT_EQ(ldns_rr_list_rr_count(ans), 2u);
  EXPECT_EQ(ldns_rr_get_type(ldns_rr_list_rr(ans, 0)), LDNS_RR_TYPE_A);
  EXPECT_EQ(ldns_rr_ttl(ldns_rr_list_rr(ans, 0)), 600u);
  EXPECT_EQ(rdata_text(ldns_rr_list_rr(ans, 0)), "172.18.0.5");
  EXPECT_EQ(rdata_text(ldns_rr_list_rr(ans, 1)), "172.18.0.6");
  // The lookup saw the tag and the name in lower case, without the dot.
  auto c = calls();
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c.back(), "c1/web");
}

TEST_F(DnsTest, KnownNameAaaaOtherTypesAndRdCopied) {
  auto r = udp_ask(port_, query("web", LDNS_RR_TYPE_AAAA, 7, /*rd=*/false));
  ASSERT_TRUE(r.has_value());
  Pkt p = parse(*r);
  ASSERT_TRUE(p);
  EXPECT_FALSE(ldns_pkt_rd(p.get()));
  ldns_rr_list* ans = ldns_pkt_answer(p.get());
  ASSERT_EQ(ldns_rr_list_rr_count(ans), 1u);
  EXPECT_EQ(ldns_rr_get_type(ldns_rr_list_rr(ans, 0)), LDNS_RR_TYPE_AAAA);
  EXPECT_EQ(rdata_text(ldns_rr_list_rr(ans, 0)), "fd00::5");

  // A known name, a type it has no records of: NOERROR, empty.
  for (ldns_rr_type t : {LDNS_RR_TYPE_MX, LDNS_RR_TYPE_TXT}) {
    r = udp_ask(port_, query("web", t, 8));
    ASSERT_TRUE(r.has_value());
    p = parse(*r);
    ASSERT_TRUE(p);
    EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
    EXPECT_EQ(ldns_pkt_ancount(p.get()), 0);
  }
  r = udp_ask(port_, query("nothing", LDNS_RR_TYPE_A, 9));
  ASSERT_TRUE(r.has_value());
  p = parse(*r);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 0);
}

TEST_F(DnsTest, KnownNameTcpWithPipelining) {
  Fd c = tcp_connect(port_);
  ASSERT_TRUE(c.valid());
  std::string two =
      framed(query("web", LDNS_RR_TYPE_A, 1)) + framed(query("web", LDNS_RR_TYPE_AAAA, 2));
  ASSERT_EQ(::send(c.get(), two.data(), two.size(), 0), static_cast<ssize_t>(two.size()));
  auto a = tcp_read_msg(c.get());
  auto b = tcp_read_msg(c.get());
  ASSERT_TRUE(a && b);
  Pkt pa = parse(*a), pb = parse(*b);
  ASSERT_TRUE(pa && pb);
  EXPECT_EQ(ldns_pkt_id(pa.get()), 1);
  EXPECT_EQ(ldns_pkt_ancount(pa.get()), 2);
  EXPECT_EQ(ldns_pkt_id(pb.get()), 2);
  EXPECT_EQ(ldns_pkt_ancount(pb.get()), 1);
  // A message split across writes is reassembled.
  std::string q = framed(query("web", LDNS_RR_TYPE_A, 3));
  ASSERT_EQ(::send(c.get(), q.data(), 5, 0), 5);
  std::this_thread::sleep_for(milliseconds(50));
  ASSERT_EQ(::send(c.get(), q.data() + 5, q.size() - 5, 0), static_cast<ssize_t>(q.size() - 5));
  auto m = tcp_read_msg(c.get());
  ASSERT_TRUE(m);
  EXPECT_EQ(ldns_pkt_id(parse(*m).get()), 3);
}

TEST_F(DnsTest, UnknownNameForwardedOverUdp) {
  FakeUpstream up(true);
  server_->set_upstreams({up.addr()});
  auto r = udp_ask(port_, query("example.com", LDNS_RR_TYPE_A, 0xbeef));
  ASSERT_TRUE(r.has_value());
  Pkt p = parse(*r);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_id(p.get()), 0xbeef);  // the client's id, not the forwarded one
  ASSERT_EQ(ldns_pkt_ancount(p.get()), 1);
  EXPECT_EQ(rdata_text(ldns_rr_list_rr(ldns_pkt_answer(p.get()), 0)), "9.9.9.9");
  EXPECT_EQ(up.udp_queries(), 1);
  EXPECT_EQ(up.last_name(), "example.com.");
}

TEST_F(DnsTest, ContainerUpstreamsReplaceTheServers) {
  FakeUpstream daemon_wide(true), own(true);
  server_->set_upstreams({daemon_wide.addr()});
  SocketPair p = bound_pair();
  ASSERT_TRUE(p.udp && p.tcp);
  server_->add("c2", std::move(p.udp), std::move(p.tcp), {own.addr()});
  auto r = udp_ask(p.port, query("example.com", LDNS_RR_TYPE_A, 1));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(own.udp_queries(), 1);  // c2's --dns
  EXPECT_EQ(daemon_wide.udp_queries(), 0);
  r = udp_ask(port_, query("example.com", LDNS_RR_TYPE_A, 2));  // c1 has none of its own
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(daemon_wide.udp_queries(), 1);
  EXPECT_EQ(own.udp_queries(), 1);
}

TEST_F(DnsTest, UnknownNameOverTcpForwardedOverTcp) {
  FakeUpstream up(true);
  server_->set_upstreams({up.addr()});
  Fd c = tcp_connect(port_);
  ASSERT_TRUE(c.valid());
  std::string q = framed(query("example.org", LDNS_RR_TYPE_A, 42));
  ASSERT_EQ(::send(c.get(), q.data(), q.size(), 0), static_cast<ssize_t>(q.size()));
  auto m = tcp_read_msg(c.get(), 3000);
  ASSERT_TRUE(m);
  Pkt p = parse(*m);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_id(p.get()), 42);
  EXPECT_EQ(rdata_text(ldns_rr_list_rr(ldns_pkt_answer(p.get()), 0)), "9.9.9.9");
  EXPECT_EQ(up.tcp_queries(), 1);
  EXPECT_EQ(up.udp_queries(), 0);
}

TEST_F(DnsTest, SilentUpstreamGivesServfailAndNeverBlocks) {
  FakeUpstream silent(false);
  server_->set_upstreams({silent.addr()});
  Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = loopback(port_);
  std::string q = query("slow.example", LDNS_RR_TYPE_A, 77);
  auto t0 = Clock::now();
  ::sendto(s.get(), q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  // While that query waits on its upstream, known names are answered at once.
  auto fast = udp_ask(port_, query("web", LDNS_RR_TYPE_A, 78), 500);
  ASSERT_TRUE(fast.has_value()) << "the server blocked on a slow upstream";
  ASSERT_TRUE(readable(s.get(), 4000)) << "no SERVFAIL";
  auto waited = Clock::now() - t0;
  char buf[4096];
  ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
  ASSERT_GT(n, 0);
  Pkt p = parse(std::string(buf, static_cast<size_t>(n)));
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_id(p.get()), 77);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_SERVFAIL);
  EXPECT_GE(waited, milliseconds(1900));
  EXPECT_LE(waited, milliseconds(4000));
  EXPECT_EQ(silent.udp_queries(), 1);
}

TEST_F(DnsTest, NextUpstreamAfterTimeout) {
  FakeUpstream silent(false);
  FakeUpstream good(true);
  server_->set_upstreams({silent.addr(), good.addr()});
  auto t0 = Clock::now();
  auto r = udp_ask(port_, query("example.net", LDNS_RR_TYPE_A, 5), 5000);
  ASSERT_TRUE(r.has_value());
  EXPECT_GE(Clock::now() - t0, milliseconds(1900));
  Pkt p = parse(*r);
  ASSERT_TRUE(p);
  EXPECT_EQ(ldns_pkt_get_rcode(p.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(ldns_pkt_ancount(p.get()), 1);
  EXPECT_EQ(silent.udp_queries(), 1);
  EXPECT_EQ(good.udp_queries(), 1);
}

TEST_F(DnsTest, RefusedAndMissingUpstreamsFailFast) {
  // A port nobody listens on: ICMP port unreachable -> ECONNREFUSED, then
  // SERVFAIL without waiting for the timeout.
  uint16_t dead_port;
  {
    Fd d = bound(SOCK_DGRAM);
    dead_port = port_of(d.get());
  }
  server_->set_upstreams({fmt::format("127.0.0.1:{}", dead_port), "not an address"});
  auto t0 = Clock::now();
  auto r = udp_ask(port_, query("example.com", LDNS_RR_TYPE_A, 11), 3000);
  ASSERT_TRUE(r.has_value());
  EXPECT_LT(Clock::now() - t0, milliseconds(1500));
  EXPECT_EQ(ldns_pkt_get_rcode(parse(*r).get()), LDNS_RCODE_SERVFAIL);

  server_->set_upstreams({});
  r = udp_ask(port_, query("example.com", LDNS_RR_TYPE_A, 12), 1000);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(ldns_pkt_get_rcode(parse(*r).get()), LDNS_RCODE_SERVFAIL);
}

TEST_F(DnsTest, GarbageIsDroppedAndServerKeepsAnswering) {
  Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = loopback(port_);
  std::string response = query("web", LDNS_RR_TYPE_A, 1);
  response[2] = static_cast<char>(response[2] | 0x80);  // QR: a response, not a query
  std::string truncated = query("web", LDNS_RR_TYPE_A, 1).substr(0, 15);
  std::vector<std::string> junk = {
      "", "x", std::string(12, '\0'), std::string(3000, '\xff'), response, truncated};
  std::srand(42);
  for (int i = 0; i < 50; ++i) {
    std::string r(static_cast<size_t>(std::rand() % 200), '\0');
    for (char& c : r) c = static_cast<char>(std::rand());
    junk.push_back(r);
  }
  for (const auto& j : junk) {
    ::sendto(s.get(), j.data(), j.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  // None of it is answered.
  EXPECT_FALSE(readable(s.get(), 300));
  // A TCP client sending garbage is disconnected.
  Fd c = tcp_connect(port_);
  ASSERT_TRUE(c.valid());
  std::string bad = framed("not dns at all");
  ASSERT_GT(::send(c.get(), bad.data(), bad.size(), 0), 0);
  EXPECT_TRUE(closed_by_peer(c.get(), 2000));
  // A zero-length frame too.
  Fd z = tcp_connect(port_);
  ASSERT_GT(::send(z.get(), "\0\0", 2, 0), 0);
  EXPECT_TRUE(closed_by_peer(z.get(), 2000));
  // And it still answers.
  auto r = udp_ask(port_, query("web", LDNS_RR_TYPE_A, 99));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(ldns_pkt_ancount(parse(*r).get()), 2);
}

TEST_F(DnsTest, RemoveAndReplaceTag) {
  ASSERT_TRUE(udp_ask(port_, query("web", LDNS_RR_TYPE_A, 1)).has_value());
  Fd c = tcp_connect(port_);
  ASSERT_TRUE(c.valid());
  server_->remove("c1");
  EXPECT_FALSE(udp_ask(port_, query("web", LDNS_RR_TYPE_A, 2), 300).has_value());
  // Its TCP connections are closed too.
  EXPECT_TRUE(closed_by_peer(c.get(), 1000));
  server_->remove("c1");  // twice is fine

  // add() replaces what a tag had: the first pair is closed, the second served.
  SocketPair first = bound_pair(), second = bound_pair();
  uint16_t p1 = first.port, p2 = second.port;
  server_->add("c1", std::move(first.udp), std::move(first.tcp));
  ASSERT_TRUE(udp_ask(p1, query("web", LDNS_RR_TYPE_A, 3)).has_value());
  server_->add("c1", std::move(second.udp), Fd());  // no TCP this time
  EXPECT_FALSE(udp_ask(p1, query("web", LDNS_RR_TYPE_A, 4), 300).has_value());
  auto r = udp_ask(p2, query("web", LDNS_RR_TYPE_A, 5));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(ldns_pkt_id(parse(*r).get()), 5);
  // Another tag is looked up under its own name: "web" is unknown to c2,
  // so with no upstreams it is a SERVFAIL.
  SocketPair other = bound_pair();
  uint16_t p3 = other.port;
  server_->add("c2", std::move(other.udp), std::move(other.tcp));
  r = udp_ask(p3, query("web", LDNS_RR_TYPE_A, 6));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(ldns_pkt_get_rcode(parse(*r).get()), LDNS_RCODE_SERVFAIL);
  EXPECT_EQ(calls().back(), "c2/web");
}

TEST_F(DnsTest, TcpConnectionsAreBounded) {
  std::vector<Fd> conns;
  for (int i = 0; i < 64; ++i) {
    conns.push_back(tcp_connect(port_));
    ASSERT_TRUE(conns.back().valid());
  }
  // The 65th is accepted and closed at once.
  Fd extra = tcp_connect(port_);
  ASSERT_TRUE(extra.valid());
  EXPECT_TRUE(closed_by_peer(extra.get(), 2000));
  // The others still work.
  std::string q = framed(query("web", LDNS_RR_TYPE_A, 8));
  ASSERT_GT(::send(conns[10].get(), q.data(), q.size(), 0), 0);
  EXPECT_TRUE(tcp_read_msg(conns[10].get()).has_value());
  // Closing some frees their places.
  conns.resize(60);
  std::this_thread::sleep_for(milliseconds(200));
  Fd again = tcp_connect(port_);
  ASSERT_GT(::send(again.get(), q.data(), q.size(), 0), 0);
  EXPECT_TRUE(tcp_read_msg(again.get()).has_value());
}

TEST_F(DnsTest, IdleTcpConnectionIsClosed) {
  Fd c = tcp_connect(port_);
  ASSERT_TRUE(c.valid());
  auto t0 = Clock::now();
  EXPECT_TRUE(closed_by_peer(c.get(), 8000));
  EXPECT_GE(Clock::now() - t0, milliseconds(4500));
}

TEST(Dns, StartAndStopWithoutSockets) {
  auto s = DnsServer::start(nullptr, {"8.8.8.8", "[2001:db8::1]:53", "1.1.1.1:5353"});
  ASSERT_TRUE(s.has_value());
  s->reset();  // joins the thread promptly
}

TEST(Dns, ResolvConfNameservers) {
  std::string text =
      "# generated\n"
      "search example.com\n"
      "nameserver 10.0.0.2\n"
      "  nameserver\t192.168.1.1  # trailing comment\n"
      "; nameserver 9.9.9.9\n"
      "nameserver 2001:db8::53\n"
      "nameserver not-an-ip\n"
      "nameserver\n"
      "nameservers 1.1.1.1\n"
      "options ndots:2\n"
      "nameserver 127.0.0.53";  // no final newline
  EXPECT_EQ(resolv_conf_nameservers(text),
            (std::vector<std::string>{"10.0.0.2", "192.168.1.1", "2001:db8::53", "127.0.0.53"}));
  EXPECT_TRUE(resolv_conf_nameservers("").empty());
}

}  // namespace
}  // namespace berth::network
