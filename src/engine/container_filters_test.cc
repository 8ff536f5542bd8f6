#include "engine/container_filters.h"

#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <set>

#include "engine/names_gen.h"

namespace berth::engine {
namespace {

ContainerSummary make(std::string id, std::string name, std::string status, int64_t created) {
  ContainerSummary c;
  c.id = std::move(id);
  c.names = {"/" + name};
  c.state.status = std::move(status);
  c.created = created;
  c.image = "busybox";
  c.image_id = "sha256:aaaabbbbccccdddd";
  return c;
}

FilterResolvers resolvers(const std::vector<ContainerSummary>& all) {
  FilterResolvers r;
  r.container = [all](const std::string& n) -> Result<ContainerSummary> {
    for (auto& c : all) {
      if (c.id == n || c.names[0] == "/" + n) return c;
    }
    return make_error(Errc::NotFound, "No such container: {}", n);
  };
  r.image_id = [](const std::string& ref) -> std::optional<std::string> {
    if (ref == "busybox:latest" || ref == "busybox") return "sha256:aaaabbbbccccdddd";
    return std::nullopt;
  };
  return r;
}

std::vector<std::string> run(const FilterArgs& args, const std::vector<ContainerSummary>& all) {
  auto f = ContainerFilter::parse(args, resolvers(all));
  EXPECT_TRUE(f) << f.error().message;
  std::vector<std::string> out;
  if (!f) return out;
  for (auto& c : all)
    if (f->matches(c)) out.push_back(c.names[0]);
  return out;
}

std::vector<ContainerSummary> fixture() {
  auto a = make("aaa111", "web", "running", 100);
  a.labels = {{"env", "prod"}, {"tier", "front"}};
  auto b = make("bbb222", "db", "exited", 200);
  b.state.exit_code = 3;
  b.state.started_ns = 1;
  b.labels = {{"env", "dev"}};
  auto c = make("ccc333", "cache", "created", 300);
  c.image = "redis";
  c.image_id = "sha256:eeee";
  auto d = make("ddd444", "webapp", "exited", 400);
  d.state.exit_code = 0;
  d.state.started_ns = 1;
  d.state.health_status = "unhealthy";
  return {a, b, c, d};
}

TEST(ContainerFilters, Basics) {
  auto all = fixture();
  EXPECT_EQ(run({}, all).size(), 4u);
  EXPECT_EQ(run({{"id", {"bbb"}}}, all), (std::vector<std::string>{"/db"}));
  EXPECT_EQ(run({{"name", {"web"}}}, all), (std::vector<std::string>{"/web", "/webapp"}));
  EXPECT_EQ(run({{"name", {"^web$"}}}, all), (std::vector<std::string>{"/web"}));
  EXPECT_EQ(run({{"label", {"env"}}}, all), (std::vector<std::string>{"/web", "/db"}));
  EXPECT_EQ(run({{"label", {"env=prod", "tier"}}}, all), (std::vector<std::string>{"/web"}));
  EXPECT_EQ(run({{"status", {"exited", "created"}}}, all),
            (std::vector<std::string>{"/db", "/cache", "/webapp"}));
  EXPECT_EQ(run({{"exited", {"0"}}}, all), (std::vector<std::string>{"/webapp"}));
  EXPECT_EQ(run({{"exited", {"3", "0"}}}, all), (std::vector<std::string>{"/db", "/webapp"}));
  EXPECT_EQ(run({{"health", {"unhealthy"}}}, all), (std::vector<std::string>{"/webapp"}));
  EXPECT_EQ(run({{"health", {"none"}}}, all).size(), 3u);
  EXPECT_EQ(run({{"ancestor", {"busybox"}}}, all),
            (std::vector<std::string>{"/web", "/db", "/webapp"}));
  EXPECT_EQ(run({{"ancestor", {"redis"}}}, all), (std::vector<std::string>{"/cache"}));
  EXPECT_EQ(run({{"ancestor", {"sha256:eeee"}}}, all), (std::vector<std::string>{"/cache"}));
  EXPECT_EQ(run({{"before", {"cache"}}}, all), (std::vector<std::string>{"/web", "/db"}));
  EXPECT_EQ(run({{"since", {"db"}}}, all), (std::vector<std::string>{"/cache", "/webapp"}));
  EXPECT_EQ(run({{"since", {"web"}}, {"before", {"webapp"}}}, all),
            (std::vector<std::string>{"/db", "/cache"}));
  EXPECT_EQ(run({{"status", {"running"}}, {"label", {"env=dev"}}}, all).size(), 0u);
  EXPECT_EQ(run({{"is-task", {"false"}}}, all).size(), 4u);
}

TEST(ContainerFilters, DockerErrors) {
  auto all = fixture();
  auto r = resolvers(all);
  auto bad = ContainerFilter::parse({{"colour", {"red"}}}, r);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::InvalidArgument);
  EXPECT_EQ(bad.error().message, "invalid filter 'colour'");
  bad = ContainerFilter::parse({{"status", {"sleeping"}}}, r);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "Invalid filter 'status=sleeping'");
  bad = ContainerFilter::parse({{"health", {"meh"}}}, r);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "Unrecognised filter value for health: meh");
  bad = ContainerFilter::parse({{"exited", {"x"}}}, r);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "invalid filter 'exited=x'");
  bad = ContainerFilter::parse({{"before", {"nosuch"}}}, r);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::NotFound);
  EXPECT_EQ(bad.error().message, "No such container: nosuch");
  EXPECT_TRUE(validate_container_filters({{"status", {"paused"}}}));
  auto f = ContainerFilter::parse({{"status", {"running"}}}, r);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->implies_all());
  auto exited = ContainerFilter::parse({{"exited", {"0"}}}, r);
  ASSERT_TRUE(exited);
  EXPECT_FALSE(exited->implies_all());
  // A value that is not a regexp still matches literally.
  EXPECT_EQ(run({{"name", {"web("}}}, all).size(), 0u);
}

