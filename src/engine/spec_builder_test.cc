#include "engine/spec_builder.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "engine/spec_builder_internal.h"

namespace berth::engine {
namespace {

namespace si = spec_internal;

const std::string kId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

SpecInput base_input() {
  SpecInput in;
  in.id = kId;
  in.config.cmd = std::vector<std::string>{"sh", "-c", "echo hi"};
  in.hostname_path = "/var/lib/berth/containers/x/hostname";
  in.hosts_path = "/var/lib/berth/containers/x/hosts";
  in.resolv_conf_path = "/var/lib/berth/containers/x/resolv.conf";
  in.host_nofile_hard = 20000;
  in.cap_last_cap = 40;
  in.arch = "amd64";
  in.rootfs_reader = [](const std::string& p) -> Result<std::string> {
    if (p == "/etc/passwd")
      return std::string("root:x:0:0:root:/root:/bin/sh\napp:x:100:101::/home/app:/bin/sh\n");
    if (p == "/etc/group") return std::string("root:x:0:\napp:x:101:\nstaff:x:50:app\n");
    return make_error(Errc::NotFound, "{}", p);
  };
  return in;
}

const oci::Mount* find_mount(const oci::Spec& s, const std::string& dest) {
  for (auto& m : s.mounts)
    if (m.destination == dest) return &m;
  return nullptr;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool has_ns(const oci::Spec& s, const std::string& type) {
  for (auto& n : s.linux->namespaces)
    if (n.type == type) return true;
  return false;
}

TEST(SpecBuilder, DockerDefaults) {
  auto r = build_spec(base_input());
  ASSERT_TRUE(r) << r.error().message;
  const oci::Spec& s = *r;
  EXPECT_EQ(s.hostname, "0123456789ab");
  EXPECT_EQ(s.root->path, "rootfs");
  EXPECT_FALSE(s.root->readonly);
  ASSERT_TRUE(s.process);
  EXPECT_EQ(s.process->args, (std::vector<std::string>{"sh", "-c", "echo hi"}));
  EXPECT_EQ(s.process->cwd, "/");
  EXPECT_EQ(s.process->user.uid, 0u);
  EXPECT_TRUE(has(s.process->env, kDefaultPath));
  EXPECT_TRUE(has(s.process->env, "HOSTNAME=0123456789ab"));
  EXPECT_TRUE(has(s.process->env, "HOME=/root"));
  EXPECT_EQ(s.process->capabilities->bounding, si::docker_default_capabilities());
  EXPECT_EQ(s.process->capabilities->effective, si::docker_default_capabilities());
  EXPECT_TRUE(s.process->capabilities->inheritable.empty());
  EXPECT_TRUE(s.process->capabilities->ambient.empty());
  EXPECT_EQ(s.process->oom_score_adj, 0);
  EXPECT_TRUE(s.process->apparmor_profile.empty());
  EXPECT_FALSE(s.process->no_new_privileges);
  // nofile 1024:524288 capped at the host's hard limit (20000 here).
  ASSERT_EQ(s.process->rlimits.size(), 1u);
  EXPECT_EQ(s.process->rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(s.process->rlimits[0].soft, 1024u);
  EXPECT_EQ(s.process->rlimits[0].hard, 20000u);
  // Namespaces: pid ipc uts mount network, cgroup on v2.
  for (auto t : {"pid", "ipc", "uts", "mount", "network", "cgroup"}) EXPECT_TRUE(has_ns(s, t)) << t;
  EXPECT_FALSE(has_ns(s, "user"));
  EXPECT_EQ(s.linux->cgroups_path, "/berth/" + kId);
  ASSERT_TRUE(s.linux->seccomp);
  EXPECT_EQ(s.linux->seccomp->default_action, "SCMP_ACT_ERRNO");
  EXPECT_TRUE(has(s.linux->masked_paths, "/proc/kcore"));
  EXPECT_TRUE(has(s.linux->masked_paths, "/sys/firmware"));
  EXPECT_TRUE(has(s.linux->readonly_paths, "/proc/sys"));
  // Mounts.
  auto shm = find_mount(s, "/dev/shm");
  ASSERT_TRUE(shm);
  EXPECT_TRUE(has(shm->options, "size=67108864"));
  auto sys = find_mount(s, "/sys");
  ASSERT_TRUE(sys);
  EXPECT_TRUE(has(sys->options, "ro"));
  auto cg = find_mount(s, "/sys/fs/cgroup");
  ASSERT_TRUE(cg);
  EXPECT_TRUE(has(cg->options, "ro"));
  for (auto d : {"/proc", "/dev", "/dev/pts", "/dev/mqueue"}) EXPECT_TRUE(find_mount(s, d)) << d;
  auto hosts = find_mount(s, "/etc/hosts");
  ASSERT_TRUE(hosts);
  EXPECT_EQ(hosts->source, "/var/lib/berth/containers/x/hosts");
  EXPECT_TRUE(has(hosts->options, "rbind"));
  EXPECT_TRUE(find_mount(s, "/etc/hostname"));
  EXPECT_TRUE(find_mount(s, "/etc/resolv.conf"));
  // Devices: deny all first, then docker's allow list.
  auto& rules = s.linux->resources->devices;
  ASSERT_FALSE(rules.empty());
  EXPECT_FALSE(rules[0].allow);
  EXPECT_EQ(rules[0].access, "rwm");
  bool null_ok = std::any_of(rules.begin(), rules.end(), [](const oci::DeviceCgroupRule& d) {
    return d.allow && d.type == "c" && d.major == 1 && d.minor == 3;
  });
  EXPECT_TRUE(null_ok);
}

TEST(SpecBuilder, AnnotationsGoToTheRuntime) {
  auto plain = build_spec(base_input());
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->annotations.empty());
  auto in = base_input();
  in.host_config.annotations = {{"com.example.k", "v"}, {"empty", ""}};
  auto r = build_spec(in);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->annotations, in.host_config.annotations);
}

TEST(SpecBuilder, NofileUsesDefaultWhenHostAllowsMore) {
  auto in = base_input();
  in.host_nofile_hard = 1048576;
  auto r = build_spec(in);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->process->rlimits[0].hard, 524288u);
  in.host_nofile_hard = 512;  // even smaller than the soft default: never an error
  r = build_spec(in);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->process->rlimits[0].hard, 512u);
  EXPECT_EQ(r->process->rlimits[0].soft, 512u);
}

