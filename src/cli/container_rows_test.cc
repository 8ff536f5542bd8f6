#include "cli/container_rows.h"

#include <gtest/gtest.h>

#include "cli/terminal.h"

namespace berth::cli {
namespace {

TEST(PsRows, DockerColumnsAndTruncation) {
  Json c = Json::parse(R"({
    "Id": "fd69133cadf3c9240fa675ad0a98c0e30517c420e1613363d8b66b52207970e4",
    "Names": ["/t1", "/other/alias"],
    "Image": "docker.io/library/busybox:latest",
    "ImageID": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "Command": "sh -c 'while true; do echo \"hi\"; sleep 1; done'",
    "Created": 1000,
    "State": "running",
    "Status": "Up 2 minutes",
    "Ports": [{"PrivatePort": 80, "Type": "tcp"},
              {"IP": "0.0.0.0", "PrivatePort": 8080, "PublicPort": 80, "Type": "tcp"},
              {"IP": "0.0.0.0", "PrivatePort": 8081, "PublicPort": 81, "Type": "tcp"}],
    "SizeRw": 1200, "SizeRootFs": 1980000,
    "Labels": {"b": "2", "a": "1"}
  })");
  Json r = ps_row(c, true, 1000 + 120);
  EXPECT_EQ(r["ID"], "fd69133cadf3");
  EXPECT_EQ(r["Image"], "busybox:latest");
  EXPECT_EQ(r["Command"], "\"sh -c 'while true; …\"");
  EXPECT_EQ(r["RunningFor"], "2 minutes ago");
  EXPECT_EQ(r["Status"], "Up 2 minutes");
  EXPECT_EQ(r["Names"], "t1");
  EXPECT_EQ(r["Size"], "1.2kB (virtual 1.98MB)");
  EXPECT_EQ(r["Ports"], "80/tcp, 0.0.0.0:80->8080/tcp, 0.0.0.0:81->8081/tcp");
  Json same = Json::parse(R"([{"IP": "0.0.0.0", "PrivatePort": 81, "PublicPort": 81, "Type": "tcp"},
                              {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 80, "Type": "tcp"},
                              {"PrivatePort": 53, "Type": "udp"}])");
  EXPECT_EQ(ps_ports(same), "53/udp, 0.0.0.0:80-81->80-81/tcp");
  EXPECT_EQ(r["Labels"], "a=1,b=2");
  Json full = ps_row(c, false, 1120);
  EXPECT_EQ(full["ID"], c["Id"]);
  EXPECT_EQ(full["Image"], "docker.io/library/busybox:latest");
  EXPECT_EQ(full["Names"], "t1,other/alias");
  EXPECT_EQ(full["Command"], "\"sh -c 'while true; do echo \\\"hi\\\"; sleep 1; done'\"");

