// NetworkManager without kernel objects (kernel = false): the built-in
// networks, create/list/inspect/remove/prune with docker's messages, address
// rows (distinct, round robin, static), port reservation and the "port in
// use" failure leaving nothing, validation, and restore keeping only live
// containers. The kernel side is covered by network's root tests and e2e.
#include "engine/network_manager.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <filesystem>
#include <set>

#include "base/fd.h"

namespace berth::engine {
namespace {

class NetManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/berth-netmgr-test-XXXXXX";
    ASSERT_NE(::mkdtemp(t), nullptr);
    dir_ = t;
    open_manager();
  }
  void TearDown() override {
    mgr_.reset();
    std::filesystem::remove_all(dir_);
  }
  void open_manager() {
    mgr_.reset();
    auto store = metadata::MetadataStore::open(dir_ + "/metadata.db");
    ASSERT_TRUE(store.has_value()) << store.error().message;
    NetworkManagerOptions o;
    o.exec_root = dir_ + "/exec";
    o.kernel = false;
    o.default_bind_ip = bind_ip_;
    auto m = NetworkManager::open(o, std::move(*store), bus_);
    ASSERT_TRUE(m.has_value()) << m.error().message;
    mgr_ = std::move(*m);
  }
  ContainerNetRequest req(const std::string& id, const std::string& net = "bridge",
                          Json settings = Json::object()) {
    ContainerNetRequest r;
    r.id = id + std::string(64 - id.size(), '0');
    r.name = id;
    r.networks.emplace_back(net, settings);
    return r;
  }

  std::string dir_;
  std::string bind_ip_ = "127.0.0.1";  // the daemon's --ip
  EventBus bus_{64};
  std::unique_ptr<NetworkManager> mgr_;
};

TEST_F(NetManagerTest, BuiltinNetworksExistAndCannotBeRemoved) {
  auto all = mgr_->list({}).value();
  std::set<std::string> names;
  for (const auto& n : all) names.insert(n.name);
  EXPECT_EQ(names, (std::set<std::string>{"bridge", "host", "none"}));
  auto br = mgr_->inspect("bridge").value();
  EXPECT_EQ(br.driver, "bridge");
  ASSERT_EQ(br.ipam.size(), 1u);
  EXPECT_FALSE(br.ipam[0].subnet.empty());
  auto rm = mgr_->remove("bridge");
  ASSERT_FALSE(rm.has_value());
  EXPECT_EQ(rm.error().code, Errc::PermissionDenied);
  EXPECT_EQ(rm.error().message, "bridge is a pre-defined network and cannot be removed");
  // Stable across reopen (same ids, no duplicates).
  std::string id = br.id;
  open_manager();
  EXPECT_EQ(mgr_->inspect("bridge").value().id, id);
  EXPECT_EQ(mgr_->list({}).value().size(), 3u);
}

TEST_F(NetManagerTest, CreateValidatesLikeDocker) {
  NetworkCreateRequest r;
  r.name = "a/b";
  EXPECT_EQ(mgr_->create(r).error().code, Errc::InvalidArgument);
  r.name = "app";
  r.ipam = {IpamConfig{"10.50.0.0/16", "", "", {}}};
  auto id = mgr_->create(r);
  ASSERT_TRUE(id.has_value()) << id.error().message;
  auto dup = mgr_->create(r);
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, Errc::Conflict);
  EXPECT_EQ(dup.error().message, "network with name app already exists");
  for (const char* builtin : {"bridge", "host", "none", "default"}) {
    NetworkCreateRequest b;
    b.name = builtin;
    auto refused = mgr_->create(b);
    ASSERT_FALSE(refused.has_value()) << builtin;
    EXPECT_EQ(refused.error().code, Errc::PermissionDenied);
    EXPECT_EQ(refused.error().message,
              fmt::format("operation is not permitted on predefined {} network", builtin));
  }
  NetworkCreateRequest o;
  o.name = "other";
  o.ipam = {IpamConfig{"10.50.3.0/24", "", "", {}}};
  auto ov = mgr_->create(o);
  ASSERT_FALSE(ov.has_value());
  EXPECT_NE(ov.error().message.find("Pool overlaps with other one"), std::string::npos);
  o.ipam = {IpamConfig{"10.60.0.0/24", "10.61.0.1", "", {}}};
  EXPECT_EQ(mgr_->create(o).error().code, Errc::InvalidArgument);
  o.ipam.clear();
  o.driver = "overlay";
  EXPECT_EQ(mgr_->create(o).error().code, Errc::NotFound);
  // Nothing of the failures is there.
  EXPECT_EQ(mgr_->list({}).value().size(), 4u);
  auto app = mgr_->inspect(id->substr(0, 8)).value();
  EXPECT_EQ(app.name, "app");
  EXPECT_EQ(app.ipam[0].gateway, "10.50.0.1");
}