TEST(SpecBuilder, Ulimits) {
  auto in = base_input();
  in.host_config.resources.ulimits = {{"nofile", 100, 200}, {"nproc", -1, -1}};
  auto r = build_spec(in);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->process->rlimits.size(), 2u);
  EXPECT_EQ(r->process->rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(r->process->rlimits[0].soft, 100u);
  EXPECT_EQ(r->process->rlimits[1].type, "RLIMIT_NPROC");
  EXPECT_EQ(r->process->rlimits[1].hard, UINT64_MAX);
  in.host_config.resources.ulimits = {{"nofiles", 1, 1}};
  auto bad = build_spec(in);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("--ulimit"), std::string::npos);
  in.host_config.resources.ulimits = {{"nofile", 10, 5}};
  EXPECT_FALSE(build_spec(in));
}

TEST(SpecBuilder, CapAddDrop) {
  auto caps =
      container_capabilities({"net_admin", "CAP_SYS_TIME"}, {"chown", "CAP_KILL"}, false, 40);
  ASSERT_TRUE(caps);
  EXPECT_TRUE(has(*caps, "CAP_NET_ADMIN"));
  EXPECT_TRUE(has(*caps, "CAP_SYS_TIME"));
  EXPECT_FALSE(has(*caps, "CAP_CHOWN"));
  EXPECT_FALSE(has(*caps, "CAP_KILL"));
  EXPECT_TRUE(has(*caps, "CAP_SETUID"));
  auto all_but = container_capabilities({"ALL"}, {"SYS_ADMIN"}, false, 40);
  ASSERT_TRUE(all_but);
  EXPECT_EQ(all_but->size(), 40u);
  EXPECT_FALSE(has(*all_but, "CAP_SYS_ADMIN"));
  auto only = container_capabilities({"NET_BIND_SERVICE"}, {"all"}, false, 40);
  ASSERT_TRUE(only);
  EXPECT_EQ(*only, (std::vector<std::string>{"CAP_NET_BIND_SERVICE"}));
  auto priv = container_capabilities({}, {}, true, 37);
  ASSERT_TRUE(priv);
  EXPECT_EQ(priv->size(), 38u);  // kernel's caps 0..37
  auto bad = container_capabilities({"FOO"}, {}, false, 40);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::InvalidArgument);
  EXPECT_EQ(bad.error().message, "unknown capability: \"CAP_FOO\"");
  // In the spec, CAP_SYS_ADMIN also opens mount in the seccomp profile.
  auto in = base_input();
  in.host_config.cap_add = {"SYS_ADMIN"};
  auto r = build_spec(in);
  ASSERT_TRUE(r);
  bool mount_allowed = false;
  for (auto& sc : r->linux->seccomp->syscalls) {
    if (has(sc.names, "mount") && sc.action == "SCMP_ACT_ALLOW") mount_allowed = true;
  }
  EXPECT_TRUE(mount_allowed);
}

