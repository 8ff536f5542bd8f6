// cli/run_flags.h — the flags of `run` / `create` and their translation into
// the Engine API's create body (Config + HostConfig + NetworkingConfig), with
// docker 28's parsing rules and messages for values (sizes, CPUs, ulimits,
// durations, restart policies, security options, env/label files).
//
// Two kinds of errors, as docker has them:
//  - value errors of a flag ("invalid argument \"abc\" for \"-m, --memory\"
//    flag: invalid size: 'abc'"): code InvalidArgument, message starting with
//    "invalid argument \"" — the command prints them with the usage block;
//  - other option errors ("conflicting options: cannot specify both --restart
//    and --rm", "invalid pull option: ..."): printed as "berth: <msg>" + hint.
// Both exit 125.
// Depends on: base, cli/flags.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "cli/flags.h"

namespace berth::cli {

// Registers the container-config flags. `run` adds -d, --rm, --sig-proxy,
// --detach-keys (create has --rm too, without -d).
void add_create_flags(FlagSet& f, bool run);

struct CreateRequest {
  Json body;                 // POST /containers/create body
  std::string image;         // as typed
  std::string name;          // --name ("" = generated)
  std::string platform;      // --platform (query parameter)
  std::string pull;          // "missing" | "always" | "never"
  bool detach = false;       // -d (run)
  bool interactive = false;  // -i
  bool tty = false;          // -t
  bool auto_remove = false;  // --rm
  bool sig_proxy = true;     // --sig-proxy (run without a TTY)
  std::string detach_keys;   // --detach-keys ("" = the default)
  bool attach_stdin = false, attach_stdout = false, attach_stderr = false;
  std::string cidfile;
};

// Environment lookup for `-e KEY` / env-file lines without '=' (tests pass a fake).
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// Builds the create request from the parsed flags and the positional
// arguments (IMAGE [COMMAND] [ARG...]). `console_size` ({rows, cols}) is
// sent as HostConfig.ConsoleSize when the TTY is a terminal.
Result<CreateRequest> build_create_request(const FlagSet& f, const std::vector<std::string>& args,
                                           const EnvLookup& env = {},
                                           std::optional<std::pair<int, int>> console_size = {});

// An endpoint's IPAMConfig from --ip, --ip6 and --link-local-ip (run,
// create and network connect share the names); empty when none was given.
// The daemon decides whether it can give the addresses.
Json endpoint_ipam(const FlagSet& f);

// --- value parsers (docker's, exposed for tests and other commands) --------

// --cpus: decimal or fraction to nano CPUs. "failed to parse <v> as a rational number".
Result<int64_t> parse_nano_cpus(std::string_view v);
// --ulimit "nofile=1024[:2048]" -> {"Name","Soft","Hard"}.
Result<Json> parse_ulimit(std::string_view v);
// docker's --detach-keys grammar ("ctrl-p,ctrl-q", "a,ctrl-@"): the byte
// sequence. "Unknown character: '<key>'".
Result<std::string> parse_detach_keys(std::string_view v);
inline constexpr const char* kDefaultDetachKeys = "ctrl-p,ctrl-q";
// Go's time.ParseDuration for flag values: ns. "time: invalid duration \"x\"".
Result<int64_t> parse_flag_duration(std::string_view v);

// --- cgroup flags beyond memory/CPUs/pids (run_flags_resources.cc) --------

// --blkio-weight, --blkio-weight-device, --device-{read,write}-{bps,iops},
// --cpu-period, --cpu-quota, --cpu-rt-period, --cpu-rt-runtime,
// --device-cgroup-rule.
void add_resource_flags(FlagSet& f);
// Sets their HostConfig fields in `hc`; a bad value is a flag value error.
Result<void> add_resource_fields(const FlagSet& f, Json& hc);
// "/dev/sda:500" -> {"Path","Weight"}: "bad format: <v>", "bad format for
// device path: <v>" (not under /dev/), "invalid weight for device: <v>"
// (not 0 or 10..1000).
Result<Json> parse_weight_device(std::string_view v);
// "/dev/sda:1mb" -> {"Path","Rate"} in bytes (go-units sizes).
Result<Json> parse_throttle_bps_device(std::string_view v);
// "/dev/sda:100" -> {"Path","Rate"} in operations.
Result<Json> parse_throttle_iops_device(std::string_view v);

// --- --annotation, --gpus, --isolation, --volume-driver (run_flags_platform.cc)

void add_platform_flags(FlagSet& f);
// Sets HostConfig's Annotations, DeviceRequests, Isolation, VolumeDriver.
Result<void> add_platform_fields(const FlagSet& f, Json& hc);
// docker's --gpus grammar ("all", "2", "device=0,driver=nvidia,capabilities=
// compute,utility"): one DeviceRequest. "unexpected key 'x' in 'x=1'".
Result<Json> parse_gpus(std::string_view v);

// A value error in pflag's wording: invalid argument "<v>" for "<label>" flag: <why>.
// `label` is pflag's "-m, --memory" / "--cpus".
Error flag_value_error(std::string_view label, std::string_view value, std::string_view why);
bool is_flag_value_error(const Error& e);

}  // namespace berth::cli
