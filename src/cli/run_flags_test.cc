#include "cli/run_flags.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace berth::cli {
namespace {

Result<CreateRequest> parse(const std::vector<std::string>& argv, bool run = true,
                            std::optional<std::pair<int, int>> cs = {}) {
  FlagSet f;
  add_create_flags(f, run);
  auto pos = f.parse(argv, false);
  if (!pos) return pos.error();
  EnvLookup env = [](const std::string& k) -> std::optional<std::string> {
    if (k == "HOSTVAR") return std::string("fromhost");
    return std::nullopt;
  };
  return build_create_request(f, *pos, env, cs);
}

std::string temp_file(const std::string& text) {
  char tmpl[] = "/tmp/berth-run-flags-XXXXXX";
  int fd = mkstemp(tmpl);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  return tmpl;
}

TEST(RunFlags, FullFlagSetToCreateBody) {
  std::string envf = temp_file("# comment\n\nA=1\n  B=two words \nHOSTVAR\nMISSING\n");
  std::string labelf = temp_file("team=core\nflag\n");
  std::string seccomp = temp_file("{ \"defaultAction\" : \"SCMP_ACT_ALLOW\" }\n");
  auto r = parse({"-d",
                  "-i",
                  "-t",
                  "--name",
                  "web",
                  "-e",
                  "K=V",
                  "-e",
                  "HOSTVAR",
                  "-e",
                  "UNSET",
                  "--env-file",
                  envf,
                  "-w",
                  "/srv",
                  "-u",
                  "1000:1000",
                  "--entrypoint",
                  "/bin/sh",
                  "--hostname",
                  "box",
                  "--restart",
                  "on-failure:3",
                  "--memory",
                  "512m",
                  "--memory-swap",
                  "1g",
                  "--cpus",
                  "1.5",
                  "--cpu-shares",
                  "512",
                  "--cpuset-cpus",
                  "0-1",
                  "--pids-limit",
                  "100",
                  "--ulimit",
                  "nofile=1024:2048",
                  "--ulimit",
                  "nproc=64",
                  "--cap-add",
                  "net_admin",
                  "--cap-add",
                  "SYS_TIME",
                  "--cap-drop",
                  "MKNOD",
                  "--cap-drop",
                  "sys_time",
                  "--privileged",
                  "--security-opt",
                  "seccomp=" + seccomp,
                  "--security-opt",
                  "no-new-privileges",
                  "--read-only",
                  "--tmpfs",
                  "/run:rw,size=64m",
                  "--tmpfs",
                  "/tmp",
                  "--init",
                  "--health-cmd",
                  "true",
                  "--health-interval",
                  "30s",
                  "--health-timeout",
                  "5s",
                  "--health-retries",
                  "3",
                  "--health-start-period",
                  "1m30s",
                  "--health-start-interval",
                  "2s",
                  "--health-on-failure",
                  "restart",
                  "--stop-signal",
                  "SIGINT",
                  "--stop-timeout",
                  "20",
                  "--log-driver",
                  "json-file",
                  "--log-opt",
                  "max-size=1m",
                  "--label",
                  "a=b",
                  "--label",
                  "empty",
                  "--label-file",
                  labelf,
                  "--device",
                  "/dev/fuse:/dev/f:rw",
                  "--group-add",
                  "audio",
                  "--sysctl",
                  "net.ipv4.ip_forward=1",
                  "--shm-size",
                  "128m",
                  "--platform",
                  "linux/amd64",
                  "--pull",
                  "never",
                  "--detach-keys",
                  "ctrl-x,x",
                  "--sig-proxy=false",
                  "--runtime",
                  "crun",
                  "busybox:1",
                  "sh",
                  "-c",
                  "echo hi"},
                 true, std::make_pair(40, 120));
  unlink(envf.c_str());
  unlink(labelf.c_str());
  unlink(seccomp.c_str());
  ASSERT_TRUE(r) << r.error().message;
  const Json& b = r->body;
  EXPECT_EQ(r->name, "web");
  EXPECT_EQ(r->platform, "linux/amd64");
  EXPECT_EQ(r->pull, "never");
  EXPECT_TRUE(r->detach);
  EXPECT_FALSE(r->sig_proxy);
  EXPECT_EQ(b["Image"], "busybox:1");
  EXPECT_EQ(b["Cmd"], Json::array({"sh", "-c", "echo hi"}));
  EXPECT_EQ(b["Entrypoint"], Json::array({"/bin/sh"}));
  EXPECT_EQ(b["Env"], Json::array({"A=1", "B=two words ", "HOSTVAR=fromhost", "K=V",
                                   "HOSTVAR=fromhost", "UNSET"}));
  EXPECT_EQ(b["WorkingDir"], "/srv");
  EXPECT_EQ(b["User"], "1000:1000");
  EXPECT_EQ(b["Hostname"], "box");
  EXPECT_EQ(b["Tty"], true);
  EXPECT_EQ(b["OpenStdin"], true);
  // -d: nothing attached.
  EXPECT_EQ(b["AttachStdin"], false);
  EXPECT_EQ(b["AttachStdout"], false);
  EXPECT_EQ(b["StdinOnce"], false);
  EXPECT_EQ(b["StopSignal"], "SIGINT");
  EXPECT_EQ(b["StopTimeout"], 20);
  // A bare key in a label file is dropped (docker 28); on --label it is "".
  EXPECT_EQ(b["Labels"], (Json{{"a", "b"}, {"empty", ""}, {"team", "core"}}));
  const Json& hc = b["Healthcheck"];
  EXPECT_EQ(hc["Test"], Json::array({"CMD-SHELL", "true"}));
  EXPECT_EQ(hc["Interval"], 30000000000LL);
  EXPECT_EQ(hc["Timeout"], 5000000000LL);
  EXPECT_EQ(hc["StartPeriod"], 90000000000LL);
  EXPECT_EQ(hc["StartInterval"], 2000000000LL);
  EXPECT_EQ(hc["Retries"], 3);
  EXPECT_EQ(hc["OnFailure"], "restart");
  const Json& h = b["HostConfig"];
  EXPECT_EQ(h["RestartPolicy"], (Json{{"Name", "on-failure"}, {"MaximumRetryCount", 3}}));
  EXPECT_EQ(h["Memory"], 512LL * 1024 * 1024);
  EXPECT_EQ(h["MemorySwap"], 1024LL * 1024 * 1024);
  EXPECT_EQ(h["NanoCpus"], 1500000000LL);
  EXPECT_EQ(h["CpuShares"], 512);
  EXPECT_EQ(h["CpusetCpus"], "0-1");
  EXPECT_EQ(h["PidsLimit"], 100);
  EXPECT_EQ(h["Ulimits"], Json::parse(R"([{"Name":"nofile","Soft":1024,"Hard":2048},
                                           {"Name":"nproc","Soft":64,"Hard":64}])"));
  EXPECT_EQ(h["CapAdd"], Json::array({"CAP_NET_ADMIN"}));  // SYS_TIME is also dropped
  EXPECT_EQ(h["CapDrop"], Json::array({"CAP_MKNOD", "CAP_SYS_TIME"}));
  EXPECT_EQ(h["Privileged"], true);
  EXPECT_EQ(h["SecurityOpt"],
            Json::array({"seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}", "no-new-privileges"}));
  EXPECT_EQ(h["ReadonlyRootfs"], true);
  EXPECT_EQ(h["Tmpfs"], (Json{{"/run", "rw,size=64m"}, {"/tmp", ""}}));
  EXPECT_EQ(h["Init"], true);
  EXPECT_EQ(h["LogConfig"], (Json{{"Type", "json-file"}, {"Config", {{"max-size", "1m"}}}}));
  EXPECT_EQ(h["Devices"], Json::parse(R"([{"PathOnHost":"/dev/fuse","PathInContainer":"/dev/f",
                                           "CgroupPermissions":"rw"}])"));
  EXPECT_EQ(h["GroupAdd"], Json::array({"audio"}));
  EXPECT_EQ(h["Sysctls"], (Json{{"net.ipv4.ip_forward", "1"}}));
  EXPECT_EQ(h["ShmSize"], 128LL * 1024 * 1024);
  EXPECT_EQ(h["Runtime"], "crun");
  EXPECT_EQ(h["ConsoleSize"], Json::array({40, 120}));
  EXPECT_EQ(h["AutoRemove"], false);
}