// A daemon whose own bounding set lacks some capabilities (a sandbox, or a
// host that withholds CAP_SYS_RESOURCE from root).
TEST(SpecBuilder, CapabilitiesOutsideTheDaemonsBoundingSet) {
  constexpr int kSysResource = 24, kNetRaw = 13;
  const uint64_t grantable = ((1ull << 41) - 1) & ~(1ull << kSysResource) & ~(1ull << kNetRaw);
  auto priv = container_capabilities({}, {}, true, 40, grantable);
  ASSERT_TRUE(priv);
  EXPECT_EQ(priv->size(), 39u);
  EXPECT_FALSE(has(*priv, "CAP_SYS_RESOURCE"));
  auto all = container_capabilities({"ALL"}, {}, false, 40, grantable);
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, *priv);
  // A default (CAP_NET_RAW) the daemon cannot grant is left out, the rest stay.
  auto def = container_capabilities({}, {}, false, 40, grantable);
  ASSERT_TRUE(def);
  EXPECT_FALSE(has(*def, "CAP_NET_RAW"));
  EXPECT_TRUE(has(*def, "CAP_CHOWN"));
  EXPECT_EQ(def->size(), 13u);
  // Named in --cap-add: refused, naming it, whatever the spelling.
  for (const char* name : {"SYS_RESOURCE", "cap_sys_resource"}) {
    auto bad = container_capabilities({"NET_ADMIN", name}, {}, false, 40, grantable);
    ASSERT_FALSE(bad) << name;
    EXPECT_EQ(bad.error().code, Errc::InvalidArgument);
    EXPECT_NE(bad.error().message.find("cannot add capability CAP_SYS_RESOURCE"), std::string::npos)
        << bad.error().message;
  }
  // Beyond the kernel's last capability is the same case.
  auto newer = container_capabilities({"CHECKPOINT_RESTORE"}, {}, false, 38, ~0ull);
  ASSERT_FALSE(newer);
  EXPECT_NE(newer.error().message.find("CAP_CHECKPOINT_RESTORE"), std::string::npos);
  // Added and dropped: docker's add wins, so it is still asked for.
  EXPECT_FALSE(container_capabilities({"SYS_RESOURCE"}, {"SYS_RESOURCE"}, false, 40, grantable));
}

TEST(SpecBuilder, Privileged) {
  auto in = base_input();
  in.host_config.privileged = true;
  in.host_config.cap_drop = {"CHOWN"};  // ignored, as docker does
  auto r = build_spec(in);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->process->capabilities->bounding.size(), 41u);
  EXPECT_FALSE(r->linux->seccomp);
  EXPECT_TRUE(r->linux->masked_paths.empty());
  EXPECT_TRUE(r->linux->readonly_paths.empty());
  EXPECT_TRUE(has(find_mount(*r, "/sys")->options, "rw"));
  EXPECT_TRUE(has(find_mount(*r, "/sys/fs/cgroup")->options, "rw"));
  auto& rules = r->linux->resources->devices;
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_TRUE(rules[0].allow);
  EXPECT_EQ(rules[0].type, "a");
  // The host's devices are listed (this test host has /dev/null at least).
  bool null_dev = std::any_of(r->linux->devices.begin(), r->linux->devices.end(),
                              [](const oci::Device& d) { return d.path == "/dev/null"; });
  EXPECT_TRUE(null_dev);
}

TEST(SpecBuilder, SecurityOpts) {
  auto in = base_input();
  in.host_config.security_opt = {"seccomp=unconfined", "no-new-privileges"};
  auto r = build_spec(in);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->linux->seccomp);
  EXPECT_TRUE(r->process->no_new_privileges);
  in.host_config.security_opt = {"no-new-privileges:false", "apparmor=unconfined",
                                 "systempaths=unconfined"};
  r = build_spec(in);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->process->no_new_privileges);
  EXPECT_TRUE(r->linux->seccomp);
  EXPECT_TRUE(r->linux->masked_paths.empty());
  in.host_config.security_opt = {
      R"(seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]})"};
  r = build_spec(in);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->linux->seccomp->default_action, "SCMP_ACT_ALLOW");
  ASSERT_EQ(r->linux->seccomp->syscalls.size(), 1u);
  in.host_config.security_opt = {R"(seccomp={"syscalls":[]})"};
  auto bad = build_spec(in);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("--security-opt seccomp"), std::string::npos);
  EXPECT_NE(bad.error().message.find("defaultAction"), std::string::npos);
  in.host_config.security_opt = {"bogus=1"};
  bad = build_spec(in);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "Invalid --security-opt: \"bogus=1\"");
}

