#include "network/ipam.h"

#include <gtest/gtest.h>

namespace berth::network {
namespace {

Cidr C(const std::string& s) {
  auto c = parse_cidr(s);
  EXPECT_TRUE(c.has_value()) << s;
  return c.value_or(Cidr{});
}

TEST(Ipam, ParseCidrV4AndV6) {
  Cidr a = C("172.17.0.0/16");
  EXPECT_FALSE(a.v6);
  EXPECT_EQ(a.prefix, 16);
  EXPECT_EQ(a.addr, (std::vector<uint8_t>{172, 17, 0, 0}));
  EXPECT_EQ(a.str(), "172.17.0.0/16");

  Cidr b = C("fd00:1::/64");
  EXPECT_TRUE(b.v6);
  EXPECT_EQ(b.addr.size(), 16u);
  EXPECT_EQ(b.str(), "fd00:1::/64");
  EXPECT_EQ(C("0.0.0.0/0").str(), "0.0.0.0/0");
  EXPECT_EQ(C("::/0").str(), "::/0");
  EXPECT_EQ(C("10.1.2.3/32").str(), "10.1.2.3/32");
  EXPECT_EQ(C("fd00::5/128").str(), "fd00::5/128");
}

TEST(Ipam, ParseCidrClearsHostBits) {
  EXPECT_EQ(C("172.17.0.5/16").str(), "172.17.0.0/16");
  EXPECT_EQ(C("10.1.2.255/25").str(), "10.1.2.128/25");
  EXPECT_EQ(C("fd00:1:2:3:4::9/48").str(), "fd00:1:2::/48");
  EXPECT_EQ(C("255.255.255.255/0").str(), "0.0.0.0/0");
}

TEST(Ipam, ParseCidrRejectsGarbage) {
  for (const char* s : {"", "172.17.0.0", "172.17.0.0/", "172.17.0.0/33", "172.17.0.0/-1",
                        "172.17.0.0/+8", "172.17.0.0/ 8", "172.17.0/16", "fd00::/129", "hello/8",
                        "/8", "1.2.3.4/8/9", "1.2.3.4/0x8"}) {
    auto r = parse_cidr(s);
    ASSERT_FALSE(r.has_value()) << s;
    EXPECT_EQ(r.error().code, Errc::InvalidArgument);
    EXPECT_EQ(r.error().message, fmt::format("invalid subnet \"{}\"", s));
  }
}

TEST(Ipam, ParseAndFormatIp) {
  EXPECT_EQ(parse_ip("172.17.0.2").value_or(std::vector<uint8_t>{}),
            (std::vector<uint8_t>{172, 17, 0, 2}));
  EXPECT_EQ(format_ip(parse_ip("fd00:0::02").value_or(std::vector<uint8_t>{})), "fd00::2");
  EXPECT_FALSE(parse_ip("172.17.0.256").has_value());
  EXPECT_FALSE(parse_ip("172.17.0.2/16").has_value());
  EXPECT_FALSE(parse_ip("").has_value());
  EXPECT_EQ(parse_ip("x").error().code, Errc::InvalidArgument);
  EXPECT_EQ(format_ip({1, 2, 3}), "");
}

TEST(Ipam, Contains) {
  Cidr c = C("10.0.0.0/8");
  EXPECT_TRUE(c.contains("10.255.1.2"));
  EXPECT_FALSE(c.contains("11.0.0.1"));
  EXPECT_FALSE(c.contains("::ffff:10.0.0.1"));  // another family
  EXPECT_FALSE(c.contains("garbage"));
  EXPECT_TRUE(C("fd00::/64").contains("fd00::abcd"));
  EXPECT_FALSE(C("fd00::/64").contains("fd00:0:0:1::1"));
  EXPECT_TRUE(C("0.0.0.0/0").contains("8.8.8.8"));
}

TEST(Ipam, OverlapsV4) {
  EXPECT_TRUE(overlaps(C("172.17.0.0/16"), C("172.17.3.0/24")));
  EXPECT_TRUE(overlaps(C("172.17.3.0/24"), C("172.17.0.0/16")));
  EXPECT_FALSE(overlaps(C("172.17.0.0/16"), C("172.18.0.0/16")));
  EXPECT_TRUE(overlaps(C("0.0.0.0/0"), C("192.168.1.0/24")));
  EXPECT_TRUE(overlaps(C("10.0.0.1/32"), C("10.0.0.1/32")));
  EXPECT_FALSE(overlaps(C("10.0.0.0/31"), C("10.0.0.2/31")));
}

TEST(Ipam, OverlapsV6AndMixedFamilies) {
  EXPECT_TRUE(overlaps(C("fd00::/16"), C("fd00:1::/64")));
  EXPECT_FALSE(overlaps(C("fd00:1::/64"), C("fd00:2::/64")));
  EXPECT_TRUE(overlaps(C("::/0"), C("fd00:2::/64")));
  EXPECT_FALSE(overlaps(C("0.0.0.0/0"), C("::/0")));
}

TEST(Ipam, DefaultPools) {
  auto p = default_pools();
  ASSERT_EQ(p.size(), 16u);
  EXPECT_EQ(p.front().base, "172.17.0.0/16");
  EXPECT_EQ(p.front().size, 16);
  EXPECT_EQ(p[14].base, "172.31.0.0/16");
  EXPECT_EQ(p.back().base, "192.168.0.0/16");
  EXPECT_EQ(p.back().size, 20);
}

TEST(Ipam, PickSubnetFirstFree) {
  auto r = pick_subnet(default_pools(), {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->str(), "172.17.0.0/16");
}

TEST(Ipam, PickSubnetSkipsTakenAndHostRoutes) {
  // Another network, a host route inside 172.18 and a host /32 in 172.19.
  std::vector<Cidr> taken = {C("172.17.0.0/16"), C("172.18.5.0/24"), C("172.19.0.7/32")};
  auto r = pick_subnet(default_pools(), taken);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->str(), "172.20.0.0/16");
  // A host route covering several pools at once (172.16.0.0/12 covers all
  // of 172.17-31): the 192.168 pool is next, in /20 steps.
  taken = {C("172.16.0.0/12"), C("192.168.0.0/20"), C("192.168.17.0/24")};
  r = pick_subnet(default_pools(), taken);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->str(), "192.168.32.0/20");
}

TEST(Ipam, PickSubnetIgnoresOtherFamily) {
  auto r = pick_subnet({{"10.10.0.0/16", 24}}, {C("::/0")});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->str(), "10.10.0.0/24");
}