TEST(RunFlags, DefaultsAttachAndCreate) {
  auto r = parse({"-i", "--rm", "busybox"});
  ASSERT_TRUE(r) << r.error().message;
  const Json& b = r->body;
  EXPECT_TRUE(b["Cmd"].is_null());
  EXPECT_TRUE(b["Entrypoint"].is_null());
  EXPECT_EQ(b["AttachStdin"], true);
  EXPECT_EQ(b["AttachStdout"], true);
  EXPECT_EQ(b["AttachStderr"], true);
  EXPECT_EQ(b["StdinOnce"], true);
  EXPECT_FALSE(b.contains("Healthcheck"));
  EXPECT_FALSE(b.contains("StopTimeout"));
  EXPECT_FALSE(b["HostConfig"].contains("PidsLimit"));
  EXPECT_EQ(b["HostConfig"]["AutoRemove"], true);
  EXPECT_EQ(b["HostConfig"]["RestartPolicy"]["Name"], "no");
  EXPECT_EQ(r->pull, "missing");
  EXPECT_TRUE(r->sig_proxy);

  auto e = parse({"--entrypoint", "", "-a", "stdout", "busybox", "ls"});
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->body["Entrypoint"], Json::array({""}));
  EXPECT_EQ(e->body["AttachStdout"], true);
  EXPECT_EQ(e->body["AttachStderr"], false);

  // Flags after the image belong to the command.
  auto c = parse({"busybox", "ls", "-l", "--rm"});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->body["Cmd"], Json::array({"ls", "-l", "--rm"}));
  EXPECT_EQ(c->body["HostConfig"]["AutoRemove"], false);

  auto n = parse({"--no-healthcheck", "busybox"});
  ASSERT_TRUE(n);
  EXPECT_EQ(n->body["Healthcheck"]["Test"], Json::array({"NONE"}));
}

