// -p / --expose parsing against docker's accepted and refused forms.
#include "cli/port_spec.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

TEST(PortSpec, Forms) {
  auto one = parse_publish("5555:5230").value();
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].port, "5230/tcp");
  EXPECT_EQ(one[0].host_port, "5555");
  EXPECT_EQ(one[0].host_ip, "");

  auto bare = parse_publish("80").value();
  EXPECT_EQ(bare[0].port, "80/tcp");
  EXPECT_EQ(bare[0].host_port, "");

  auto ip = parse_publish("127.0.0.1:8080:80/udp").value();
  EXPECT_EQ(ip[0].port, "80/udp");
  EXPECT_EQ(ip[0].host_ip, "127.0.0.1");
  EXPECT_EQ(ip[0].host_port, "8080");

  auto anyport = parse_publish("127.0.0.1::80").value();
  EXPECT_EQ(anyport[0].host_ip, "127.0.0.1");
  EXPECT_EQ(anyport[0].host_port, "");

  auto v6 = parse_publish("[::1]:8080:80").value();
  EXPECT_EQ(v6[0].host_ip, "::1");
  EXPECT_EQ(v6[0].host_port, "8080");

  auto sctp = parse_publish("9:9/SCTP").value();
  EXPECT_EQ(sctp[0].port, "9/sctp");
}

TEST(PortSpec, Ranges) {
  auto pairs = parse_publish("8000-8001:80-81").value();
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].port, "80/tcp");
  EXPECT_EQ(pairs[0].host_port, "8000");
  EXPECT_EQ(pairs[1].port, "81/tcp");
  EXPECT_EQ(pairs[1].host_port, "8001");
  auto pick = parse_publish("8000-8010:80").value();
  ASSERT_EQ(pick.size(), 1u);
  EXPECT_EQ(pick[0].host_port, "8000-8010");
  auto any = parse_publish("80-82").value();
  EXPECT_EQ(any.size(), 3u);
}

TEST(PortSpec, BadInputNamesTheProblem) {
  auto msg = [](const std::string& s) {
    auto r = parse_publish(s);
    EXPECT_FALSE(r.has_value()) << s;
    return r ? std::string() : r.error().message;
  };
  EXPECT_EQ(msg("abc"), "invalid containerPort: abc");
  EXPECT_EQ(msg("0"), "invalid containerPort: 0");
  EXPECT_EQ(msg("70000"), "invalid containerPort: 70000");
  EXPECT_EQ(msg("x:80"), "invalid hostPort: x");
  EXPECT_EQ(msg("1.2.3:80:80"), "invalid IP address: 1.2.3");
  EXPECT_EQ(msg("80/icmp"), "invalid proto: icmp");
  EXPECT_EQ(msg("8000-8002:80-81"),
            "invalid ranges specified for container and host Ports: 80-81 and 8000-8002");
  EXPECT_EQ(msg("90-80"), "invalid containerPort: 90-80");
  EXPECT_EQ(msg("1:2:3:4"), "invalid port format: 1:2:3:4");
  EXPECT_NE(msg("8080:"), "");
}

TEST(PortSpec, Expose) {
  EXPECT_EQ(parse_expose("80").value(), (std::vector<std::string>{"80/tcp"}));
  EXPECT_EQ(parse_expose("53/udp").value(), (std::vector<std::string>{"53/udp"}));
  EXPECT_EQ(parse_expose("8000-8001").value().size(), 2u);
  EXPECT_FALSE(parse_expose("1:2").has_value());
  EXPECT_FALSE(parse_expose("x").has_value());
}

}  // namespace
}  // namespace berth::cli
