// Member order of the answers: docker's clients print the raw JSON (docker
// inspect) or re-marshal its Go structs, so berthd writes members in the
// order of docker 28's structs, and sorted where docker's type is
// swagger-generated (image list, history, top, wait).
#include <gtest/gtest.h>

#include <algorithm>

#include "api/types/container_config.h"
#include "api/types/containers.h"
#include "api/types/events.h"
#include "api/types/images.h"
#include "api/types/system.h"

namespace berth::api {
namespace {

std::vector<std::string> keys(const OrderedJson& o) {
  std::vector<std::string> out;
  for (const auto& [k, v] : o.items()) out.push_back(k);
  return out;
}

// The members of `o` that are in `want`, in o's order, must be `want`:
// optional members may be missing, but none may be out of place.
void expect_order(const OrderedJson& o, const std::vector<std::string>& want) {
  std::vector<std::string> got;
  for (const auto& k : keys(o))
    if (std::find(want.begin(), want.end(), k) != want.end()) got.push_back(k);
  EXPECT_EQ(got, want);
}

ContainerInspect sample_container() {
  ContainerInspect c;
  c.id = std::string(64, 'a');
  c.path = "sh";
  c.state.status = "running";
  c.state.health_status = "healthy";
  c.config.image = "busybox";
  c.config.exposed_ports = {"80/tcp"};
  c.config.healthcheck = HealthcheckConfig{};
  c.config.healthcheck->test = {"CMD", "true"};
  c.config.labels = {{"z", "1"}, {"a", "2"}};
  c.host_config.annotations = {{"k", "v"}};
  c.host_config.tmpfs = {{"/t", ""}};
  c.host_config.resources.ulimits = {{"nofile", 100, 200}};
  c.size_rw = 1;
  c.size_root_fs = 2;
  c.sandbox_key = "/var/run/berth/netns/x";
  c.mounts.push_back({"volume", "v", "/src", "/dst", "local", "z", true, ""});
  EndpointSettings e;
  e.network_name = "bridge";
  c.networks.push_back(e);
  return c;
}

TEST(WireOrder, ContainerInspectFollowsDockersStructs) {
  auto j = encode_container_inspect(sample_container(), ApiVersion{1, 47});
  EXPECT_EQ(
      keys(j),
      (std::vector<std::string>{
          "Id",           "Created",         "Path",         "Args",       "State",
          "Image",        "ResolvConfPath",  "HostnamePath", "HostsPath",  "LogPath",
          "Name",         "RestartCount",    "Driver",       "Platform",   "MountLabel",
          "ProcessLabel", "AppArmorProfile", "ExecIDs",      "HostConfig", "GraphDriver",
          "SizeRw",       "SizeRootFs",      "Mounts",       "Config",     "NetworkSettings"}));
  expect_order(j["State"], {"Status", "Running", "Paused", "Restarting", "OOMKilled", "Dead", "Pid",
                            "ExitCode", "Error", "StartedAt", "FinishedAt", "Health"});
  expect_order(j["State"]["Health"], {"Status", "FailingStreak", "Log"});
  expect_order(j["Config"],
               {"Hostname", "Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr",
                "ExposedPorts", "Tty", "OpenStdin", "StdinOnce", "Env", "Cmd", "Healthcheck",
                "Image", "Volumes", "WorkingDir", "Entrypoint", "OnBuild", "Labels"});
  expect_order(j["HostConfig"], {"Binds",
                                 "ContainerIDFile",
                                 "LogConfig",
                                 "NetworkMode",
                                 "PortBindings",
                                 "RestartPolicy",
                                 "AutoRemove",
                                 "VolumeDriver",
                                 "VolumesFrom",
                                 "ConsoleSize",
                                 "Annotations",
                                 "CapAdd",
                                 "CapDrop",
                                 "CgroupnsMode",
                                 "Dns",
                                 "DnsOptions",
                                 "DnsSearch",
                                 "ExtraHosts",
                                 "GroupAdd",
                                 "IpcMode",
                                 "Cgroup",
                                 "Links",
                                 "OomScoreAdj",
                                 "PidMode",
                                 "Privileged",
                                 "PublishAllPorts",
                                 "ReadonlyRootfs",
                                 "SecurityOpt",
                                 "Tmpfs",
                                 "UTSMode",
                                 "UsernsMode",
                                 "ShmSize",
                                 "Runtime",
                                 "Isolation",
                                 "CpuShares",
                                 "Memory",
                                 "NanoCpus",
                                 "CgroupParent",
                                 "BlkioWeight",
                                 "CpuPeriod",
                                 "CpuQuota",
                                 "Devices",
                                 "MemoryReservation",
                                 "MemorySwap",
                                 "PidsLimit",
                                 "Ulimits",
                                 "CpuCount",
                                 "CpuPercent",
                                 "IOMaximumIOps",
                                 "IOMaximumBandwidth",
                                 "MaskedPaths",
                                 "ReadonlyPaths"});
  expect_order(j["HostConfig"]["LogConfig"], {"Type", "Config"});
  expect_order(j["HostConfig"]["RestartPolicy"], {"Name", "MaximumRetryCount"});
  expect_order(j["HostConfig"]["Ulimits"][0], {"Name", "Hard", "Soft"});
  expect_order(j["GraphDriver"], {"Data", "Name"});
  expect_order(j["Mounts"][0],
               {"Type", "Name", "Source", "Destination", "Driver", "Mode", "RW", "Propagation"});
  expect_order(
      j["NetworkSettings"],
      {"Bridge", "SandboxID", "SandboxKey", "Ports", "SecondaryIPAddresses",
       "SecondaryIPv6Addresses", "EndpointID", "Gateway", "GlobalIPv6Address",
       "GlobalIPv6PrefixLen", "IPAddress", "IPPrefixLen", "IPv6Gateway", "MacAddress", "Networks"});
  expect_order(j["NetworkSettings"]["Networks"]["bridge"],
               {"IPAMConfig", "Links", "Aliases", "MacAddress", "DriverOpts", "NetworkID",
                "EndpointID", "Gateway", "IPAddress", "IPPrefixLen", "IPv6Gateway",
                "GlobalIPv6Address", "GlobalIPv6PrefixLen"});
  // Before 1.44 (docker 20.10's order) Ports came before SandboxKey.
  auto old = encode_container_inspect(sample_container(), ApiVersion{1, 41});
  expect_order(old["NetworkSettings"],
               {"Bridge", "SandboxID", "HairpinMode", "Ports", "SandboxKey"});
  // Members that are maps in docker's types come sorted, as Go writes maps,
  // whatever order berth holds them in.
  EXPECT_EQ(keys(j["Config"]["Labels"]), (std::vector<std::string>{"a", "z"}));
  auto c = sample_container();
  c.config.exposed_ports = {"9000/tcp", "53/udp", "80/tcp"};
  c.config.volumes = {"/z", "/a"};
  EndpointSettings other;
  other.network_name = "alpha";
  c.networks.push_back(other);
  auto m = encode_container_inspect(c, ApiVersion{1, 47});
  EXPECT_EQ(keys(m["Config"]["ExposedPorts"]),
            (std::vector<std::string>{"53/udp", "80/tcp", "9000/tcp"}));
  EXPECT_EQ(keys(m["Config"]["Volumes"]), (std::vector<std::string>{"/a", "/z"}));
  EXPECT_EQ(keys(m["NetworkSettings"]["Networks"]), (std::vector<std::string>{"alpha", "bridge"}));
  ContainerSummary row;
  row.networks = c.networks;
  EXPECT_EQ(
      keys(encode_container_summary(row, ApiVersion{1, 47}, 0)["NetworkSettings"]["Networks"]),
      (std::vector<std::string>{"alpha", "bridge"}));
}

TEST(WireOrder, ImageInspectAndItsConfig) {
  ImageInspect i;
  i.id = "sha256:x";
  i.config =
      Json{{"Cmd", {"sh"}}, {"Env", {"A=1"}}, {"Labels", nullptr}, {"WorkingDir", "/"}, {"Zzz", 1}};
  auto j = encode_image_inspect(i, ApiVersion{1, 47});
  expect_order(
      j, {"Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "DockerVersion",
          "Author", "Config", "Architecture", "Os", "Size", "GraphDriver", "RootFS", "Metadata"});
  // Known members in docker's Config order, others after them.
  EXPECT_EQ(keys(j["Config"]),
            (std::vector<std::string>{"Env", "Cmd", "WorkingDir", "Labels", "Zzz"}));
  EXPECT_EQ(keys(j["ContainerConfig"]), keys(j["Config"]));
  expect_order(j["GraphDriver"], {"Data", "Name"});
  expect_order(j["RootFS"], {"Type", "Layers"});
}

TEST(WireOrder, SwaggerTypesAreSorted) {
  ImageSummary s;
  s.id = "sha256:x";
  auto row = encode_image_summary(s, ApiVersion{1, 47});
  auto k = keys(row);
  EXPECT_TRUE(std::is_sorted(k.begin(), k.end())) << row.dump();
  EXPECT_EQ(k.front(), "Containers");
  auto h = encode_history({{"sha256:x", 3, "CMD", {"a:b"}, 5, "c"}});
  k = keys(h[0]);
  EXPECT_TRUE(std::is_sorted(k.begin(), k.end())) << h.dump();
  EXPECT_EQ(keys(encode_top({"PID"}, {{"1"}})), (std::vector<std::string>{"Processes", "Titles"}));
  EXPECT_EQ(keys(encode_wait_response(0, "")), (std::vector<std::string>{"Error", "StatusCode"}));
}

TEST(WireOrder, StatsExecAndEvents) {
  StatsSample s;
  s.name = "/c";
  s.id = "x";
  s.percpu = {1, 2};
  s.networks.push_back(StatsNet{"eth1", 0, 0, 0, 0, 0, 0, 0, 0});
  s.networks.push_back(StatsNet{"eth0", 1, 2, 0, 0, 3, 4, 0, 0});
  auto j = encode_stats(s, ApiVersion{1, 47});
  expect_order(j, {"name", "id", "read", "preread", "pids_stats", "blkio_stats", "num_procs",
                   "storage_stats", "cpu_stats", "precpu_stats", "memory_stats", "networks"});
  expect_order(j["cpu_stats"]["cpu_usage"],
               {"total_usage", "percpu_usage", "usage_in_kernelmode", "usage_in_usermode"});
  EXPECT_EQ(keys(j["networks"]), (std::vector<std::string>{"eth0", "eth1"}));
  expect_order(j["networks"]["eth0"], {"rx_bytes", "rx_packets", "rx_errors", "rx_dropped",
                                       "tx_bytes", "tx_packets", "tx_errors", "tx_dropped"});

  ExecInspect e;
  e.cmd = {"sh", "-c", "true"};
  auto x = encode_exec_inspect(e);
  expect_order(x, {"ID", "Running", "ExitCode", "ProcessConfig", "OpenStdin", "OpenStderr",
                   "OpenStdout", "CanRemove", "ContainerID", "DetachKeys", "Pid"});
  EXPECT_EQ(keys(x["ProcessConfig"]),
            (std::vector<std::string>{"tty", "entrypoint", "arguments", "privileged"}));
  e.user = "1000";  // "user" is omitempty
  expect_order(encode_exec_inspect(e)["ProcessConfig"],
               {"tty", "entrypoint", "arguments", "privileged", "user"});

  EventMessage m{"container", "start", "abc", {{"image", "busybox"}}, "local", 5};
  EXPECT_EQ(keys(encode_event(m, ApiVersion{1, 47})),
            (std::vector<std::string>{"status", "id", "from", "Type", "Action", "Actor", "scope",
                                      "time", "timeNano"}));
}

TEST(WireOrder, VersionAndInfo) {
  VersionInfo v;
  v.version = "0.1.0";
  auto j = encode_version(v);
  EXPECT_EQ(keys(j), (std::vector<std::string>{"Platform", "Components", "Version", "ApiVersion",
                                               "MinAPIVersion", "GitCommit", "GoVersion", "Os",
                                               "Arch", "KernelVersion"}));
  v.experimental = true;
  v.build_time = "2026-12-05T00:00:00Z";
  j = encode_version(v);
  expect_order(j, {"Platform", "KernelVersion", "Experimental", "BuildTime"});
  SystemInfo i;
  auto info = encode_info(i, ApiVersion{1, 47});
  expect_order(info, {"ID",
                      "Containers",
                      "ContainersRunning",
                      "Images",
                      "Driver",
                      "Plugins",
                      "MemoryLimit",
                      "Debug",
                      "SystemTime",
                      "KernelVersion",
                      "RegistryConfig",
                      "NCPU",
                      "Name",
                      "ServerVersion",
                      "Runtimes",
                      "DefaultRuntime",
                      "Swarm",
                      "LiveRestoreEnabled",
                      "SecurityOptions",
                      "CDISpecDirs",
                      "Warnings"});
  EXPECT_EQ(keys(info).back(), "Warnings");
  expect_order(info["Plugins"], {"Volume", "Network", "Authorization", "Log"});
}

}  // namespace
}  // namespace berth::api
