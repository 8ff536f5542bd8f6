#include "network/nft.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "base/scope_exit.h"
#include "network/nft_internal.h"

namespace berth::network {
namespace {

#define BERTH_REQUIRE_ROOT()                                            \
  do {                                                                  \
    if (::geteuid() != 0) {                                             \
      const char* strict = std::getenv("BERTH_TEST_ROOT");              \
      if (strict && std::string(strict) == "1") FAIL() << "needs root"; \
      GTEST_SKIP() << "needs root";                                     \
    }                                                                   \
  } while (0)

bool has(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// The text between "table <family> <name> {" and its closing "\n}\n".
std::string table_block(const std::string& script, const std::string& family,
                        const std::string& name = "berth") {
  std::string head = "table " + family + " " + name + " {\n";
  size_t b = script.find(head);
  if (b == std::string::npos) return "";
  size_t e = script.find("\n}\n", b);
  return script.substr(b, e == std::string::npos ? std::string::npos : e + 3 - b);
}

NftRuleset sample() {
  NftRuleset r;
  r.networks.push_back({"berth0", "172.17.0.0/16", "", false});
  r.networks.push_back({"br-aaaa", "172.18.0.0/16", "", false});
  r.networks.push_back({"br-int", "172.19.0.0/16", "", true});
  r.ports.push_back({"tcp", "", 8080, "172.17.0.2", 80, "berth0"});
  r.ports.push_back({"udp", "127.0.0.1", 5353, "172.18.0.3", 53, "br-aaaa"});
  return r;
}

TEST(NftRender, EmptyRulesetIsAValidReplacement) {
  std::string s = render_ruleset({});
  // Replaces both tables whether or not they exist...
  EXPECT_EQ(s.find("add table ip berth\ndelete table ip berth\n"), 0u);
  EXPECT_TRUE(has(s, "add table ip6 berth\ndelete table ip6 berth\n"));
  // ...and recreates only the IPv4 one, with its base chains and no rules.
  std::string t = table_block(s, "ip");
  ASSERT_FALSE(t.empty());
  EXPECT_TRUE(has(t, "type nat hook prerouting priority dstnat;"));
  EXPECT_TRUE(has(t, "type nat hook output priority -100;"));
  EXPECT_TRUE(has(t, "type nat hook postrouting priority srcnat;"));
  EXPECT_TRUE(has(t, "type filter hook forward priority filter; policy accept;"));
  EXPECT_FALSE(has(t, "masquerade"));
  EXPECT_FALSE(has(t, "drop"));
  EXPECT_FALSE(has(t, "dnat to"));
  EXPECT_TRUE(table_block(s, "ip6").empty());
}

TEST(NftRender, PublishedPorts) {
  std::string t = table_block(render_ruleset(sample()), "ip");
  EXPECT_TRUE(has(t, "\t\ttcp dport 8080 dnat to 172.17.0.2:80\n"));
  EXPECT_TRUE(has(t, "\t\tip daddr 127.0.0.1 udp dport 5353 dnat to 172.18.0.3:53\n"));
  // Both NAT hooks reach the ports only for local destinations.
  EXPECT_TRUE(has(t,
                  "chain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy "
                  "accept;\n\t\tfib daddr type local jump ports\n"));
  EXPECT_TRUE(has(t,
                  "chain output {\n\t\ttype nat hook output priority -100; policy "
                  "accept;\n\t\tfib daddr type local jump ports\n"));
}

TEST(NftRender, HostIpAnyFormsHaveNoDaddrMatch) {
  for (const char* any : {"", "0.0.0.0", "::"}) {
    NftRuleset r;
    r.networks.push_back({"berth0", "172.17.0.0/16", "", false});
    r.ports.push_back({"tcp", any, 81, "172.17.0.9", 8081, "berth0"});
    std::string t = table_block(render_ruleset(r), "ip");
    EXPECT_TRUE(has(t, "\t\ttcp dport 81 dnat to 172.17.0.9:8081\n")) << any << "\n" << t;
    EXPECT_FALSE(has(t, "daddr 0.0.0.0")) << any;
  }
}

TEST(NftRender, Masquerade) {
  std::string t = table_block(render_ruleset(sample()), "ip");
  EXPECT_TRUE(has(t, "ip saddr 172.17.0.0/16 oifname != \"berth0\" masquerade\n"));
  EXPECT_TRUE(has(t, "ip saddr 172.18.0.0/16 oifname != \"br-aaaa\" masquerade\n"));
  // An internal network never leaves its bridge: no masquerade out.
  EXPECT_FALSE(has(t, "ip saddr 172.19.0.0/16 oifname != \"br-int\" masquerade"));
  // localhost -> published port, for every bridge.
  for (const char* br : {"berth0", "br-aaaa", "br-int"}) {
    EXPECT_TRUE(has(t, fmt::format("oifname \"{}\" ip saddr 127.0.0.0/8 masquerade\n", br)));
  }
  // Hairpin.
  EXPECT_TRUE(has(t, "oifname \"berth0\" ct status dnat ip saddr 172.17.0.0/16 masquerade\n"));
}

TEST(NftRender, ForwardInternalAndIsolation) {
  std::string t = table_block(render_ruleset(sample()), "ip");
  size_t fwd = t.find("chain forward {");
  ASSERT_NE(fwd, std::string::npos);
  std::string f = t.substr(fwd);
  EXPECT_TRUE(has(f, "iifname \"br-int\" oifname != \"br-int\" drop\n"));
  EXPECT_TRUE(has(f, "oifname \"br-int\" iifname != \"br-int\" drop\n"));
  EXPECT_TRUE(has(f, "iifname \"berth0\" oifname { \"br-aaaa\", \"br-int\" } drop\n"));
  EXPECT_TRUE(has(f, "iifname \"br-aaaa\" oifname { \"berth0\", \"br-int\" } drop\n"));
  // Published ports are accepted before the isolation drops (a published
  // port is reachable from other networks through the host, as in docker),
  // but after the internal drops.
  size_t accept = f.find("oifname { \"berth0\", \"br-aaaa\", \"br-int\" } ct status dnat accept");
  ASSERT_NE(accept, std::string::npos);
  EXPECT_LT(f.find("iifname \"br-int\" oifname != \"br-int\" drop"), accept);
  EXPECT_GT(f.find("iifname \"berth0\" oifname"), accept);
  // Nothing in the chain touches traffic of non-berth interfaces: every
  // rule names a berth bridge.
  for (const std::string& line : {std::string("drop\n"), std::string("accept\n")}) {
    size_t pos = 0;
    while ((pos = f.find(line, pos)) != std::string::npos) {
      size_t bol = f.rfind('\n', pos);
      std::string rule = f.substr(bol + 1, pos - bol);
      EXPECT_TRUE(has(rule, "berth0") || has(rule, "br-")) << rule;
      pos += line.size();
    }
  }
}

TEST(NftRender, SingleBridgeHasNoIsolationRule) {
  NftRuleset r;
  r.networks.push_back({"berth0", "172.17.0.0/16", "", false});
  std::string t = table_block(render_ruleset(r), "ip");
  EXPECT_FALSE(has(t, "drop"));
  EXPECT_TRUE(has(t, "oifname { \"berth0\" } ct status dnat accept\n"));
}

TEST(NftRender, Ipv6TableOnlyWithIpv6Content) {
  NftRuleset r;
  r.networks.push_back({"br-v6", "172.20.0.0/16", "fd00:1::/64", false});
  r.ports.push_back({"tcp", "::", 8080, "fd00:1::2", 80, "br-v6"});
  r.ports.push_back({"tcp", "", 8080, "172.20.0.2", 80, "br-v6"});
  r.ports.push_back({"tcp", "::1", 8081, "fd00:1::2", 81, "br-v6"});
  // A v4 host address cannot be translated to a v6 container: no rule.
  r.ports.push_back({"tcp", "127.0.0.1", 8082, "fd00:1::2", 82, "br-v6"});
  std::string s = render_ruleset(r);
  std::string t6 = table_block(s, "ip6");
  ASSERT_FALSE(t6.empty()) << s;
  EXPECT_TRUE(has(t6, "\t\ttcp dport 8080 dnat to [fd00:1::2]:80\n"));
  EXPECT_TRUE(has(t6, "\t\tip6 daddr ::1 tcp dport 8081 dnat to [fd00:1::2]:81\n"));
  EXPECT_FALSE(has(s, "8082"));
  EXPECT_TRUE(has(t6, "ip6 saddr fd00:1::/64 oifname != \"br-v6\" masquerade\n"));
  EXPECT_FALSE(has(t6, "127.0.0.0/8"));
  std::string t4 = table_block(s, "ip");
  EXPECT_TRUE(has(t4, "\t\ttcp dport 8080 dnat to 172.20.0.2:80\n"));
  EXPECT_FALSE(has(t4, "fd00"));
  // Without v6 content the ip6 table is only deleted.
  EXPECT_TRUE(table_block(render_ruleset(sample()), "ip6").empty());
}

TEST(NftRender, CustomTableNameAndInvalidInput) {
  std::string s = render_ruleset(sample(), "berthtest1");
  EXPECT_EQ(s.find("add table ip berthtest1\ndelete table ip berthtest1\n"), 0u);
  EXPECT_FALSE(table_block(s, "ip", "berthtest1").empty());
  EXPECT_EQ(render_ruleset(sample(), "bad name;"), "");
  // Names that could carry nft syntax are never rendered.
  NftRuleset r;
  r.networks.push_back({"x\" drop; #", "172.17.0.0/16", "", false});
  r.ports.push_back({"tcp;", "", 1, "172.17.0.2", 2, "berth0"});
  std::string bad = render_ruleset(r);
  EXPECT_FALSE(has(bad, "x\""));
  EXPECT_FALSE(has(bad, "tcp;"));
  // apply refuses them outright.
  auto e = apply_ruleset(r, "berthtest1");
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code, Errc::InvalidArgument);
  EXPECT_EQ(apply_ruleset({}, "no-dashes").error().code, Errc::InvalidArgument);
  EXPECT_EQ(remove_ruleset("a b").error().code, Errc::InvalidArgument);
}

// --- root: the script against the kernel, in a table of the test's own ---

std::string run(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = ::pclose(p);
  if (status) *status = st;
  return out;
}

TEST(NftRoot, ApplyReplaceAndRemove) {
  BERTH_REQUIRE_ROOT();
  const std::string table = fmt::format("berthtest{}", ::getpid());
  ScopeExit cleanup([&] { (void)remove_ruleset(table); });

  // Test-only bridges (never created) and a 10.254 host address that is not
  // local, so these hooks match no real traffic while they exist.
  NftRuleset r;
  r.networks.push_back({"bt-a", "10.254.1.0/24", "", false});
  r.networks.push_back({"bt-b", "10.254.2.0/24", "fd00:254::/64", true});
  r.ports.push_back({"tcp", "10.254.0.1", 18080, "10.254.1.2", 80, "bt-a"});
  auto a = apply_ruleset(r, table);
  ASSERT_TRUE(a.has_value()) << a.error().message;

  int st = 0;
  std::string v4 = run("nft list table ip " + table, &st);
  ASSERT_EQ(st, 0) << v4;
  EXPECT_TRUE(has(v4, "ip daddr 10.254.0.1 tcp dport 18080 dnat to 10.254.1.2:80")) << v4;
  EXPECT_TRUE(has(v4, "fib daddr type local jump ports")) << v4;
  EXPECT_TRUE(has(v4, "ip saddr 10.254.1.0/24 oifname != \"bt-a\" masquerade")) << v4;
  EXPECT_TRUE(has(v4, "iifname \"bt-b\" oifname != \"bt-b\" drop")) << v4;
  EXPECT_TRUE(has(v4, "policy accept")) << v4;
  std::string v6 = run("nft list table ip6 " + table, &st);
  ASSERT_EQ(st, 0) << v6;
  EXPECT_TRUE(has(v6, "chain forward")) << v6;

  // Re-applying replaces the tables whole: old rules are gone, and the ip6
  // table goes when there is no v6 content left.
  NftRuleset r2;
  r2.networks.push_back({"bt-c", "10.254.3.0/24", "", false});
  r2.ports.push_back({"udp", "", 18081, "10.254.3.2", 53, "bt-c"});
  a = apply_ruleset(r2, table);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  v4 = run("nft list table ip " + table, &st);
  ASSERT_EQ(st, 0) << v4;
  EXPECT_FALSE(has(v4, "18080")) << v4;
  EXPECT_FALSE(has(v4, "bt-a")) << v4;
  EXPECT_TRUE(has(v4, "udp dport 18081 dnat to 10.254.3.2:53")) << v4;
  run("nft list table ip6 " + table, &st);
  EXPECT_NE(st, 0);

  // The same text twice is fine (restart re-applies it).
  EXPECT_TRUE(apply_ruleset(r2, table).has_value());

  ASSERT_TRUE(remove_ruleset(table).has_value());
  run("nft list table ip " + table, &st);
  EXPECT_NE(st, 0);
  // Removing again is Ok.
  EXPECT_TRUE(remove_ruleset(table).has_value());
}

TEST(NftRoot, ErrorsCarryNftMessage) {
  BERTH_REQUIRE_ROOT();
  const std::string table = fmt::format("berthtest{}e", ::getpid());
  ScopeExit cleanup([&] { (void)remove_ruleset(table); });
  // A failing script changes nothing (one transaction): the table added
  // before the bad line does not appear.
  auto r = run_nft_script("add table ip " + table + "\nadd chain ip " + table + " c { bogus; }\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message.rfind("nftables: ", 0), 0u) << r.error().message;
  EXPECT_TRUE(has(r.error().message, "syntax error")) << r.error().message;
  int st = 0;
  run("nft list table ip " + table, &st);
  EXPECT_NE(st, 0);
}

}  // namespace
}  // namespace berth::network