TEST(SpecBuilder, MemoryAndCpu) {
  auto in = base_input();
  auto& res = in.host_config.resources;
  res.memory = 64 << 20;
  auto r = build_spec(in);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->linux->resources->memory->limit, 64 << 20);
  EXPECT_EQ(r->linux->resources->memory->swap, 128 << 20);  // docker's 2x default
  res.memory_swap = -1;
  r = build_spec(in);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->linux->resources->memory->swap, -1);
  res.memory_swap = 100 << 20;
  r = build_spec(in);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->linux->resources->memory->swap, 100 << 20);
  res.memory_swap = 32 << 20;
  auto bad = build_spec(in);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "Minimum memoryswap limit should be larger than memory limit, see usage");
  res.memory = 1 << 20;
  res.memory_swap = 0;
  bad = build_spec(in);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "Minimum memory limit allowed is 6MB");
  res.memory = 0;
  res.memory_swap = 100 << 20;
  bad = build_spec(in);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("always set the Memory limit"), std::string::npos);
  res.memory_swap = 0;

  res.nano_cpus = 500'000'000;  // --cpus 0.5
  res.cpu_shares = 512;
  res.pids_limit = 100;
  res.blkio_weight = 300;
  res.cpuset_cpus = "0";
  r = build_spec(in);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->linux->resources->cpu->period, 100000u);
  EXPECT_EQ(r->linux->resources->cpu->quota, 50000);
  EXPECT_EQ(r->linux->resources->cpu->shares, 512u);
  EXPECT_EQ(r->linux->resources->cpu->cpus, "0");
  EXPECT_EQ(r->linux->resources->pids->limit, 100);
  EXPECT_EQ(r->linux->resources->block_io->weight, 300);
  res.cpu_period = 50000;
  bad = build_spec(in);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "Conflicting options: Nano CPUs and CPU Period cannot both be set");
  res.cpu_period = 0;
  res.nano_cpus = 1000LL * 1'000'000'000;
  bad = build_spec(in);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("Range of CPUs is from 0.01"), std::string::npos);
  res.nano_cpus = 0;
  res.blkio_weight = 5;
  bad = build_spec(in);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "Range of blkio weight is from 10 to 1000");
  res.blkio_weight = 0;
  res.cpuset_cpus = "0-x";
  EXPECT_FALSE(build_spec(in));
  res.cpuset_cpus = "";
  res.pids_limit = -1;
  r = build_spec(in);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->linux->resources->pids->limit, -1);
}

TEST(SpecBuilder, CpusetAgainstTheHostsOnlineIds) {
  EXPECT_TRUE(si::check_cpuset("0-1", "cpus", "0-1"));
  EXPECT_TRUE(si::check_cpuset("1,3", "cpus", "0-1,3"));
  EXPECT_TRUE(si::check_cpuset("", "mems", "0"));
  EXPECT_TRUE(si::check_cpuset("7", "cpus", ""));  // host list unknown: syntax only
  auto r = si::check_cpuset("99", "cpus", "0-1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_EQ(r.error().message, "Requested CPUs are not available - requested 99, available: 0-1");
  r = si::check_cpuset("2", "cpus", "0-1,3");  // a hole in the host's list
  ASSERT_FALSE(r);
  r = si::check_cpuset("5", "mems", "0");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "Requested memory nodes are not available - requested 5, available: 0");
  for (const char* bad : {"0-x", "3-1", "-1", "1,,2", "0-1-2", "0-99999999"}) {
    r = si::check_cpuset(bad, "cpus", "0-1");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message, fmt::format("Invalid value {} for cpuset cpus", bad));
  }
}