// docker's --ip-range and --aux-address: dynamic addresses come from the
// range (its own first and last skipped), aux addresses are never given, a
// static address may be anywhere in the subnet but not on an aux one; all of
// it survives a restart of the manager.
TEST_F(NetManagerTest, IpRangeAndAuxAddresses) {
  NetworkCreateRequest r;
  r.name = "ranged";
  r.ipam = {
      IpamConfig{"10.77.0.0/24", "", "10.77.0.128/25", {{"r", "10.77.0.129"}, {"s", "10.77.0.5"}}}};
  r.ipam_options = {{"foo", "bar"}};
  ASSERT_TRUE(mgr_->create(r).has_value());
  open_manager();
  auto info = mgr_->inspect("ranged").value();
  EXPECT_EQ(info.ipam.at(0).ip_range, "10.77.0.128/25");
  EXPECT_EQ(info.ipam.at(0).aux_addresses.at("s"), "10.77.0.5");
  EXPECT_EQ(info.ipam_options.at("foo"), "bar");
  EXPECT_EQ(mgr_->attach(req("a1", "ranged")).value().endpoints.at(0).ip4, "10.77.0.130");
  EXPECT_EQ(mgr_->attach(req("a2", "ranged")).value().endpoints.at(0).ip4, "10.77.0.131");
  Json low = {{"IPAMConfig", {{"IPv4Address", "10.77.0.9"}}}};
  ASSERT_TRUE(mgr_->validate(req("a3", "ranged", low), "ranged").has_value());
  EXPECT_EQ(mgr_->attach(req("a3", "ranged", low)).value().endpoints.at(0).ip4, "10.77.0.9");
  Json aux = {{"IPAMConfig", {{"IPv4Address", "10.77.0.5"}}}};
  auto v = mgr_->validate(req("a4", "ranged", aux), "ranged");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, Errc::Conflict);
  EXPECT_EQ(v.error().message, "Address already in use: 10.77.0.5 on network ranged");
  // A /30 range holds two addresses for containers.
  NetworkCreateRequest small;
  small.name = "small";
  small.ipam = {IpamConfig{"10.80.0.0/24", "", "10.80.0.4/30", {}}};
  ASSERT_TRUE(mgr_->create(small).has_value());
  EXPECT_EQ(mgr_->attach(req("b1", "small")).value().endpoints.at(0).ip4, "10.80.0.5");
  EXPECT_EQ(mgr_->attach(req("b2", "small")).value().endpoints.at(0).ip4, "10.80.0.6");
  auto full = mgr_->attach(req("b3", "small"));
  ASSERT_FALSE(full.has_value());
  EXPECT_NE(full.error().message.find("no available IPv4 addresses"), std::string::npos)
      << full.error().message;
}

