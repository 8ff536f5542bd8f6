// netns.h and link.h against the kernel. The root tests make their own
// namespace (a temp file), a bridge "bt<pid>" and a veth "vbt<pid>" with
// 10.254.x.0/24 addresses, touch nothing else, and remove all of it even
// when an assertion fails.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/file.h"
#include "base/scope_exit.h"
#include "base/strings.h"
#include "network/link.h"
#include "network/netns.h"

namespace berth::network {
namespace {

namespace fs = std::filesystem;

#define BERTH_REQUIRE_ROOT()                                            \
  do {                                                                  \
    if (::geteuid() != 0) {                                             \
      const char* strict = std::getenv("BERTH_TEST_ROOT");              \
      if (strict && std::string(strict) == "1") FAIL() << "needs root"; \
      GTEST_SKIP() << "needs root";                                     \
    }                                                                   \
  } while (0)

std::string make_temp_dir() {
  std::string t = (fs::temp_directory_path() / "berth-netns-XXXXXX").string();
  char* d = ::mkdtemp(t.data());
  return d ? std::string(d) : "";
}

ino_t ns_inode(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

// Interface flags of `name` as seen from the calling thread's netns.
int if_flags(const std::string& name) {
  Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
  if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) return -1;
  return ifr.ifr_flags;
}

std::string if_mac(const std::string& name) {
  Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
  if (::ioctl(s.get(), SIOCGIFHWADDR, &ifr) != 0) return "";
  const auto* m = reinterpret_cast<const unsigned char*>(ifr.ifr_hwaddr.sa_data);
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4],
                     m[5]);
}

sockaddr_in sin(const std::string& ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

bool wait_fd(int fd, short events, int ms) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, ms) == 1;
}

TEST(Link, SetSysctlRejectsBadKeys) {
  for (const char* k : {"", ".net", "net.", "net/ipv4", "net..x", "a/../b"}) {
    auto r = set_sysctl(k, "1");
    ASSERT_FALSE(r.has_value()) << k;
    EXPECT_EQ(r.error().code, Errc::InvalidArgument) << k;
  }
}

TEST(Link, InvalidNamesAreRejected) {
  EXPECT_EQ(ensure_bridge({"", "", "", 1500}).error().code, Errc::InvalidArgument);
  EXPECT_EQ(ensure_bridge({"a-name-that-is-too-long", "", "", 1500}).error().code,
            Errc::InvalidArgument);
  EXPECT_EQ(delete_link("a/b").error().code, Errc::InvalidArgument);
  EXPECT_FALSE(link_exists("no such link x"));
  EXPECT_TRUE(link_exists("lo"));
}

TEST(Link, HostRoutesV4) {
  auto r = host_routes_v4();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  for (const auto& c : *r) {
    EXPECT_NE(c, "0.0.0.0/0");
    EXPECT_FALSE(starts_with(c, "127.")) << c;
    EXPECT_NE(c.find('/'), std::string::npos) << c;
  }
  // Every non-loopback IPv4 address of the host is there as a /32.
  ifaddrs* ifa = nullptr;
  ASSERT_EQ(::getifaddrs(&ifa), 0);
  ScopeExit free_ifa([&] { ::freeifaddrs(ifa); });
  for (ifaddrs* i = ifa; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
    std::string ip = buf;
    if (starts_with(ip, "127.")) continue;
    EXPECT_NE(std::find(r->begin(), r->end(), ip + "/32"), r->end()) << ip;
  }
}