TEST(SpecBuilder, DeviceRules) {
  auto rule = si::parse_device_cgroup_rule("c 1:3 rwm");
  ASSERT_TRUE(rule);
  EXPECT_EQ(rule->type, "c");
  EXPECT_EQ(rule->major, 1);
  EXPECT_EQ(rule->minor, 3);
  auto wild = si::parse_device_cgroup_rule("a *:* r");
  ASSERT_TRUE(wild);
  EXPECT_FALSE(wild->major);
  EXPECT_FALSE(si::parse_device_cgroup_rule("x 1:3 rwm"));
  EXPECT_FALSE(si::parse_device_cgroup_rule("c 1:3 rwx"));
  EXPECT_FALSE(si::parse_device_cgroup_rule("c 13 rwm"));
  auto in = base_input();
  in.host_config.resources.devices = {{"/dev/null", "/dev/mynull", "rw"}};
  in.host_config.resources.device_cgroup_rules = {"c 42:* rmw"};
  auto r = build_spec(in);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->linux->devices.size(), 1u);
  EXPECT_EQ(r->linux->devices[0].path, "/dev/mynull");
  EXPECT_EQ(r->linux->devices[0].major, 1);
  EXPECT_EQ(r->linux->devices[0].minor, 3);
  auto& rules = r->linux->resources->devices;
  EXPECT_EQ(rules.back().major, 42);
  in.host_config.resources.devices = {{"/dev/does-not-exist", "", "rwm"}};
  auto bad = build_spec(in);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("error gathering device information"), std::string::npos);
}

TEST(SpecBuilder, Sysctls) {
  auto in = base_input();
  in.host_config.sysctls = {{"net.ipv4.ip_forward", "1"}, {"kernel.shmmax", "1000"}};
  EXPECT_TRUE(build_spec(in));
  in.host_config.sysctls = {{"kernel.panic", "1"}};
  auto bad = build_spec(in);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("kernel.panic"), std::string::npos);
  EXPECT_NE(bad.error().message.find("--sysctl"), std::string::npos);
  in.host_config.sysctls = {{"net.core.somaxconn", "1"}};
  in.host_config.network_mode = "host";
  EXPECT_FALSE(build_spec(in));
}

TEST(SpecBuilder, TmpfsShmReadOnlyInit) {
  auto in = base_input();
  in.host_config.tmpfs = {{"/run", "exec,size=10m"}, {"/run/x", ""}};
  in.host_config.shm_size = 1 << 20;
  in.host_config.readonly_rootfs = true;
  in.host_config.init = true;
  in.init_path = "/usr/libexec/berth/berth-init";
  auto r = build_spec(in);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->root->readonly);
  auto run = find_mount(*r, "/run");
  ASSERT_TRUE(run);
  EXPECT_EQ(run->type, "tmpfs");
  EXPECT_EQ(run->options, (std::vector<std::string>{"nosuid", "nodev", "exec", "size=10m"}));
  EXPECT_EQ(find_mount(*r, "/run/x")->options,
            (std::vector<std::string>{"noexec", "nosuid", "nodev"}));
  EXPECT_TRUE(has(find_mount(*r, "/dev/shm")->options, "size=1048576"));
  EXPECT_TRUE(has(find_mount(*r, "/etc/hosts")->options, "ro"));
  auto init = find_mount(*r, kInitPathInContainer);
  ASSERT_TRUE(init);
  EXPECT_EQ(init->source, "/usr/libexec/berth/berth-init");
  EXPECT_EQ(r->process->args,
            (std::vector<std::string>{kInitPathInContainer, "--", "sh", "-c", "echo hi"}));
  // --tmpfs /dev/shm replaces the shm mount.
  in.host_config.tmpfs = {{"/dev/shm", "size=1m"}};
  r = build_spec(in);
  ASSERT_TRUE(r);
  EXPECT_EQ(find_mount(*r, "/dev/shm")->source, "tmpfs");
  EXPECT_EQ(std::count_if(r->mounts.begin(), r->mounts.end(),
                          [](const oci::Mount& m) { return m.destination == "/dev/shm"; }),
            1);
  in.host_config.tmpfs = {{"relative", ""}};
  EXPECT_FALSE(build_spec(in));
  in.host_config.tmpfs = {{"/x", "bogus"}};
  EXPECT_FALSE(build_spec(in));
  in.host_config.tmpfs = {};
  in.host_config.shm_size = -1;
  EXPECT_FALSE(build_spec(in));
  in.host_config.shm_size = 0;
  in.init_path = "";
  EXPECT_FALSE(build_spec(in));
}