TEST_F(NetManagerTest, IpRangeAndAuxAddressesAreChecked) {
  auto create = [&](IpamConfig c) {
    NetworkCreateRequest r;
    r.name = "bad";
    r.ipam = {std::move(c)};
    return mgr_->create(r);
  };
  EXPECT_EQ(create({"10.78.0.0/24", "", "10.79.0.0/25", {}}).error().message,
            "no matching subnet for range 10.79.0.0/25");
  EXPECT_EQ(create({"10.78.0.0/24", "", "bogus", {}}).error().message,
            "invalid CIDR address: bogus");
  EXPECT_EQ(create({"10.78.0.0/24", "", "10.78.0.0/16", {}}).error().message,
            "no matching subnet for range 10.78.0.0/16");
  EXPECT_EQ(create({"10.78.0.0/24", "", "", {{"a", "10.9.9.5"}}}).error().message,
            "no matching subnet for aux-address 10.9.9.5");
  EXPECT_EQ(create({"10.78.0.0/24", "", "", {{"a", "bogus"}}}).error().message,
            "no matching subnet for aux-address bogus");
  auto gw = create({"10.78.0.0/24", "", "", {{"a", "10.78.0.1"}}});
  EXPECT_EQ(gw.error().code, Errc::Conflict);
  EXPECT_EQ(gw.error().message,
            "failed to allocate secondary ip address (a:10.78.0.1): Address already in use");
  EXPECT_EQ(create({"", "", "10.78.0.0/25", {}}).error().message, "an --ip-range needs a --subnet");
  // Nothing was made.
  EXPECT_FALSE(mgr_->inspect("bad").has_value());
  // The range may be the whole subnet.
  EXPECT_TRUE(create({"10.78.0.0/24", "", "10.78.0.0/24", {}}).has_value());
}

TEST_F(NetManagerTest, RenameChangesTheNameItsEndpointsShowAndKeepAfterARestart) {
  NetworkCreateRequest nr;
  nr.name = "app";
  nr.ipam = {IpamConfig{"10.71.0.0/24", "", "", {}}};
  ASSERT_TRUE(mgr_->create(nr).has_value());
  auto r = req("rn", "app");
  ASSERT_TRUE(mgr_->attach(r).has_value());
  mgr_->rename(r.id, "renamed");
  mgr_->rename(req("notattached").id, "x");  // nothing to do, no error
  auto eps = mgr_->endpoints_of(r.id);
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0].container_name, "renamed");
  EXPECT_EQ(mgr_->inspect("app").value().endpoints.at(r.id).container_name, "renamed");
  open_manager();  // berthd restarted: the container service passes the current name
  r.name = "renamed";
  ASSERT_TRUE(mgr_->restore({{r.id, r}}).has_value());
  EXPECT_EQ(mgr_->endpoints_of(r.id).at(0).container_name, "renamed");
}