TEST(ContainerFilters, PortsAndNetworks) {
  auto all = fixture();
  all[0].published_ports = {"80/tcp"};
  all[0].exposed_ports = {"80/tcp", "9000/tcp"};
  all[1].exposed_ports = {"53/udp"};
  NetworkEndpoint n;
  n.network_name = "backend";
  n.network_id = "0123456789ab";
  all[2].networks = {n};
  all[2].network_mode = "frontend";
  // The container's port, not the host's; tcp unless a protocol is given.
  EXPECT_EQ(run({{"publish", {"80"}}}, all), (std::vector<std::string>{"/web"}));
  EXPECT_EQ(run({{"publish", {"80/udp"}}}, all).size(), 0u);
  EXPECT_EQ(run({{"expose", {"9000/tcp"}}}, all), (std::vector<std::string>{"/web"}));
  EXPECT_EQ(run({{"expose", {"50-60/udp"}}}, all), (std::vector<std::string>{"/db"}));
  EXPECT_EQ(run({{"expose", {"8999-9001", "53/udp"}}}, all),
            (std::vector<std::string>{"/web", "/db"}));
  // Isolation: an exact match of what the create set ("" unless given).
  all[1].isolation = "default";
  EXPECT_EQ(run({{"isolation", {"default"}}}, all), (std::vector<std::string>{"/db"}));
  EXPECT_EQ(run({{"isolation", {"hyperv"}}}, all).size(), 0u);
  // A network it is connected to, by name or id prefix, as well as its mode.
  EXPECT_EQ(run({{"network", {"backend"}}}, all), (std::vector<std::string>{"/cache"}));
  EXPECT_EQ(run({{"network", {"01234"}}}, all), (std::vector<std::string>{"/cache"}));
  EXPECT_EQ(run({{"network", {"frontend"}}}, all), (std::vector<std::string>{"/cache"}));
  auto r = resolvers(all);
  auto bad = ContainerFilter::parse({{"publish", {"8080:80"}}}, r);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "filter for 'publish' should not contain ':': 8080:80");
  for (const char* v : {"abc", "90-80", "70000", "", "-1"}) {
    bad = ContainerFilter::parse({{"expose", {v}}}, r);
    ASSERT_FALSE(bad) << v;
    EXPECT_EQ(bad.error().code, Errc::InvalidArgument);
    EXPECT_NE(bad.error().message.find("error while looking up for expose"), std::string::npos);
  }
}

TEST(NamesGen, DockerStyle) {
  std::mt19937_64 rng(42);
  std::set<std::string> seen;
  std::regex shape("^[a-z]+_[a-z]+$");
  for (int i = 0; i < 200; ++i) {
    std::string n = generate_name(rng);
    EXPECT_TRUE(std::regex_match(n, shape)) << n;
    seen.insert(n);
  }
  EXPECT_GT(seen.size(), 150u);  // plenty of combinations
  std::string retry = generate_name(rng, 1);
  EXPECT_TRUE(std::regex_match(retry, std::regex("^[a-z]+_[a-z]+[0-9]$"))) << retry;
  EXPECT_NE(generate_name(), "");
}

}  // namespace
}  // namespace berth::engine