TEST(SpecBuilder, UserEnvCwdAndNamespacesModes) {
  auto in = base_input();
  in.config.user = "app";
  in.config.env = {"FOO=bar", "PATH=/custom"};
  in.config.tty = true;
  in.config.working_dir = "/work";
  in.host_config.group_add = {"staff", "77"};
  auto r = build_spec(in);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->process->user.uid, 100u);
  EXPECT_EQ(r->process->user.gid, 101u);
  EXPECT_EQ(r->process->user.additional_gids, (std::vector<uint32_t>{101, 50, 77}));
  EXPECT_TRUE(has(r->process->env, "PATH=/custom"));
  EXPECT_FALSE(has(r->process->env, kDefaultPath));
  EXPECT_TRUE(has(r->process->env, "TERM=xterm"));
  EXPECT_TRUE(has(r->process->env, "HOME=/home/app"));
  EXPECT_TRUE(has(r->process->env, "FOO=bar"));
  EXPECT_TRUE(r->process->terminal);
  EXPECT_EQ(r->process->cwd, "/work");
  in.config.user = "ghost";
  auto bad = build_spec(in);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "unable to find user ghost: no matching entries in passwd file");
  in.config.user = "";
  in.config.working_dir = "rel";
  EXPECT_FALSE(build_spec(in));
  in.config.working_dir = "";

  in.host_config.pid_mode = "host";
  in.host_config.ipc_mode = "host";
  in.host_config.uts_mode = "host";
  in.host_config.network_mode = "host";
  in.host_config.cgroupns_mode = "host";
  r = build_spec(in);
  ASSERT_TRUE(r) << r.error().message;
  for (auto t : {"pid", "ipc", "uts", "network", "cgroup"}) EXPECT_FALSE(has_ns(*r, t)) << t;
  EXPECT_TRUE(has_ns(*r, "mount"));
  EXPECT_EQ(find_mount(*r, "/dev/shm")->source, "/dev/shm");
  // With the host's UTS namespace the spec sets no hostname (the engine's
  // default one is not the user's, which check_namespace_conflicts refuses).
  in.config.hostname = "x";
  r = build_spec(in);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->hostname, "");
  in.config.hostname = "";
  in.host_config = HostConfig{};
  in.host_config.ipc_mode = "container:abc";
  in.shm_path = "/run/ctr/shm";
  r = build_spec(in);
  ASSERT_FALSE(r);  // no namespace path resolved
  in.join_namespaces["ipc"] = "/proc/42/ns/ipc";
  r = build_spec(in);
  ASSERT_TRUE(r);
  EXPECT_EQ(find_mount(*r, "/dev/shm")->source, "/run/ctr/shm");
  EXPECT_EQ(find_mount(*r, "/dev/shm")->type, "bind");
  in.shm_path = "";
  in.join_namespaces.clear();
  in.host_config.ipc_mode = "container:abc";
  EXPECT_FALSE(build_spec(in));  // no namespace path resolved
  in.join_namespaces["ipc"] = "/proc/42/ns/ipc";
  r = build_spec(in);
  ASSERT_TRUE(r);
  bool joined = false;
  for (auto& n : r->linux->namespaces)
    if (n.type == "ipc" && n.path == "/proc/42/ns/ipc") joined = true;
  EXPECT_TRUE(joined);
  in.host_config.ipc_mode = "bogus";
  EXPECT_FALSE(build_spec(in));
  in.host_config.ipc_mode = "";
  in.cgroup_version = cgroups::Version::V1;
  r = build_spec(in);
  ASSERT_TRUE(r);
  EXPECT_FALSE(has_ns(*r, "cgroup"));  // docker's v1 default: host cgroupns
  in.host_config.cgroupns_mode = "private";
  r = build_spec(in);
  ASSERT_TRUE(r);
  EXPECT_TRUE(has_ns(*r, "cgroup"));
}

