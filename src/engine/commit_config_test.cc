#include "engine/commit_config.h"

#include <gtest/gtest.h>

namespace berth::engine {
namespace {

ContainerConfig container() {
  ContainerConfig c;
  c.user = "app";
  c.env = {"PATH=/usr/bin:/bin", "MODE=prod"};
  c.cmd = std::vector<std::string>{"serve", "--port", "80"};
  c.working_dir = "/srv";
  c.labels = {{"a", "1"}, {"b", "2"}};
  c.exposed_ports = {"80/tcp"};
  c.volumes = {"/data"};
  c.stop_signal = "SIGQUIT";
  HealthcheckConfig h;
  h.test = {"CMD", "true"};
  h.interval_ns = 5'000'000'000;
  h.retries = 4;
  c.healthcheck = h;
  return c;
}

TEST(CommitConfig, EmptyBodyFieldsComeFromTheContainer) {
  ContainerConfig body;
  body.env = {"MODE=dev", "EXTRA=1"};
  body.labels = {{"b", "body"}};
  body.exposed_ports = {"443/tcp"};
  HealthcheckConfig h;
  h.timeout_ns = 2'000'000'000;
  body.healthcheck = h;
  ContainerConfig m = merge_commit_config(body, container());
  EXPECT_EQ(m.user, "app");
  EXPECT_EQ(m.env, (std::vector<std::string>{"MODE=dev", "EXTRA=1", "PATH=/usr/bin:/bin"}));
  EXPECT_EQ(m.labels, (std::map<std::string, std::string>{{"a", "1"}, {"b", "body"}}));
  EXPECT_EQ(m.exposed_ports, (std::vector<std::string>{"443/tcp", "80/tcp"}));
  EXPECT_EQ(m.volumes, std::vector<std::string>{"/data"});
  ASSERT_TRUE(m.cmd.has_value());
  EXPECT_EQ(*m.cmd, (std::vector<std::string>{"serve", "--port", "80"}));
  EXPECT_EQ(m.working_dir, "/srv");
  EXPECT_EQ(m.stop_signal, "SIGQUIT");
  ASSERT_TRUE(m.healthcheck.has_value());
  EXPECT_EQ(m.healthcheck->test, (std::vector<std::string>{"CMD", "true"}));
  EXPECT_EQ(m.healthcheck->timeout_ns, 2'000'000'000);
  EXPECT_EQ(m.healthcheck->interval_ns, 5'000'000'000);
  EXPECT_EQ(m.healthcheck->retries, 4);
}

TEST(CommitConfig, BodyCommandAndEntrypointWin) {
  ContainerConfig body;
  body.cmd = std::vector<std::string>{"other"};
  ContainerConfig m = merge_commit_config(body, container());
  EXPECT_EQ(*m.cmd, std::vector<std::string>{"other"});
  ContainerConfig with_ep;
  with_ep.entrypoint = std::vector<std::string>{"/entry"};
  m = merge_commit_config(with_ep, container());
  EXPECT_EQ(*m.entrypoint, std::vector<std::string>{"/entry"});
  EXPECT_FALSE(m.cmd.has_value()) << "an entrypoint in the body keeps the body's (empty) cmd";
}

TEST(CommitConfig, ImageConfigJsonUsesDockersKeys) {
  Json j = image_config_json(container());
  EXPECT_EQ(j["User"], "app");
  EXPECT_EQ(j["Cmd"], (Json{"serve", "--port", "80"}));
  EXPECT_TRUE(j["ExposedPorts"].contains("80/tcp"));
  EXPECT_TRUE(j["Volumes"].contains("/data"));
  EXPECT_EQ(j["WorkingDir"], "/srv");
  EXPECT_EQ(j["StopSignal"], "SIGQUIT");
  EXPECT_EQ(j["Healthcheck"]["Test"], (Json{"CMD", "true"}));
  EXPECT_EQ(j["Healthcheck"]["Interval"], 5'000'000'000);
  EXPECT_EQ(j["Healthcheck"]["Retries"], 4);
  EXPECT_FALSE(j.contains("Entrypoint"));
  EXPECT_FALSE(j.contains("Shell"));
}

}  // namespace
}  // namespace berth::engine