void expect_error(const std::vector<std::string>& argv, const std::string& msg, bool value_error) {
  auto r = parse(argv);
  ASSERT_FALSE(r) << "accepted: " << argv[0];
  EXPECT_EQ(r.error().message, msg);
  EXPECT_EQ(is_flag_value_error(r.error()), value_error) << msg;
}

TEST(RunFlags, DockerErrorMessages) {
  expect_error({"-m", "abc", "busybox"},
               "invalid argument \"abc\" for \"-m, --memory\" flag: invalid size: 'abc'", true);
  expect_error({"--network", "bridge", "--network-alias", "a", "busybox"},
               "network-scoped aliases are only supported for user-defined networks", false);
  expect_error({"-m", "1x", "busybox"},
               "invalid argument \"1x\" for \"-m, --memory\" flag: invalid suffix: 'x'", true);
  expect_error({"--cpus", "abc", "busybox"},
               "invalid argument \"abc\" for \"--cpus\" flag: failed to parse abc as a rational "
               "number",
               true);
  expect_error({"--ulimit", "nofile", "busybox"},
               "invalid argument \"nofile\" for \"--ulimit\" flag: invalid ulimit argument: nofile",
               true);
  expect_error({"--ulimit", "nofile=2:1", "busybox"},
               "invalid argument \"nofile=2:1\" for \"--ulimit\" flag: ulimit soft limit must be "
               "less than or equal to hard limit: 2 > 1",
               true);
  expect_error({"--ulimit", "bogus=1", "busybox"},
               "invalid argument \"bogus=1\" for \"--ulimit\" flag: invalid ulimit type: bogus",
               true);
  expect_error({"--memory-swap", "x", "busybox"},
               "invalid argument \"x\" for \"--memory-swap\" flag: invalid size: 'x'", true);
  expect_error({"--health-interval", "x", "busybox"},
               "invalid argument \"x\" for \"--health-interval\" flag: time: invalid duration "
               "\"x\"",
               true);
  expect_error({"--sysctl", "foo", "busybox"},
               "invalid argument \"foo\" for \"--sysctl\" flag: sysctl 'foo' is not allowed", true);
  expect_error({"--restart", "always", "--rm", "busybox"},
               "conflicting options: cannot specify both --restart and --rm", false);
  expect_error({"--pull", "bogus", "busybox"},
               "invalid pull option: 'bogus': must be one of \"always\", \"missing\" or \"never\"",
               false);
  expect_error({"--security-opt", "bogus", "busybox"}, "Invalid --security-opt: \"bogus\"", false);
  expect_error({"--security-opt", "seccomp=/nonexistent/p.json", "busybox"},
               "opening seccomp profile (/nonexistent/p.json) failed: open /nonexistent/p.json: no "
               "such file or directory",
               false);
  expect_error({"--restart", "on-failure:x", "busybox"},
               "invalid restart policy format: maximum retry count must be an integer", false);
  expect_error({"--detach-keys", "ctrl-", "busybox"}, "Unknown character: 'ctrl-'", false);
  expect_error({"--no-healthcheck", "--health-cmd", "true", "busybox"},
               "--no-healthcheck conflicts with --health-* options", false);
  expect_error({"--no-healthcheck", "--health-start-interval", "1s", "busybox"},
               "--no-healthcheck conflicts with --health-* options", false);
  expect_error({"--health-start-interval", "-1s", "busybox"},
               "--health-start-interval cannot be negative", false);
  expect_error({"--storage-opt", "size", "busybox"}, "invalid storage option", false);
  expect_error({"-d", "-a", "stdout", "busybox"},
               "conflicting options: cannot specify both --attach and --detach", false);
  expect_error({"--pid", "container:", "busybox"}, "--pid: invalid PID mode", false);
  expect_error({"--ipc", "bogus", "busybox"}, "--ipc: invalid IPC mode", false);
  expect_error({"--uts", "container:x", "busybox"}, "--uts: invalid UTS mode", false);
  expect_error({"--userns", "private", "busybox"}, "--userns: invalid USER mode", false);
  expect_error({"--cgroupns", "x", "busybox"}, "--cgroupns: invalid CGROUP mode", false);
}