TEST(SpecBuilder, NamespaceConflicts) {
  ContainerConfig c;
  HostConfig h;
  EXPECT_TRUE(check_namespace_conflicts(c, h));
  auto msg = [&] {
    auto r = check_namespace_conflicts(c, h);
    EXPECT_FALSE(r);
    if (r) return std::string();
    EXPECT_EQ(r.error().code, Errc::InvalidArgument);
    return r.error().message;
  };
  h.uts_mode = "host";
  c.hostname = "x";
  EXPECT_EQ(msg(), "conflicting options: hostname and the UTS mode");
  h = HostConfig{};
  h.network_mode = "container:db";
  EXPECT_EQ(msg(), "conflicting options: hostname and the network mode");
  c.hostname = "";
  EXPECT_TRUE(check_namespace_conflicts(c, h));
  h.dns = {"1.1.1.1"};
  EXPECT_EQ(msg(), "conflicting options: dns and the network mode");
  h.dns.clear();
  h.extra_hosts = {"a:1.2.3.4"};
  EXPECT_EQ(msg(), "conflicting options: custom host-to-IP mapping and the network mode");
  h.extra_hosts.clear();
  h.publish_all_ports = true;
  EXPECT_EQ(msg(), "conflicting options: port publishing and the container type network mode");
  h.publish_all_ports = false;
  c.exposed_ports = {"80/tcp"};
  EXPECT_EQ(msg(), "conflicting options: port exposing and the container type network mode");
  c.exposed_ports.clear();
  h.links = {"db"};
  EXPECT_NE(msg().find("container type network can't be used with links"), std::string::npos);
  h.network_mode = "host";
  EXPECT_NE(msg().find("host type networking can't be used with links"), std::string::npos);
  h.network_mode = "container:db";
  h.links.clear();
  h.pid_mode = "container:";
  EXPECT_NE(msg().find("--pid: invalid mode"), std::string::npos);
  // Only a container network mode excludes these.
  h = HostConfig{};
  h.network_mode = "host";
  h.dns = {"1.1.1.1"};
  c.exposed_ports = {"80/tcp"};
  EXPECT_TRUE(check_namespace_conflicts(c, h));
}

TEST(SpecBuilder, CgroupsPath) {
  EXPECT_EQ(container_cgroups_path("", "abc"), "/berth/abc");
  EXPECT_EQ(container_cgroups_path("/berth", "abc"), "/berth/abc");
  EXPECT_EQ(container_cgroups_path("custom/", "abc"), "/custom/abc");
  EXPECT_EQ(container_cgroups_path("/", "abc"), "/abc");
  auto in = base_input();
  in.host_config.resources.cgroup_parent = "/mine";
  auto r = build_spec(in);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->linux->cgroups_path, "/mine/" + kId);
}

TEST(SpecBuilder, OomScoreAdjAndNoCommand) {
  auto in = base_input();
  in.host_config.oom_score_adj = 500;
  auto r = build_spec(in);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->process->oom_score_adj, 500);
  in.host_config.oom_score_adj = 1001;
  auto bad = build_spec(in);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "Invalid value 1001, range for oom score adj is [-1000, 1000]");
  in.host_config.oom_score_adj = 0;
  in.config.cmd = std::vector<std::string>{};
  bad = build_spec(in);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "No command specified");
}

TEST(MergeImageConfig, DockerRules) {
  oci::ContainerConfig img;
  img.env = {"PATH=/img/bin", "A=1"};
  img.entrypoint = std::vector<std::string>{"/entry.sh"};
  img.cmd = std::vector<std::string>{"serve"};
  img.user = "app";
  img.working_dir = "/srv";
  img.labels = {{"a", "img"}, {"b", "img"}};
  img.stop_signal = "SIGQUIT";
  img.exposed_ports = {"80/tcp"};

  ContainerConfig c;
  c.env = {"A=2", "B=3"};
  c.labels = {{"a", "mine"}};
  ASSERT_TRUE(merge_image_config(c, img));
  EXPECT_EQ(c.env, (std::vector<std::string>{"A=2", "B=3", "PATH=/img/bin"}));
  EXPECT_EQ(*c.entrypoint, (std::vector<std::string>{"/entry.sh"}));
  EXPECT_EQ(*c.cmd, (std::vector<std::string>{"serve"}));
  EXPECT_EQ(c.user, "app");
  EXPECT_EQ(c.working_dir, "/srv");
  EXPECT_EQ(c.labels["a"], "mine");
  EXPECT_EQ(c.labels["b"], "img");
  EXPECT_EQ(c.stop_signal, "SIGQUIT");
  EXPECT_EQ(c.exposed_ports, (std::vector<std::string>{"80/tcp"}));

  // A user cmd keeps the image entrypoint.
  ContainerConfig c2;
  c2.cmd = std::vector<std::string>{"other"};
  ASSERT_TRUE(merge_image_config(c2, img));
  EXPECT_EQ(*c2.entrypoint, (std::vector<std::string>{"/entry.sh"}));
  EXPECT_EQ(*c2.cmd, (std::vector<std::string>{"other"}));

  // A user entrypoint drops the image cmd.
  ContainerConfig c3;
  c3.entrypoint = std::vector<std::string>{"/bin/true"};
  ASSERT_TRUE(merge_image_config(c3, img));
  EXPECT_EQ(*c3.entrypoint, (std::vector<std::string>{"/bin/true"}));
  EXPECT_TRUE(!c3.cmd || c3.cmd->empty());

  // An empty list (docker-py's entrypoint="") resets the entrypoint and
  // takes the image cmd.
  ContainerConfig c4;
  c4.entrypoint = std::vector<std::string>{};
  ASSERT_TRUE(merge_image_config(c4, img));
  EXPECT_TRUE(c4.entrypoint->empty());
  EXPECT_EQ(*c4.cmd, (std::vector<std::string>{"serve"}));
  // The CLI's --entrypoint "" ([""]) resets it and drops the image cmd too:
  // with no cmd of its own, docker's error.
  ContainerConfig c4b;
  c4b.entrypoint = std::vector<std::string>{""};
  auto none = merge_image_config(c4b, img);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message, "No command specified");
  c4b.entrypoint = std::vector<std::string>{""};
  c4b.cmd = std::vector<std::string>{"sh", "-c", "true"};
  ASSERT_TRUE(merge_image_config(c4b, img));
  EXPECT_TRUE(c4b.entrypoint->empty());
  EXPECT_EQ(*c4b.cmd, (std::vector<std::string>{"sh", "-c", "true"}));

  // Nothing at all: docker's error.
  oci::ContainerConfig empty_img;
  ContainerConfig c5;
  auto bad = merge_image_config(c5, empty_img);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "No command specified");

  // Healthcheck and shell from the raw config.
  Json raw = Json::parse(R"({"Healthcheck":{"Test":["CMD","true"],"Interval":5000000000,
    "Retries":4},"Shell":["/bin/bash","-c"]})");
  ContainerConfig c6;
  c6.healthcheck = HealthcheckConfig{};
  c6.healthcheck->retries = 9;
  ASSERT_TRUE(merge_image_config(c6, img, &raw));
  EXPECT_EQ(c6.healthcheck->test, (std::vector<std::string>{"CMD", "true"}));
  EXPECT_EQ(c6.healthcheck->interval_ns, 5000000000);
  EXPECT_EQ(c6.healthcheck->retries, 9);
  EXPECT_EQ(c6.shell, (std::vector<std::string>{"/bin/bash", "-c"}));
}