TEST_F(NetManagerTest, AddressesAreDistinctAndStaticOnesChecked) {
  NetworkCreateRequest r;
  r.name = "app";
  r.ipam = {IpamConfig{"10.70.0.0/24", "", "", {}}};
  ASSERT_TRUE(mgr_->create(r).has_value());
  std::set<std::string> ips;
  for (int i = 0; i < 5; ++i) {
    auto a = mgr_->attach(req("c" + std::to_string(i), "app"));
    ASSERT_TRUE(a.has_value()) << a.error().message;
    ASSERT_EQ(a->endpoints.size(), 1u);
    EXPECT_TRUE(a->embedded_dns);
    ips.insert(a->endpoints[0].ip4);
    EXPECT_EQ(a->endpoints[0].gateway4, "10.70.0.1");
  }
  EXPECT_EQ(ips.size(), 5u);
  EXPECT_FALSE(ips.count("10.70.0.1"));
  // A released address is not handed out again at once (round robin).
  mgr_->release(req("c0").id);
  auto again = mgr_->attach(req("c9", "app")).value();
  EXPECT_EQ(again.endpoints[0].ip4, "10.70.0.7");
  // Static address: taken -> Conflict; outside the subnet -> validate refuses it.
  Json taken = {{"IPAMConfig", {{"IPv4Address", "10.70.0.3"}}}};
  auto t = mgr_->attach(req("s1", "app", taken));
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().code, Errc::Conflict);
  EXPECT_TRUE(mgr_->endpoints_of(req("s1").id).empty());
  Json outside = {{"IPAMConfig", {{"IPv4Address", "10.99.0.3"}}}};
  auto v = mgr_->validate(req("s2", "app", outside), "app");
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().message, "no configured subnet or ip-range contain the IP address 10.99.0.3");
  auto on_bridge = mgr_->validate(req("s3", "bridge", taken), "bridge");
  ASSERT_FALSE(on_bridge.has_value());
  EXPECT_EQ(on_bridge.error().message,
            "user specified IP address is supported on user defined networks only");
  EXPECT_EQ(mgr_->validate(req("s4", "nosuch"), "nosuch").error().message,
            "network nosuch not found");
  // No IPv6 subnets and no link-local extras: refused by name, not dropped.
  Json ip6 = {{"IPAMConfig", {{"IPv4Address", ""}, {"IPv6Address", "fd00::5"}}}};
  EXPECT_EQ(mgr_->validate(req("s6", "app", ip6), "app").error().message,
            "user specified IPv6 address fd00::5 cannot be given on network app: berth's "
            "networks are IPv4 only");
  Json ll = {{"IPAMConfig", {{"LinkLocalIPs", {"169.254.1.1"}}}}};
  EXPECT_EQ(mgr_->validate(req("s7", "app", ll), "app").error().message,
            "link-local IPs (--link-local-ip) are not supported by berth");
  Json empty6 = {{"IPAMConfig", {{"IPv6Address", ""}, {"LinkLocalIPs", Json::array()}}}};
  EXPECT_TRUE(mgr_->validate(req("s8", "app", empty6), "app").has_value());
  // IPv6 host addresses are served by the monitor's TCP and UDP relay: SCTP
  // is refused there, not published to an address that never answers.
  auto v6 = req("s5");
  v6.ports["53/sctp"] = {PortBinding{"::1", "8053"}};
  auto r6 = mgr_->validate(v6, "bridge");
  ASSERT_FALSE(r6.has_value());
  EXPECT_EQ(r6.error().code, Errc::InvalidArgument);
  EXPECT_NE(r6.error().message.find("port 53/sctp on the IPv6 address ::1"), std::string::npos)
      << r6.error().message;
  v6.ports.clear();
  v6.ports["80/tcp"] = {PortBinding{"::1", "8080"}};
  v6.ports["53/udp"] = {PortBinding{"::1", "8053"}};
  EXPECT_TRUE(mgr_->validate(v6, "bridge").has_value());
  v6.ports["80/tcp"] = {PortBinding{"::", "8080"}};
  EXPECT_TRUE(mgr_->validate(v6, "bridge").has_value());
  // In use: cannot be removed.
  auto rm = mgr_->remove("app");
  ASSERT_FALSE(rm.has_value());
  EXPECT_EQ(rm.error().code, Errc::Conflict);
}

TEST_F(NetManagerTest, PortsAreReservedAndAConflictLeavesNothing) {
  auto r = req("p1");
  r.ports["80/tcp"] = {PortBinding{"127.0.0.1", ""}};
  auto a = mgr_->attach(r);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  ASSERT_EQ(a->ports["80/tcp"].size(), 1u);
  std::string port = a->ports["80/tcp"][0].host_port;
  EXPECT_GT(std::stoi(port), 0);
  EXPECT_EQ(mgr_->ports_of(r.id), a->ports);
  // The same host port for another container: refused, and that container has nothing.
  auto r2 = req("p2");
  r2.ports["81/tcp"] = {PortBinding{"127.0.0.1", port}};
  auto b = mgr_->attach(r2);
  ASSERT_FALSE(b.has_value());
  EXPECT_NE(b.error().message.find("127.0.0.1:" + port + "/tcp"), std::string::npos)
      << b.error().message;
  EXPECT_TRUE(mgr_->endpoints_of(r2.id).empty());
  EXPECT_TRUE(mgr_->ports_of(r2.id).empty());
  // Released: the port is free for the host again.
  mgr_->release(r.id);
  Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::stoi(port)));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
}