TEST(Ipam, PickSubnetExhausted) {
  auto r = pick_subnet(default_pools(), {C("172.16.0.0/12"), C("192.168.0.0/16")});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::NotFound);
  EXPECT_EQ(r.error().message,
            "could not find an available, non-overlapping IPv4 address pool among the defaults "
            "to assign to the network");
  // A default route is skipped by host_routes_v4, but were it passed it
  // would take everything.
  EXPECT_FALSE(pick_subnet(default_pools(), {C("0.0.0.0/0")}).has_value());
}

TEST(Ipam, PickSubnetHugeV6PoolIsBounded) {
  // 2^48 candidate /64s: the search must skip, not count.
  std::vector<Cidr> taken = {C("fd00::/65"), C("fd00:0:0:1::/64"), C("fd00:0:0:2::/63")};
  auto r = pick_subnet({{"fd00::/16", 64}}, taken);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->str(), "fd00:0:0:4::/64");
  r = pick_subnet({{"::/0", 1}}, {C("::/1"), C("8000::/1")});
  EXPECT_FALSE(r.has_value());
}

TEST(Ipam, PickSubnetBadPool) {
  EXPECT_EQ(pick_subnet({{"nope", 16}}, {}).error().code, Errc::InvalidArgument);
  EXPECT_EQ(pick_subnet({{"10.0.0.0/16", 8}}, {}).error().code, Errc::InvalidArgument);
  EXPECT_EQ(pick_subnet({{"10.0.0.0/16", 33}}, {}).error().code, Errc::InvalidArgument);
}

TEST(Ipam, FirstHost) {
  EXPECT_EQ(first_host(C("172.17.0.0/16")), "172.17.0.1");
  EXPECT_EQ(first_host(C("fd00:1::/64")), "fd00:1::1");
  EXPECT_EQ(first_host(C("10.0.0.4/31")), "10.0.0.4");
  EXPECT_EQ(first_host(C("10.0.0.9/32")), "10.0.0.9");
}