TEST(ProcessEnv, Order) {
  auto env = process_env({"A=1", "HOSTNAME=custom"}, "abc", false, "/root");
  EXPECT_EQ(env, (std::vector<std::string>{kDefaultPath, "A=1", "HOSTNAME=custom", "HOME=/root"}));
  auto env2 = process_env({"HOME=/h"}, "abc", true, "/root");
  EXPECT_EQ(env2,
            (std::vector<std::string>{kDefaultPath, "HOSTNAME=abc", "TERM=xterm", "HOME=/h"}));
}

}  // namespace
}  // namespace berth::engine

namespace berth::engine {
namespace {

TEST(ExecProcess, FromContainerProcess) {
  auto spec = build_spec(base_input());
  ASSERT_TRUE(spec);
  ExecConfig e;
  e.cmd = {"id"};
  e.user = "app";
  e.env = {"FOO=1", "HOSTNAME=over"};
  e.working_dir = "/tmp";
  e.tty = true;
  e.privileged = true;
  auto p = build_exec_process(*spec->process, e, base_input().rootfs_reader, 40);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->args, (std::vector<std::string>{"id"}));
  EXPECT_EQ(p->user.uid, 100u);
  EXPECT_EQ(p->user.gid, 101u);
  EXPECT_TRUE(has(p->env, "FOO=1"));
  EXPECT_TRUE(has(p->env, "HOSTNAME=over"));
  EXPECT_TRUE(has(p->env, "HOME=/home/app"));
  EXPECT_TRUE(has(p->env, "TERM=xterm"));
  EXPECT_EQ(p->cwd, "/tmp");
  EXPECT_TRUE(p->terminal);
  EXPECT_EQ(p->capabilities->bounding.size(), 41u);
  EXPECT_EQ(p->rlimits.size(), spec->process->rlimits.size());
  ExecConfig plain;
  plain.cmd = {"sh"};
  auto q = build_exec_process(*spec->process, plain, base_input().rootfs_reader, 40);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->user.uid, 0u);
  EXPECT_EQ(q->capabilities->bounding, spec_internal::docker_default_capabilities());
  ExecConfig none;
  auto bad = build_exec_process(*spec->process, none, base_input().rootfs_reader, 40);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "No exec command specified");
  plain.user = "ghost";
  EXPECT_FALSE(build_exec_process(*spec->process, plain, base_input().rootfs_reader, 40));
}

}  // namespace
}  // namespace berth::engine