TEST(NetnsRoot, CreateEnterBindRemove) {
  BERTH_REQUIRE_ROOT();
  std::string dir = make_temp_dir();
  ASSERT_FALSE(dir.empty());
  std::string path = dir + "/ns";
  ScopeExit cleanup([&] {
    (void)remove_netns(path);
    ::rmdir(dir.c_str());
  });

  auto c = create_netns(path);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_TRUE(netns_exists(path));
  EXPECT_FALSE(netns_exists(dir));
  EXPECT_FALSE(netns_exists("/proc/self/ns/pid"));  // nsfs, but not a network namespace
  auto again = create_netns(path);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, Errc::AlreadyExists);

  // Inside: another namespace, with lo up; the caller's thread is unchanged.
  ino_t outside = ns_inode("/proc/thread-self/ns/net");
  ino_t inside = 0;
  int lo_flags = -1;
  auto r = in_netns(path, [&]() -> Result<void> {
    inside = ns_inode("/proc/thread-self/ns/net");
    lo_flags = if_flags("lo");
    return ok();
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_NE(inside, 0u);
  EXPECT_NE(inside, outside);
  EXPECT_EQ(inside, ns_inode(path));
  EXPECT_EQ(ns_inode("/proc/thread-self/ns/net"), outside);
  ASSERT_GE(lo_flags, 0);
  EXPECT_TRUE(lo_flags & IFF_UP);

  // fn's error comes back as is.
  auto failed = in_netns(path, [] { return Result<void>(make_error(Errc::Conflict, "boom")); });
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().message, "boom");

  // The DNS sockets of a container: 127.0.0.11:53, inside the namespace.
  auto udp = bound_socket_in_netns(path, SOCK_DGRAM, "127.0.0.11", 53);
  ASSERT_TRUE(udp.has_value()) << udp.error().message;
  auto tcp = bound_socket_in_netns(path, SOCK_STREAM, "127.0.0.11", 53);
  ASSERT_TRUE(tcp.has_value()) << tcp.error().message;
  EXPECT_TRUE(::fcntl(tcp->get(), F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(::fcntl(tcp->get(), F_GETFD) & FD_CLOEXEC);
  sockaddr_in got{};
  socklen_t len = sizeof got;
  ASSERT_EQ(::getsockname(udp->get(), reinterpret_cast<sockaddr*>(&got), &len), 0);
  EXPECT_EQ(ntohs(got.sin_port), 53);
  // A client inside the namespace reaches the listener; the server end is
  // accepted here, in the test's own namespace.
  Fd client;
  r = in_netns(path, [&]() -> Result<void> {
    client.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a = sin("127.0.0.11", 53);
    if (::connect(client.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      return sys_error("connect");
    }
    return ok();
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_TRUE(wait_fd(tcp->get(), POLLIN, 2000));
  Fd accepted(::accept4(tcp->get(), nullptr, nullptr, SOCK_CLOEXEC));
  EXPECT_TRUE(accepted.valid());

  // Bad arguments.
  EXPECT_EQ(bound_socket_in_netns(path, SOCK_RAW, "127.0.0.11", 53).error().code,
            Errc::InvalidArgument);
  EXPECT_EQ(bound_socket_in_netns(path, SOCK_DGRAM, "not-an-ip", 53).error().code,
            Errc::InvalidArgument);
  EXPECT_FALSE(in_netns(dir + "/missing", [] { return ok(); }).has_value());

  ASSERT_TRUE(remove_netns(path).has_value());
  EXPECT_FALSE(netns_exists(path));
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(remove_netns(path).has_value());  // Ok when gone
}

TEST(NetnsRoot, CreateFailureLeavesNothing) {
  BERTH_REQUIRE_ROOT();
  std::string dir = make_temp_dir();
  ASSERT_FALSE(dir.empty());
  ScopeExit cleanup([&] { ::rmdir(dir.c_str()); });
  auto r = create_netns(dir + "/no/such/dir/ns");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::NotFound);
  EXPECT_TRUE(fs::is_empty(dir));
}

class LinkRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTH_REQUIRE_ROOT();
    dir_ = make_temp_dir();
    ASSERT_FALSE(dir_.empty());
    ns_ = dir_ + "/ns";
    pid_t pid = ::getpid();
    bridge_ = fmt::format("bt{}", pid);
    veth_ = fmt::format("vbt{}", pid);
    net_ = fmt::format("10.254.{}", pid % 250 + 1);
    ASSERT_TRUE(create_netns(ns_).has_value());
  }
  void TearDown() override {
    if (dir_.empty()) return;
    (void)delete_link(veth_);
    (void)delete_link(bridge_);
    (void)remove_netns(ns_);
    ::rmdir(dir_.c_str());
  }
  VethConfig veth_config() {
    VethConfig v;
    v.host_name = veth_;
    v.bridge = bridge_;
    v.netns_path = ns_;
    v.mac = "02:42:0a:fe:00:02";
    v.ipv4_cidr = net_ + ".2/24";
    v.gateway4 = net_ + ".1";
    v.mtu = 1400;
    return v;
  }
  std::string dir_, ns_, bridge_, veth_, net_;
};

TEST_F(LinkRoot, BridgeVethAndTraffic) {
  BridgeConfig b{bridge_, net_ + ".1/24", "", 1400};
  auto r = ensure_bridge(b);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_TRUE(link_exists(bridge_));
  EXPECT_TRUE(if_flags(bridge_) & IFF_UP);
  auto rl = read_file("/proc/sys/net/ipv4/conf/" + bridge_ + "/route_localnet");
  ASSERT_TRUE(rl.has_value());
  EXPECT_EQ(trim(*rl), "1");
  // Idempotent.
  r = ensure_bridge(b);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  // The gateway is a local address now: the host routes list it.
  auto routes = host_routes_v4();
  ASSERT_TRUE(routes.has_value());
  EXPECT_NE(std::find(routes->begin(), routes->end(), net_ + ".0/24"), routes->end());
  EXPECT_NE(std::find(routes->begin(), routes->end(), net_ + ".1/32"), routes->end());

  // set_sysctl writes, and reads back.
  ASSERT_TRUE(set_sysctl("net.ipv4.conf." + bridge_ + ".route_localnet", "0").has_value());
  EXPECT_EQ(trim(read_file("/proc/sys/net/ipv4/conf/" + bridge_ + "/route_localnet").value_or("")),
            "0");
  ASSERT_TRUE(ensure_bridge(b).has_value());  // puts it back
  EXPECT_EQ(trim(read_file("/proc/sys/net/ipv4/conf/" + bridge_ + "/route_localnet").value_or("")),
            "1");

  // A non-bridge under the name is a conflict, not silently reused.
  ASSERT_TRUE(attach_veth(veth_config()).has_value());
  EXPECT_EQ(ensure_bridge({veth_, "", "", 1500}).error().code, Errc::Conflict);

  // Host end: up, enslaved to the bridge.
  ASSERT_TRUE(link_exists(veth_));
  EXPECT_TRUE(if_flags(veth_) & IFF_UP);
  std::error_code ec;
  EXPECT_EQ(fs::read_symlink("/sys/class/net/" + veth_ + "/master", ec).filename().string(),
            bridge_);
  // Container end: named eth0, MAC/MTU/address/default route as asked.
  int flags = -1;
  std::string mac, route;
  int mtu = -1;
  Fd listener;
  r = in_netns(ns_, [&]() -> Result<void> {
    flags = if_flags("eth0");
    mac = if_mac("eth0");
    Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq ifr{};
    std::snprintf(ifr.ifr_name, IFNAMSIZ, "eth0");
    if (::ioctl(s.get(), SIOCGIFMTU, &ifr) == 0) mtu = ifr.ifr_mtu;
    route = read_file("/proc/thread-self/net/route").value_or("");
    return ok();
  });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_GE(flags, 0) << "no eth0 in the namespace";
  EXPECT_TRUE(flags & IFF_UP);
  EXPECT_EQ(mac, "02:42:0a:fe:00:02");
  EXPECT_EQ(mtu, 1400);
  // /proc/net/route: "eth0 00000000 <gateway, little-endian hex> 0003 ..."
  in_addr gw{};
  ::inet_pton(AF_INET, (net_ + ".1").c_str(), &gw);
  EXPECT_NE(route.find(fmt::format("eth0\t00000000\t{:08X}", gw.s_addr)), std::string::npos)
      << route;

  // Traffic: the host connects to a listener bound inside on the veth
  // address, through the bridge.
  auto l = bound_socket_in_netns(ns_, SOCK_STREAM, net_ + ".2", 18080);
  ASSERT_TRUE(l.has_value()) << l.error().message;
  Fd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  sockaddr_in a = sin(net_ + ".2", 18080);
  int rc = ::connect(c.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
  ASSERT_TRUE(rc == 0 || errno == EINPROGRESS) << strerror(errno);
  ASSERT_TRUE(wait_fd(l->get(), POLLIN, 5000)) << "no connection reached the namespace";
  Fd accepted(::accept4(l->get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(accepted.valid());
  sockaddr_in peer{};
  socklen_t plen = sizeof peer;
  ASSERT_EQ(::getpeername(accepted.get(), reinterpret_cast<sockaddr*>(&peer), &plen), 0);
  char buf[INET_ADDRSTRLEN];
  EXPECT_EQ(std::string(::inet_ntop(AF_INET, &peer.sin_addr, buf, sizeof buf)), net_ + ".1");

  // Detach: the pair goes, host end included; twice is fine.
  ASSERT_TRUE(detach_veth(ns_, "eth0").has_value());
  EXPECT_FALSE(link_exists(veth_));
  EXPECT_TRUE(detach_veth(ns_, "eth0").has_value());
  EXPECT_TRUE(detach_veth(dir_ + "/gone", "eth0").has_value());

  ASSERT_TRUE(delete_link(bridge_).has_value());
  EXPECT_FALSE(link_exists(bridge_));
  EXPECT_TRUE(delete_link(bridge_).has_value());
}

std::string assign_type(const std::string& link) {
  return std::string(trim(read_file("/sys/class/net/" + link + "/addr_assign_type").value_or("?")));
}

// A bridge whose MAC the kernel picked follows its lowest port MAC; when
// that port goes, containers' gateway ARP entries point at nothing.
TEST_F(LinkRoot, BridgeMacIsPinnedAndDoesNotFollowItsPorts) {
  ASSERT_TRUE(ensure_bridge({bridge_, net_ + ".1/24", "", 1500}).has_value());
  EXPECT_EQ(assign_type(bridge_), "3");  // NET_ADDR_SET
  std::string mac = if_mac(bridge_);
  EXPECT_EQ(std::stoi(mac.substr(0, 2), nullptr, 16) & 0x03, 0x02) << mac;  // local, unicast
  // A port with a lower MAC than any the bridge could have joins, then goes.
  ASSERT_TRUE(attach_veth(veth_config()).has_value());
  ASSERT_EQ(std::system(("ip link set dev " + veth_ + " address 00:00:00:00:00:01").c_str()), 0);
  EXPECT_EQ(if_mac(bridge_), mac);
  ASSERT_TRUE(detach_veth(ns_, "eth0").has_value());
  EXPECT_EQ(if_mac(bridge_), mac);
  ASSERT_TRUE(delete_link(bridge_).has_value());

  // A bridge made without a MAC (older berthd, by hand) is pinned as it is.
  ASSERT_EQ(std::system(("ip link add " + bridge_ + " type bridge").c_str()), 0);
  ASSERT_EQ(assign_type(bridge_), "1");  // NET_ADDR_RANDOM: follows its ports
  mac = if_mac(bridge_);
  ASSERT_TRUE(ensure_bridge({bridge_, net_ + ".1/24", "", 1500}).has_value());
  EXPECT_EQ(assign_type(bridge_), "3");
  EXPECT_EQ(if_mac(bridge_), mac);
  ASSERT_TRUE(attach_veth(veth_config()).has_value());
  ASSERT_EQ(std::system(("ip link set dev " + veth_ + " address 00:00:00:00:00:01").c_str()), 0);
  EXPECT_EQ(if_mac(bridge_), mac);
}

TEST_F(LinkRoot, AttachFailureDeletesThePair) {
  ASSERT_TRUE(ensure_bridge({bridge_, net_ + ".1/24", "", 1500}).has_value());
  VethConfig v = veth_config();
  v.gateway4 = "10.253.99.1";  // not on the interface's subnet: the route is refused
  auto r = attach_veth(v);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find(veth_), std::string::npos) << r.error().message;
  EXPECT_FALSE(link_exists(veth_));
  int flags = 0;
  ASSERT_TRUE(in_netns(ns_, [&]() -> Result<void> {
                flags = if_flags("eth0");
                return ok();
              }).has_value());
  EXPECT_EQ(flags, -1) << "eth0 left in the namespace";
  // Missing bridge: nothing made.
  v = veth_config();
  v.bridge = bridge_ + "x";
  EXPECT_EQ(attach_veth(v).error().code, Errc::NotFound);
  EXPECT_FALSE(link_exists(veth_));
  // A second attach of the same name fails without touching the first.
  ASSERT_TRUE(attach_veth(veth_config()).has_value());
  EXPECT_FALSE(attach_veth(veth_config()).has_value());
  EXPECT_TRUE(link_exists(veth_));
}

// The netns pool's path: a spare made with peer_down, moved to the
// container's path, then configured (MAC, address, route) there.
TEST_F(LinkRoot, SpareMovedThenConfigured) {
  ASSERT_TRUE(ensure_bridge({bridge_, net_ + ".1/24", "", 1500}).has_value());
  VethConfig v = veth_config();
  v.peer_down = true;
  v.mac.clear();
  auto r = attach_veth(v);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(if_flags(veth_) & IFF_UP);
  int flags = -1;
  ASSERT_TRUE(in_netns(ns_, [&]() -> Result<void> {
                flags = if_flags("eth0");
                return ok();
              }).has_value());
  ASSERT_GE(flags, 0);
  EXPECT_FALSE(flags & IFF_UP) << "a spare's peer stays down";

  std::string moved = dir_ + "/moved";
  ino_t before = ns_inode(ns_);
  auto m = bind_netns(ns_, moved);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  ASSERT_TRUE(remove_netns(ns_).has_value());
  EXPECT_FALSE(netns_exists(ns_));
  EXPECT_FALSE(fs::exists(ns_));
  ASSERT_TRUE(netns_exists(moved));
  EXPECT_EQ(ns_inode(moved), before);
  EXPECT_EQ(bind_netns(ns_, moved).error().code, Errc::NotFound);
  ns_ = moved;  // TearDown removes it

  v = veth_config();
  v.netns_path = moved;
  r = configure_veth_peer(v);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  std::string mac, route;
  ASSERT_TRUE(in_netns(moved, [&]() -> Result<void> {
                flags = if_flags("eth0");
                mac = if_mac("eth0");
                route = read_file("/proc/thread-self/net/route").value_or("");
                return ok();
              }).has_value());
  EXPECT_TRUE(flags & IFF_UP);
  EXPECT_EQ(mac, "02:42:0a:fe:00:02");
  EXPECT_NE(route.find("eth0\t00000000"), std::string::npos) << route;
  // A wrong name is an error that names it.
  v.container_name = "eth9";
  r = configure_veth_peer(v);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("eth9"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace berth::network