// Addresses and storage options berthd cannot give still reach it, so that
// its refusal names them (as dockerd's does) instead of the flag being unknown.
TEST(RunFlags, Ip6LinkLocalAndStorageOptReachTheDaemon) {
  auto r = parse({"--network", "n1", "--ip", "10.1.0.5", "--ip6", "2001:db8::33", "--link-local-ip",
                  "169.254.1.1", "--link-local-ip", "fe80::1", "--storage-opt", "size=1G",
                  "--storage-opt", "x=", "busybox"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body["NetworkingConfig"]["EndpointsConfig"]["n1"]["IPAMConfig"],
            Json::parse(R"({"IPv4Address":"10.1.0.5","IPv6Address":"2001:db8::33",
                            "LinkLocalIPs":["169.254.1.1","fe80::1"]})"));
  EXPECT_EQ(r->body["HostConfig"]["StorageOpt"], (Json{{"size", "1G"}, {"x", ""}}));
  auto plain = parse({"busybox"});
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_FALSE(plain->body["HostConfig"].contains("StorageOpt"));
  EXPECT_FALSE(plain->body.contains("NetworkingConfig") &&
               plain->body["NetworkingConfig"].contains("EndpointsConfig") &&
               !plain->body["NetworkingConfig"]["EndpointsConfig"].empty());
}

TEST(RunFlags, NamespaceModes) {
  auto r = parse({"--pid", "container:db", "--ipc", "shareable", "--uts", "host", "--userns",
                  "host", "--cgroupns", "private", "busybox"});
  ASSERT_TRUE(r) << r.error().message;
  const Json& hc = r->body["HostConfig"];
  EXPECT_EQ(hc["PidMode"], "container:db");
  EXPECT_EQ(hc["IpcMode"], "shareable");
  EXPECT_EQ(hc["UTSMode"], "host");
  EXPECT_EQ(hc["UsernsMode"], "host");
  EXPECT_EQ(hc["CgroupnsMode"], "private");
  r = parse({"--ipc", "container:db", "busybox"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body["HostConfig"]["IpcMode"], "container:db");
}

TEST(RunFlags, ValueParsers) {
  EXPECT_EQ(*parse_nano_cpus("0.5"), 500000000);
  EXPECT_EQ(*parse_nano_cpus("2"), 2000000000);
  EXPECT_EQ(*parse_nano_cpus("3/2"), 1500000000);
  EXPECT_EQ(*parse_nano_cpus("-1"), -1000000000);
  EXPECT_FALSE(parse_nano_cpus("1e"));
  EXPECT_EQ(*parse_detach_keys("ctrl-p,ctrl-q"), std::string("\x10\x11"));
  EXPECT_EQ(*parse_detach_keys("a,ctrl-@,ctrl-["), std::string("a\0\x1b", 3));
  EXPECT_EQ(*parse_detach_keys("ctrl-_"), std::string("\x1f"));
  EXPECT_FALSE(parse_detach_keys("ctrl-1"));
  EXPECT_FALSE(parse_detach_keys("ab"));
  EXPECT_EQ(*parse_flag_duration("1m30s"), 90000000000LL);
  EXPECT_FALSE(parse_flag_duration("1x"));
}

TEST(RunFlags, ResourceFlags) {
  auto r = parse({"--blkio-weight",
                  "300",
                  "--blkio-weight-device",
                  "/dev/sda:700",
                  "--device-read-bps",
                  "/dev/sda:1mb",
                  "--device-write-bps",
                  "/dev/sdb:512k",
                  "--device-read-iops",
                  "/dev/sda:100",
                  "--device-write-iops",
                  "/dev/sda:0",
                  "--cpu-period",
                  "50000",
                  "--cpu-quota",
                  "25000",
                  "--cpu-rt-period",
                  "1000000",
                  "--cpu-rt-runtime",
                  "950000",
                  "--device-cgroup-rule",
                  "c 1:3 rwm",
                  "--device-cgroup-rule",
                  "b *:* r",
                  "busybox"});
  ASSERT_TRUE(r) << r.error().message;
  const Json& hc = r->body["HostConfig"];
  EXPECT_EQ(hc["BlkioWeight"], 300);
  EXPECT_EQ(hc["BlkioWeightDevice"], Json::parse(R"([{"Path":"/dev/sda","Weight":700}])"));
  EXPECT_EQ(hc["BlkioDeviceReadBps"], Json::parse(R"([{"Path":"/dev/sda","Rate":1048576}])"));
  EXPECT_EQ(hc["BlkioDeviceWriteBps"], Json::parse(R"([{"Path":"/dev/sdb","Rate":524288}])"));
  EXPECT_EQ(hc["BlkioDeviceReadIOps"], Json::parse(R"([{"Path":"/dev/sda","Rate":100}])"));
  EXPECT_EQ(hc["BlkioDeviceWriteIOps"], Json::parse(R"([{"Path":"/dev/sda","Rate":0}])"));
  EXPECT_EQ(hc["CpuPeriod"], 50000);
  EXPECT_EQ(hc["CpuQuota"], 25000);
  EXPECT_EQ(hc["CpuRealtimePeriod"], 1000000);
  EXPECT_EQ(hc["CpuRealtimeRuntime"], 950000);
  EXPECT_EQ(hc["DeviceCgroupRules"], Json::parse(R"(["c 1:3 rwm","b *:* r"])"));

  r = parse({"busybox"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body["HostConfig"]["BlkioWeight"], 0);
  EXPECT_EQ(r->body["HostConfig"]["BlkioDeviceReadBps"], Json::array());
  EXPECT_TRUE(r->body["HostConfig"]["DeviceCgroupRules"].is_null());

  expect_error({"--blkio-weight", "70000", "busybox"},
               "invalid argument \"70000\" for \"--blkio-weight\" flag: strconv.ParseUint: "
               "parsing \"70000\": value out of range",
               true);
  expect_error({"--blkio-weight", "x", "busybox"},
               "invalid argument \"x\" for \"--blkio-weight\" flag: strconv.ParseUint: parsing "
               "\"x\": invalid syntax",
               true);
  expect_error({"--device-read-bps", "/dev/sda", "busybox"},
               "invalid argument \"/dev/sda\" for \"--device-read-bps\" flag: bad format: "
               "/dev/sda",
               true);
  expect_error({"--device-write-bps", ":1mb", "busybox"},
               "invalid argument \":1mb\" for \"--device-write-bps\" flag: bad format: :1mb", true);
  expect_error({"--device-read-iops", "sda:5", "busybox"},
               "invalid argument \"sda:5\" for \"--device-read-iops\" flag: bad format for "
               "device path: sda:5",
               true);
  expect_error({"--device-read-bps", "/dev/sda:fast", "busybox"},
               "invalid argument \"/dev/sda:fast\" for \"--device-read-bps\" flag: invalid rate "
               "for device: /dev/sda:fast. The correct format is <device-path>:<number>[<unit>]. "
               "Number must be a positive integer. Unit is optional and can be kb, mb, or gb",
               true);
  expect_error({"--device-write-iops", "/dev/sda:1k", "busybox"},
               "invalid argument \"/dev/sda:1k\" for \"--device-write-iops\" flag: invalid rate "
               "for device: /dev/sda:1k. The correct format is <device-path>:<number>. Number "
               "must be a positive integer",
               true);
  expect_error({"--blkio-weight-device", "/dev/sda:5", "busybox"},
               "invalid argument \"/dev/sda:5\" for \"--blkio-weight-device\" flag: invalid "
               "weight for device: /dev/sda:5",
               true);
  expect_error({"--device-cgroup-rule", "c 1:3", "busybox"},
               "invalid argument \"c 1:3\" for \"--device-cgroup-rule\" flag: invalid device "
               "cgroup format 'c 1:3'",
               true);
}

TEST(RunFlags, AnnotationIsolationVolumeDriverAndGpus) {
  auto r = parse({"--annotation", "a.b=c=d", "--annotation", "bare", "--isolation", "default",
                  "--volume-driver", "local", "--gpus", "all", "img"});
  ASSERT_TRUE(r) << r.error().message;
  const Json& hc = r->body["HostConfig"];
  EXPECT_EQ(hc["Annotations"], Json({{"a.b", "c=d"}, {"bare", ""}}));
  EXPECT_EQ(hc["Isolation"], "default");
  EXPECT_EQ(hc["VolumeDriver"], "local");
  EXPECT_EQ(hc["DeviceRequests"],
            Json::parse(R"([{"Driver":"","Count":-1,"DeviceIDs":null,"Capabilities":[["gpu"]],
                            "Options":{}}])"));
  auto plain = parse({"img"});
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->body["HostConfig"].contains("Annotations"));
  EXPECT_FALSE(plain->body["HostConfig"].contains("DeviceRequests"));
  EXPECT_EQ(plain->body["HostConfig"]["Isolation"], "");
  auto bad = parse({"--gpus", "foo=1", "img"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            R"(invalid argument "foo=1" for "--gpus" flag: unexpected key 'foo' in 'foo=1')");
  EXPECT_TRUE(is_flag_value_error(bad.error()));
}

TEST(RunFlags, GpusGrammar) {
  auto two = parse_gpus("2");
  ASSERT_TRUE(two);
  EXPECT_EQ((*two)["Count"], 2);
  auto ids = parse_gpus(R"("device=0,1",driver=nvidia,capabilities=compute)");
  ASSERT_TRUE(ids) << ids.error().message;
  EXPECT_EQ((*ids)["DeviceIDs"], Json({"0", "1"}));
  EXPECT_EQ((*ids)["Count"], 0);
  EXPECT_EQ((*ids)["Driver"], "nvidia");
  EXPECT_EQ((*ids)["Capabilities"], Json::parse(R"([["compute","gpu"]])"));
  auto count = parse_gpus("count=all,options=k=v");
  ASSERT_TRUE(count);
  EXPECT_EQ((*count)["Count"], -1);
  EXPECT_EQ((*count)["Options"], Json({{"k", "v"}}));
  auto both = parse_gpus("count=1,device=0");
  ASSERT_FALSE(both);
  EXPECT_EQ(both.error().message, "cannot set both Count and DeviceIDs on device request");
  EXPECT_FALSE(parse_gpus("count=x"));
  EXPECT_FALSE(parse_gpus("nonsense"));
}

}  // namespace
}  // namespace berth::cli