// Whether something listens on [::1]:port (the proxy's socket).
bool v6_listens(const std::string& port) {
  Fd s(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(static_cast<uint16_t>(std::stoi(port)));
  sa.sin6_addr = in6addr_loopback;
  return ::connect(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
}

TEST_F(NetManagerTest, TheDefaultBindingIsEveryIpv4AndEveryIpv6Address) {
  Fd probe(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe) GTEST_SKIP() << "no IPv6 on this host";
  bind_ip_ = "0.0.0.0";  // docker's default, which this is about
  open_manager();
  auto r = req("d1");
  r.ports["80/tcp"] = {PortBinding{"", ""}};
  r.ports["53/udp"] = {PortBinding{"", ""}};
  r.ports["443/tcp"] = {PortBinding{"::1", ""}};
  auto a = mgr_->attach(r);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  // docker's order: IPv4 first, both on one port number.
  auto& web = a->ports["80/tcp"];
  ASSERT_EQ(web.size(), 2u);
  EXPECT_EQ(web[0].host_ip, "0.0.0.0");
  EXPECT_EQ(web[1].host_ip, "::");
  EXPECT_EQ(web[0].host_port, web[1].host_port);
  // UDP too (the relay carries it). An explicit IPv6 address is IPv6 only.
  ASSERT_EQ(a->ports["53/udp"].size(), 2u);
  EXPECT_EQ(a->ports["53/udp"][1].host_ip, "::");
  ASSERT_EQ(a->ports["443/tcp"].size(), 1u);
  EXPECT_EQ(a->ports["443/tcp"][0].host_ip, "::1");
  // The IPv6 ones come with their sockets and the container's address.
  ASSERT_EQ(a->proxies.size(), 3u);
  for (const auto& p : a->proxies) {
    EXPECT_TRUE(p.listener);
    EXPECT_EQ(p.target_ip, a->endpoints[0].ip4);
  }
  // SCTP has no relay: IPv4 only.
  auto rs = req("d3");
  rs.ports["9/sctp"] = {PortBinding{"", ""}};
  if (auto s = mgr_->attach(rs)) {  // (hosts without SCTP refuse the socket)
    ASSERT_EQ(s->ports["9/sctp"].size(), 1u);
    EXPECT_EQ(s->ports["9/sctp"][0].host_ip, "0.0.0.0");
    EXPECT_TRUE(s->proxies.empty());
    mgr_->release(rs.id);
  }
  EXPECT_TRUE(v6_listens(web[1].host_port));
  EXPECT_EQ(mgr_->ports_of(r.id), a->ports);
  // The same IPv6 port for another container: refused, naming it.
  auto r2 = req("d2");
  r2.ports["81/tcp"] = {PortBinding{"::1", a->ports["443/tcp"][0].host_port}};
  auto b = mgr_->attach(r2);
  ASSERT_FALSE(b.has_value());
  EXPECT_NE(b.error().message.find("[::1]:" + a->ports["443/tcp"][0].host_port + "/tcp"),
            std::string::npos)
      << b.error().message;
  // The IPv6 listeners are the attachment's alone (the monitor's, in
  // berthd): dropping them frees those ports, release the IPv4 ones.
  std::string port6 = web[1].host_port;
  a->proxies.clear();
  mgr_->release(r.id);
  EXPECT_FALSE(v6_listens(port6));
}

TEST_F(NetManagerTest, EndpointLinksResolveForTheLinkingContainerOnThatNetwork) {
  for (const auto& [name, subnet] :
       {std::pair{"app", "10.72.0.0/24"}, std::pair{"other", "10.73.0.0/24"}}) {
    NetworkCreateRequest nr;
    nr.name = name;
    nr.ipam = {IpamConfig{subnet, "", "", {}}};
    ASSERT_TRUE(mgr_->create(nr).has_value());
  }
  auto db = req("db", "app");
  db.networks.emplace_back("other", Json::object());
  auto web = req("web", "app", {{"Links", {"db:database"}}});
  web.networks.emplace_back("other", Json::object());
  auto peer = req("peer", "app");
  for (auto* r : {&db, &web, &peer}) ASSERT_TRUE(mgr_->attach(*r).has_value());
  std::string db_app;
  for (const auto& e : mgr_->endpoints_of(db.id))
    if (e.ip4.starts_with("10.72.")) db_app = e.ip4;
  ASSERT_FALSE(db_app.empty());
  // The link belongs to web's endpoint on app: db's address there only.
  EXPECT_EQ(mgr_->dns_lookup(web.id, "database"), std::vector<std::string>{db_app});
  EXPECT_EQ(mgr_->dns_lookup(peer.id, "database"), std::nullopt);
  // Kept in the endpoint's row: the same after berthd restarts.
  open_manager();
  ASSERT_TRUE(mgr_->restore({{db.id, db}, {web.id, web}, {peer.id, peer}}).has_value());
  EXPECT_EQ(mgr_->dns_lookup(web.id, "database"), std::vector<std::string>{db_app});

  // docker's refusals, before anything is made.
  Json on_bridge = {{"Links", {"db"}}};
  EXPECT_EQ(mgr_->validate(req("l1", "bridge", on_bridge), "bridge").error().message,
            "links are only supported for user-defined networks");
  Json bad = {{"Links", {"a:b:c"}}};
  EXPECT_EQ(mgr_->validate(req("l2", "app", bad), "app").error().message,
            "bad format for links: a:b:c");
  Json not_list = {{"Links", "db"}};
  EXPECT_EQ(mgr_->validate(req("l3", "app", not_list), "app").error().message,
            "Links of network app must be an array");
  EXPECT_TRUE(mgr_->validate(req("l4", "app", {{"Links", nullptr}}), "app").has_value());
}

TEST_F(NetManagerTest, RestoreKeepsOnlyLiveContainers) {
  auto live = req("live");
  live.ports["80/tcp"] = {PortBinding{"127.0.0.1", ""}};
  // An IPv6 port's socket is its monitor's (`a` holds it here): restore
  // keeps the binding without taking the port again.
  if (Fd v6(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)); v6)
    live.ports["81/tcp"] = {PortBinding{"::1", ""}};
  auto a = mgr_->attach(live).value();
  auto gone = mgr_->attach(req("gone")).value();
  open_manager();  // berthd restarted
  ASSERT_TRUE(mgr_->restore({{live.id, live}}).has_value());
  auto eps = mgr_->endpoints_of(live.id);
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps[0].ip4, a.endpoints[0].ip4);
  EXPECT_EQ(mgr_->ports_of(live.id), a.ports);
  EXPECT_TRUE(mgr_->endpoints_of(req("gone").id).empty());
  // The gone container's address is free again (its row was released).
  auto next = mgr_->attach(req("new")).value();
  EXPECT_NE(next.endpoints[0].ip4, a.endpoints[0].ip4);
}

TEST_F(NetManagerTest, PruneRemovesUnusedUserNetworksOnly) {
  for (const char* n : {"p1", "p2"}) {
    NetworkCreateRequest r;
    r.name = n;
    ASSERT_TRUE(mgr_->create(r).has_value());
  }
  ASSERT_TRUE(mgr_->attach(req("u", "p2")).has_value());
  auto rep = mgr_->prune({}).value();
  EXPECT_EQ(rep.deleted, (std::vector<std::string>{"p1"}));
  EXPECT_TRUE(mgr_->inspect("p2").has_value());
  EXPECT_TRUE(mgr_->inspect("bridge").has_value());
}

}  // namespace
}  // namespace berth::engine