  // An image given by ID shows the short ID; a digest reference loses the digest.
  Json byid = {
      {"Id", "x"},
      {"Image", "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
      {"ImageID", "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}};
  EXPECT_EQ(ps_row(byid, true, 0)["Image"], "aaaaaaaaaaaa");
  Json dig = {
      {"Id", "x"},
      {"Image", "busybox@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}};
  EXPECT_EQ(ps_row(dig, true, 0)["Image"], "busybox");
  EXPECT_EQ(ps_row(Json{{"Id", "x"}}, true, 0)["Image"], "<no image>");
  EXPECT_EQ(ps_row(Json{{"Id", "x"}}, true, 0)["Size"], "0B");
}

TEST(Stats, DockerPercentMath) {
  Json s = Json::parse(R"({
    "name": "/web", "id": "0123456789abcdef0123",
    "cpu_stats": {"cpu_usage": {"total_usage": 400000000}, "system_cpu_usage": 20000000000, "online_cpus": 2},
    "precpu_stats": {"cpu_usage": {"total_usage": 200000000}, "system_cpu_usage": 18000000000},
    "memory_stats": {"usage": 104857600, "limit": 1073741824, "stats": {"total_inactive_file": 4194304}},
    "blkio_stats": {"io_service_bytes_recursive": [{"op": "Read", "value": 1000}, {"op": "write", "value": 2000},
                                                   {"op": "Read", "value": 500}, {"op": "Total", "value": 3500}]},
    "networks": {"eth0": {"rx_bytes": 1500, "tx_bytes": 700}, "eth1": {"rx_bytes": 500, "tx_bytes": 300}},
    "pids_stats": {"current": 7}
  })");
  StatsEntry e;
  e.container = "web";
  stats_from_json(s, e);
  // (200e6 / 2000e6) * 2 CPUs * 100 = 20%
  EXPECT_DOUBLE_EQ(e.cpu_percent, 20.0);
  EXPECT_DOUBLE_EQ(e.memory, 104857600.0 - 4194304.0);
  EXPECT_NEAR(e.memory_percent, 9.375, 1e-9);
  Json row = stats_row(e, true);
  EXPECT_EQ(row["ID"], "0123456789ab");
  EXPECT_EQ(row["Name"], "web");
  EXPECT_EQ(row["CPUPerc"], "20.00%");
  EXPECT_EQ(row["MemUsage"], "96MiB / 1GiB");
  EXPECT_EQ(row["MemPerc"], "9.38%");
  EXPECT_EQ(row["NetIO"], "2kB / 1kB");
  EXPECT_EQ(row["BlockIO"], "1.5kB / 2kB");
  EXPECT_EQ(row["PIDs"], "7");

  // cgroup v2: inactive_file; online_cpus missing -> percpu count; no deltas -> 0%.
  Json v2 = Json::parse(R"({
    "cpu_stats": {"cpu_usage": {"total_usage": 100, "percpu_usage": [1, 2, 3, 4]}, "system_cpu_usage": 1000},
    "precpu_stats": {"cpu_usage": {"total_usage": 50}, "system_cpu_usage": 500},
    "memory_stats": {"usage": 1000, "limit": 0, "stats": {"inactive_file": 200}}
  })");
  StatsEntry e2;
  stats_from_json(v2, e2);
  EXPECT_DOUBLE_EQ(e2.cpu_percent, 40.0);
  EXPECT_DOUBLE_EQ(e2.memory, 800.0);
  EXPECT_DOUBLE_EQ(e2.memory_percent, 0.0);
  Json idle = Json::parse(R"({"cpu_stats": {"cpu_usage": {"total_usage": 5}, "system_cpu_usage": 9},
                              "precpu_stats": {"cpu_usage": {"total_usage": 5}, "system_cpu_usage": 9}})");
  StatsEntry e3;
  stats_from_json(idle, e3);
  EXPECT_DOUBLE_EQ(e3.cpu_percent, 0.0);
  e3.error = true;
  EXPECT_EQ(stats_row(e3, true)["CPUPerc"], "--");
}

TEST(DetachKeys, EscapeProxySemantics) {
  DetachMatcher m(std::string("\x10\x11"));
  EXPECT_EQ(m.feed("ab"), "ab");
  EXPECT_EQ(m.feed("\x10"), "");    // held: may start the sequence
  EXPECT_EQ(m.feed("x"), "\x10x");  // released with the next byte
  EXPECT_FALSE(m.detached());
  EXPECT_EQ(m.feed("\x10\x10"), "\x10");  // the second one may start it again
  EXPECT_EQ(m.feed("\x11tail"), "");
  EXPECT_TRUE(m.detached());

  DetachMatcher one(std::string("\x1d"));
  EXPECT_EQ(one.feed("ab\x1d"
                     "c"),
            "ab");
  EXPECT_TRUE(one.detached());

  DetachMatcher none("");
  EXPECT_EQ(none.feed(std::string("\x10\x11", 2)), std::string("\x10\x11", 2));
  EXPECT_FALSE(none.detached());
}

TEST(PsRows, SourceKeysFollowTheColumns) {
  using S = std::set<std::string>;
  EXPECT_EQ(ps_source_keys(std::nullopt), std::nullopt);
  EXPECT_EQ(ps_source_keys(S{"ID"}), S{"Id"});
  EXPECT_EQ(ps_source_keys(S{"ID", "Image", "Command", "RunningFor", "Status", "Ports", "Names"}),
            (S{"Id", "Image", "ImageID", "Command", "Created", "Status", "Ports", "Names"}));
  EXPECT_EQ(ps_source_keys(S{"Networks", "LocalVolumes", "Size"}),
            (S{"NetworkSettings", "Mounts", "SizeRw", "SizeRootFs"}));
  // A name that is not a column (docker's error comes from the template):
  // nothing is left out.
  EXPECT_EQ(ps_source_keys(S{"ID", "Nope"}), std::nullopt);
}

}  // namespace
}  // namespace berth::cli
