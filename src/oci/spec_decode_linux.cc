// Decoding of config.json's "linux" object: namespaces, devices, cgroup
// resources, seccomp and the rest of config-linux.md.
#include "oci/json_reader.h"
#include "oci/spec_decode_internal.h"

namespace berth::oci::detail {
namespace {

Result<Namespace> decode_namespace(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  Namespace ns;
  ns.type = BERTH_TRY(r.string("type"));
  ns.path = BERTH_TRY(r.string("path"));
  return ns;
}

Result<Device> decode_device(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  Device d;
  d.type = BERTH_TRY(r.string("type"));
  d.path = BERTH_TRY(r.string("path"));
  d.major = BERTH_TRY(r.integer<int64_t>("major"));
  d.minor = BERTH_TRY(r.integer<int64_t>("minor"));
  d.file_mode = BERTH_TRY(r.opt_integer<uint32_t>("fileMode"));
  d.uid = BERTH_TRY(r.opt_integer<uint32_t>("uid"));
  d.gid = BERTH_TRY(r.opt_integer<uint32_t>("gid"));
  return d;
}

Result<DeviceCgroupRule> decode_device_rule(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  DeviceCgroupRule d;
  d.allow = BERTH_TRY(r.boolean("allow"));
  d.type = BERTH_TRY(r.string("type"));
  d.major = BERTH_TRY(r.opt_integer<int64_t>("major"));
  d.minor = BERTH_TRY(r.opt_integer<int64_t>("minor"));
  d.access = BERTH_TRY(r.string("access"));
  return d;
}

Result<MemoryResources> decode_memory(const JsonReader& r) {
  MemoryResources m;
  m.limit = BERTH_TRY(r.opt_integer<int64_t>("limit"));
  m.reservation = BERTH_TRY(r.opt_integer<int64_t>("reservation"));
  m.swap = BERTH_TRY(r.opt_integer<int64_t>("swap"));
  m.kernel = BERTH_TRY(r.opt_integer<int64_t>("kernel"));
  m.kernel_tcp = BERTH_TRY(r.opt_integer<int64_t>("kernelTCP"));
  m.swappiness = BERTH_TRY(r.opt_integer<uint64_t>("swappiness"));
  m.disable_oom_killer = BERTH_TRY(r.opt_boolean("disableOOMKiller"));
  m.use_hierarchy = BERTH_TRY(r.opt_boolean("useHierarchy"));
  m.check_before_update = BERTH_TRY(r.opt_boolean("checkBeforeUpdate"));
  return m;
}

Result<CpuResources> decode_cpu(const JsonReader& r) {
  CpuResources c;
  c.shares = BERTH_TRY(r.opt_integer<uint64_t>("shares"));
  c.quota = BERTH_TRY(r.opt_integer<int64_t>("quota"));
  c.burst = BERTH_TRY(r.opt_integer<uint64_t>("burst"));
  c.period = BERTH_TRY(r.opt_integer<uint64_t>("period"));
  c.realtime_runtime = BERTH_TRY(r.opt_integer<int64_t>("realtimeRuntime"));
  c.realtime_period = BERTH_TRY(r.opt_integer<uint64_t>("realtimePeriod"));
  c.cpus = BERTH_TRY(r.string("cpus"));
  c.mems = BERTH_TRY(r.string("mems"));
  c.idle = BERTH_TRY(r.opt_integer<int64_t>("idle"));
  return c;
}

Result<WeightDevice> decode_weight_device(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  WeightDevice w;
  w.major = BERTH_TRY(r.integer<int64_t>("major"));
  w.minor = BERTH_TRY(r.integer<int64_t>("minor"));
  w.weight = BERTH_TRY(r.opt_integer<uint16_t>("weight"));
  w.leaf_weight = BERTH_TRY(r.opt_integer<uint16_t>("leafWeight"));
  return w;
}

Result<ThrottleDevice> decode_throttle_device(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  ThrottleDevice t;
  t.major = BERTH_TRY(r.integer<int64_t>("major"));
  t.minor = BERTH_TRY(r.integer<int64_t>("minor"));
  t.rate = BERTH_TRY(r.integer<uint64_t>("rate"));
  return t;
}

Result<BlockIoResources> decode_block_io(const JsonReader& r) {
  BlockIoResources b;
  b.weight = BERTH_TRY(r.opt_integer<uint16_t>("weight"));
  b.leaf_weight = BERTH_TRY(r.opt_integer<uint16_t>("leafWeight"));
  b.weight_device = BERTH_TRY(r.array("weightDevice", decode_weight_device));
  b.throttle_read_bps_device = BERTH_TRY(r.array("throttleReadBpsDevice", decode_throttle_device));
  b.throttle_write_bps_device =
      BERTH_TRY(r.array("throttleWriteBpsDevice", decode_throttle_device));
  b.throttle_read_iops_device =
      BERTH_TRY(r.array("throttleReadIOPSDevice", decode_throttle_device));
  b.throttle_write_iops_device =
      BERTH_TRY(r.array("throttleWriteIOPSDevice", decode_throttle_device));
  return b;
}

Result<HugepageLimit> decode_hugepage_limit(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  HugepageLimit h;
  h.page_size = BERTH_TRY(r.string("pageSize"));
  h.limit = BERTH_TRY(r.integer<uint64_t>("limit"));
  return h;
}

Result<std::pair<std::string, uint32_t>> decode_priority(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  std::string name = BERTH_TRY(r.string("name"));
  uint32_t prio = BERTH_TRY(r.integer<uint32_t>("priority"));
  return std::pair<std::string, uint32_t>(std::move(name), prio);
}

Result<NetworkResources> decode_network(const JsonReader& r) {
  NetworkResources n;
  n.class_id = BERTH_TRY(r.opt_integer<uint32_t>("classID"));
  n.priorities = BERTH_TRY(r.array("priorities", decode_priority));
  return n;
}

Result<SeccompArg> decode_seccomp_arg(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  SeccompArg a;
  a.index = BERTH_TRY(r.integer<uint32_t>("index"));
  a.value = BERTH_TRY(r.integer<uint64_t>("value"));
  a.value_two = BERTH_TRY(r.integer<uint64_t>("valueTwo"));
  a.op = BERTH_TRY(r.string("op"));
  return a;
}

Result<SeccompSyscall> decode_seccomp_syscall(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  SeccompSyscall s;
  s.names = BERTH_TRY(r.strings("names"));
  s.action = BERTH_TRY(r.string("action"));
  s.errno_ret = BERTH_TRY(r.opt_integer<uint32_t>("errnoRet"));
  s.args = BERTH_TRY(r.array("args", decode_seccomp_arg));
  return s;
}

Result<Personality> decode_personality(const JsonReader& r) {
  Personality p;
  p.domain = BERTH_TRY(r.string("domain"));
  p.flags = BERTH_TRY(r.strings("flags"));
  return p;
}

}  // namespace

Result<Seccomp> decode_seccomp(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  Seccomp s;
  s.default_action = BERTH_TRY(r.string("defaultAction"));
  s.default_errno_ret = BERTH_TRY(r.opt_integer<uint32_t>("defaultErrnoRet"));
  s.architectures = BERTH_TRY(r.strings("architectures"));
  s.flags = BERTH_TRY(r.strings("flags"));
  s.listener_path = BERTH_TRY(r.string("listenerPath"));
  s.listener_metadata = BERTH_TRY(r.string("listenerMetadata"));
  s.syscalls = BERTH_TRY(r.array("syscalls", decode_seccomp_syscall));
  return s;
}

Result<Resources> decode_resources(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  Resources res;
  res.devices = BERTH_TRY(r.array("devices", decode_device_rule));
  if (auto m = BERTH_TRY(r.object("memory"))) res.memory = BERTH_TRY(decode_memory(*m));
  if (auto c = BERTH_TRY(r.object("cpu"))) res.cpu = BERTH_TRY(decode_cpu(*c));
  if (auto p = BERTH_TRY(r.object("pids"))) {
    PidsResources pids;
    pids.limit = BERTH_TRY(p->integer<int64_t>("limit"));
    res.pids = pids;
  }
  if (auto b = BERTH_TRY(r.object("blockIO"))) res.block_io = BERTH_TRY(decode_block_io(*b));
  res.hugepage_limits = BERTH_TRY(r.array("hugepageLimits", decode_hugepage_limit));
  if (auto n = BERTH_TRY(r.object("network"))) res.network = BERTH_TRY(decode_network(*n));
  res.unified = BERTH_TRY(r.string_map("unified"));
  res.rdma_present = r.has("rdma");
  return res;
}

Result<Linux> decode_linux(const JsonReader& r) {
  BERTH_TRY(r.expect_object());
  Linux l;
  l.uid_mappings = BERTH_TRY(r.array("uidMappings", decode_id_mapping));
  l.gid_mappings = BERTH_TRY(r.array("gidMappings", decode_id_mapping));
  l.sysctl = BERTH_TRY(r.string_map("sysctl"));
  if (r.has("resources")) l.resources = BERTH_TRY(decode_resources(r.member("resources")));
  l.intel_rdt_present = r.has("intelRdt");
  l.cgroups_path = BERTH_TRY(r.string("cgroupsPath"));
  l.namespaces = BERTH_TRY(r.array("namespaces", decode_namespace));
  l.devices = BERTH_TRY(r.array("devices", decode_device));
  if (r.has("seccomp")) l.seccomp = BERTH_TRY(decode_seccomp(r.member("seccomp")));
  l.rootfs_propagation = BERTH_TRY(r.string("rootfsPropagation"));
  l.masked_paths = BERTH_TRY(r.strings("maskedPaths"));
  l.readonly_paths = BERTH_TRY(r.strings("readonlyPaths"));
  l.mount_label = BERTH_TRY(r.string("mountLabel"));
  if (auto p = BERTH_TRY(r.object("personality")))
    l.personality = BERTH_TRY(decode_personality(*p));
  if (auto t = BERTH_TRY(r.object("timeOffsets"))) {
    BERTH_TRY(t->expect_object());
    for (const auto& [clock, value] : t->json().items()) {
      JsonReader c(value, t->path() + "." + clock);
      BERTH_TRY(c.expect_object());
      TimeOffset off;
      off.secs = BERTH_TRY(c.integer<int64_t>("secs"));
      off.nanosecs = BERTH_TRY(c.integer<uint32_t>("nanosecs"));
      l.time_offsets[clock] = off;
    }
  }
  return l;
}

}  // namespace berth::oci::detail