TEST(Ipam, NextFreeIpRoundRobin) {
  Cidr s = C("10.0.0.0/29");                  // hosts .1-.6
  std::set<std::string> used = {"10.0.0.1"};  // the gateway
  auto a = next_free_ip(s, used, "");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(*a, "10.0.0.2");
  used.insert(*a);
  auto b = next_free_ip(s, used, *a);
  EXPECT_EQ(b.value_or(""), "10.0.0.3");
  // .3 released at once: it is not handed out again before the others.
  auto c = next_free_ip(s, used, "10.0.0.3");
  EXPECT_EQ(c.value_or(""), "10.0.0.4");
  // Skips used addresses in the middle.
  used.insert("10.0.0.5");
  EXPECT_EQ(next_free_ip(s, used, "10.0.0.4").value_or(""), "10.0.0.6");
}

TEST(Ipam, NextFreeIpWrapsAndNeverGivesNetworkOrBroadcast) {
  Cidr s = C("10.0.0.0/29");
  std::set<std::string> used = {"10.0.0.1", "10.0.0.3"};
  // After the last host (.6) it wraps to the start, skipping .0 and .7.
  EXPECT_EQ(next_free_ip(s, used, "10.0.0.6").value_or(""), "10.0.0.2");
  EXPECT_EQ(
      next_free_ip(s, {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"}, "10.0.0.2")
          .value_or(""),
      "10.0.0.6");
  // `last` outside the subnet or not an address: start at the beginning.
  EXPECT_EQ(next_free_ip(s, used, "192.168.1.1").value_or(""), "10.0.0.2");
  EXPECT_EQ(next_free_ip(s, used, "junk").value_or(""), "10.0.0.2");
}

TEST(Ipam, NextFreeIpFull) {
  Cidr s = C("10.0.0.0/30");  // hosts .1 .2
  auto r = next_free_ip(s, {"10.0.0.1", "10.0.0.2"}, "10.0.0.2");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::NotFound);
  EXPECT_NE(r.error().message.find("no available IPv4 addresses on this network's address pools"),
            std::string::npos);
  EXPECT_NE(r.error().message.find("10.0.0.0/30"), std::string::npos);
}

TEST(Ipam, NextFreeIpPointToPointAndHost) {
  // /31: both addresses are hosts (RFC 3021).
  Cidr p2p = C("10.0.0.4/31");
  EXPECT_EQ(next_free_ip(p2p, {}, "").value_or(""), "10.0.0.4");
  EXPECT_EQ(next_free_ip(p2p, {"10.0.0.4"}, "").value_or(""), "10.0.0.5");
  EXPECT_FALSE(next_free_ip(p2p, {"10.0.0.4", "10.0.0.5"}, "").has_value());
  // /32: the one address.
  Cidr host = C("10.0.0.9/32");
  EXPECT_EQ(next_free_ip(host, {}, "10.0.0.9").value_or(""), "10.0.0.9");
  EXPECT_FALSE(next_free_ip(host, {"10.0.0.9"}, "").has_value());
}

TEST(Ipam, NextFreeIpV6) {
  Cidr s = C("fd00:1::/64");
  // Used addresses compare as addresses, not as text.
  auto r = next_free_ip(s, {"fd00:1:0:0::01"}, "");
  EXPECT_EQ(r.value_or(""), "fd00:1::2");
  EXPECT_EQ(next_free_ip(s, {"fd00:1::1"}, "fd00:1::ffff").value_or(""), "fd00:1::1:0");
  // The last address of a v6 subnet is usable (no broadcast), then wrap.
  EXPECT_EQ(next_free_ip(C("fd00::/126"), {"fd00::1"}, "fd00::2").value_or(""), "fd00::3");
  EXPECT_EQ(next_free_ip(C("fd00::/126"), {"fd00::1"}, "fd00::3").value_or(""), "fd00::2");
  auto full = next_free_ip(C("fd00::/126"), {"fd00::1", "fd00::2", "fd00::3"}, "");
  ASSERT_FALSE(full.has_value());
  EXPECT_NE(full.error().message.find("IPv6"), std::string::npos);
}

TEST(Ipam, MacFromIp) {
  EXPECT_EQ(mac_from_ip("172.17.0.2"), "02:42:ac:11:00:02");
  EXPECT_EQ(mac_from_ip("10.255.0.254"), "02:42:0a:ff:00:fe");
  EXPECT_EQ(mac_from_ip("fd00::1"), "");
  EXPECT_EQ(mac_from_ip("nope"), "");
}

}  // namespace
}  // namespace berth::network
