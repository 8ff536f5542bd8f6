// run_flags_resources: the cgroup flags of `run` / `create` beyond memory,
// CPUs and pids: CFS and real-time CPU periods, block I/O weights and
// per-device throttles, device cgroup rules. Values are checked as docker's
// CLI checks them (its opts package), with its messages.
#include <optional>
#include <regex>

#include "base/size.h"
#include "base/strings.h"
#include "cli/run_flags.h"

namespace berth::cli {
namespace {

// "PATH:VALUE" with PATH under /dev/: the two parts, or docker's format errors.
Result<std::pair<std::string, std::string>> device_and_value(std::string_view v) {
  auto colon = v.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return make_error(Errc::InvalidArgument, "bad format: {}", v);
  std::string path(v.substr(0, colon));
  if (!path.starts_with("/dev/"))
    return make_error(Errc::InvalidArgument, "bad format for device path: {}", v);
  return std::pair{path, std::string(v.substr(colon + 1))};
}

// Go's strconv.ParseUint with a bit size: digits only, at most `max`.
std::optional<uint64_t> parse_bounded(std::string_view s, uint64_t max) {
  auto n = parse_uint(s);
  if (!n || *n > max) return std::nullopt;
  return *n;
}

Result<Json> device_list(const FlagSet& f, const char* flag,
                         Result<Json> (*parse)(std::string_view)) {
  Json out = Json::array();
  for (const auto& v : f.get_list(flag)) {
    auto j = parse(v);
    if (!j) return flag_value_error(std::string("--") + flag, v, j.error().message);
    out.push_back(*j);
  }
  return out;
}

}  // namespace

void add_resource_flags(FlagSet& f) {
  f.add_string("blkio-weight", 0, "",
               "Block IO (relative weight), between 10 and 1000, or 0 to disable", "uint16");
  f.add_list("blkio-weight-device", 0, "Block IO weight (relative device weight)", "list");
  f.add_int("cpu-period", 0, 0, "Limit CPU CFS (Completely Fair Scheduler) period");
  f.add_int("cpu-quota", 0, 0, "Limit CPU CFS (Completely Fair Scheduler) quota");
  f.add_int("cpu-rt-period", 0, 0, "Limit CPU real-time period in microseconds");
  f.add_int("cpu-rt-runtime", 0, 0, "Limit CPU real-time runtime in microseconds");
  f.add_list("device-cgroup-rule", 0, "Add a rule to the cgroup allowed devices list", "list");
  f.add_list("device-read-bps", 0, "Limit read rate (bytes per second) from a device", "list");
  f.add_list("device-read-iops", 0, "Limit read rate (IO per second) from a device", "list");
  f.add_list("device-write-bps", 0, "Limit write rate (bytes per second) to a device", "list");
  f.add_list("device-write-iops", 0, "Limit write rate (IO per second) to a device", "list");
}

Result<Json> parse_weight_device(std::string_view v) {
  auto [path, value] = BERTH_TRY(device_and_value(v));
  auto w = parse_bounded(value, 65535);
  if (!w || (*w > 0 && (*w < 10 || *w > 1000)))
    return make_error(Errc::InvalidArgument, "invalid weight for device: {}", v);
  return Json{{"Path", path}, {"Weight", *w}};
}

Result<Json> parse_throttle_bps_device(std::string_view v) {
  auto [path, value] = BERTH_TRY(device_and_value(v));
  auto rate = parse_ram_in_bytes(value);
  if (!rate || *rate < 0)
    return make_error(Errc::InvalidArgument,
                      "invalid rate for device: {}. The correct format is "
                      "<device-path>:<number>[<unit>]. Number must be a positive integer. Unit "
                      "is optional and can be kb, mb, or gb",
                      v);
  return Json{{"Path", path}, {"Rate", static_cast<uint64_t>(*rate)}};
}

Result<Json> parse_throttle_iops_device(std::string_view v) {
  auto [path, value] = BERTH_TRY(device_and_value(v));
  auto rate = parse_uint(value);
  if (!rate)
    return make_error(Errc::InvalidArgument,
                      "invalid rate for device: {}. The correct format is "
                      "<device-path>:<number>. Number must be a positive integer",
                      v);
  return Json{{"Path", path}, {"Rate", *rate}};
}

Result<void> add_resource_fields(const FlagSet& f, Json& hc) {
  const std::string& weight = f.get_string("blkio-weight");
  auto w = f.changed("blkio-weight") ? parse_bounded(weight, 65535) : std::optional<uint64_t>(0);
  if (!w) {
    bool digits = !weight.empty() && weight.find_first_not_of("0123456789") == std::string::npos;
    return flag_value_error("--blkio-weight", weight,
                            fmt::format("strconv.ParseUint: parsing \"{}\": {}", weight,
                                        digits ? "value out of range" : "invalid syntax"));
  }
  hc["BlkioWeight"] = *w;
  hc["BlkioWeightDevice"] = BERTH_TRY(device_list(f, "blkio-weight-device", parse_weight_device));
  hc["BlkioDeviceReadBps"] =
      BERTH_TRY(device_list(f, "device-read-bps", parse_throttle_bps_device));
  hc["BlkioDeviceWriteBps"] =
      BERTH_TRY(device_list(f, "device-write-bps", parse_throttle_bps_device));
  hc["BlkioDeviceReadIOps"] =
      BERTH_TRY(device_list(f, "device-read-iops", parse_throttle_iops_device));
  hc["BlkioDeviceWriteIOps"] =
      BERTH_TRY(device_list(f, "device-write-iops", parse_throttle_iops_device));
  hc["CpuPeriod"] = f.get_int("cpu-period");
  hc["CpuQuota"] = f.get_int("cpu-quota");
  hc["CpuRealtimePeriod"] = f.get_int("cpu-rt-period");
  hc["CpuRealtimeRuntime"] = f.get_int("cpu-rt-runtime");
  Json rules = Json::array();
  for (const auto& r : f.get_list("device-cgroup-rule")) {
    // Compiled on first use only: std::regex's compile was most of the CPU
    // of every `berth run` (62% of its instructions) though few pass a rule.
    static const std::regex kRule(R"(^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$)");
    if (!std::regex_match(r, kRule))
      return flag_value_error("--device-cgroup-rule", r,
                              fmt::format("invalid device cgroup format '{}'", r));
    rules.push_back(r);
  }
  hc["DeviceCgroupRules"] = rules.empty() ? Json(nullptr) : rules;
  return ok();
}

}  // namespace berth::cli
