#include "engine/links.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace berth::engine {
namespace {

TEST(Links, Parse) {
  EXPECT_EQ(*parse_link("db"), (std::pair<std::string, std::string>{"db", "db"}));
  EXPECT_EQ(*parse_link("db:mysql"), (std::pair<std::string, std::string>{"db", "mysql"}));
  EXPECT_EQ(*parse_link("/db:/web/mysql"), (std::pair<std::string, std::string>{"db", "mysql"}));
  for (const char* bad : {"a:b:c", ":x", "x:", "/db:/web/"}) {
    auto r = parse_link(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::InvalidArgument);
    EXPECT_EQ(r.error().message, std::string("bad format for links: ") + bad);
  }
  EXPECT_EQ(parse_link("").error().message, "empty string specified for links");
}

TEST(Links, EnvLikeDockers) {
  auto env = link_env("my-db", "/web/my-db", "172.17.0.2", {"5432/tcp", "53/udp", "53/tcp"},
                      {"PATH=/bin", "HOME=/root", "PGDATA=/var/lib/pg", "EMPTY=", "junk"});
  std::vector<std::string> want = {
      // The lowest port, tcp before udp of the same number.
      "MY_DB_PORT=tcp://172.17.0.2:53",      "MY_DB_PORT_53_TCP=tcp://172.17.0.2:53",
      "MY_DB_PORT_53_TCP_ADDR=172.17.0.2",   "MY_DB_PORT_53_TCP_PORT=53",
      "MY_DB_PORT_53_TCP_PROTO=tcp",         "MY_DB_PORT_53_UDP=udp://172.17.0.2:53",
      "MY_DB_PORT_53_UDP_ADDR=172.17.0.2",   "MY_DB_PORT_53_UDP_PORT=53",
      "MY_DB_PORT_53_UDP_PROTO=udp",         "MY_DB_PORT_5432_TCP=tcp://172.17.0.2:5432",
      "MY_DB_PORT_5432_TCP_ADDR=172.17.0.2", "MY_DB_PORT_5432_TCP_PORT=5432",
      "MY_DB_PORT_5432_TCP_PROTO=tcp",       "MY_DB_NAME=/web/my-db",
      "MY_DB_ENV_PGDATA=/var/lib/pg",        "MY_DB_ENV_EMPTY=",
  };
  EXPECT_EQ(env, want);
  // Three or more consecutive ports also make one START/END range, before
  // the ports' own variables.
  env = link_env("r", "/w/r", "10.0.0.2", {"8000/tcp", "8001/tcp", "8002/tcp", "9000/tcp"}, {});
  want = {"R_PORT=tcp://10.0.0.2:8000",      "R_PORT_8000_TCP_START=tcp://10.0.0.2:8000",
          "R_PORT_8000_TCP_ADDR=10.0.0.2",   "R_PORT_8000_TCP_PROTO=tcp",
          "R_PORT_8000_TCP_PORT_START=8000", "R_PORT_8000_TCP_END=tcp://10.0.0.2:8002",
          "R_PORT_8000_TCP_PORT_END=8002"};
  for (int port : {8000, 8001, 8002, 9000}) {
    want.push_back(fmt::format("R_PORT_{}_TCP=tcp://10.0.0.2:{}", port, port));
    want.push_back(fmt::format("R_PORT_{}_TCP_ADDR=10.0.0.2", port));
    want.push_back(fmt::format("R_PORT_{}_TCP_PORT={}", port, port));
    want.push_back(fmt::format("R_PORT_{}_TCP_PROTO=tcp", port));
  }
  want.push_back("R_NAME=/w/r");
  EXPECT_EQ(env, want);
  // docker's count: a tcp/udp pair of one number extends a run by two, so
  // 53/tcp, 53/udp, 54/tcp is a run that ends at 54/tcp; 80/tcp, 80/udp is not.
  env = link_env("d", "/w/d", "10.0.0.3", {"54/tcp", "53/udp", "53/tcp", "80/tcp", "80/udp"}, {});
  EXPECT_EQ(env[1], "D_PORT_53_TCP_START=tcp://10.0.0.3:53");
  EXPECT_EQ(env[5], "D_PORT_53_TCP_END=tcp://10.0.0.3:54");
  EXPECT_EQ(env[6], "D_PORT_53_TCP_PORT_END=54");
  EXPECT_EQ(env[7], "D_PORT_53_TCP=tcp://10.0.0.3:53");
  EXPECT_EQ(std::count_if(env.begin(), env.end(),
                          [](const std::string& e) { return e.find("_START=tcp://") != e.npos; }),
            1);
  EXPECT_EQ(env.size(), 1u + 6u + 5u * 4u + 1u);
  EXPECT_EQ(link_env("x", "/w/x", "1.2.3.4", {}, {}), std::vector<std::string>{"X_NAME=/w/x"});
}

}  // namespace
}  // namespace berth::engine
