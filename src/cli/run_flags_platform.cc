// run_flags_platform: the flags of `run` / `create` that name something
// outside the container's own config: --annotation (for the OCI runtime),
// --volume-driver, --isolation and --gpus. The CLI parses them as docker's
// does and sends them; berthd decides (it refuses --gpus and any isolation
// but "default", naming the reason, rather than dropping them).
#include <algorithm>

#include "base/strings.h"
#include "cli/run_flags.h"
#include "cli/volume_flags.h"

namespace berth::cli {
namespace {

Result<int64_t> gpu_count(std::string_view v) {
  if (v == "all") return int64_t{-1};
  auto n = parse_int(v);
  if (!n) return make_error(Errc::InvalidArgument, "invalid count ({}): not a number", v);
  return *n;
}

}  // namespace

Result<Json> parse_gpus(std::string_view v) {
  Json req = {{"Driver", ""}, {"Count", 0}, {"DeviceIDs", nullptr}, {"Options", Json::object()}};
  std::vector<std::string> caps;
  if (v == "all" || (!v.empty() && v.find_first_not_of("0123456789") == std::string_view::npos)) {
    req["Count"] = BERTH_TRY(gpu_count(v));
  } else {
    auto fields = BERTH_TRY(csv_fields(std::string(v)));
    for (const auto& field : fields) {
      auto eq = field.find('=');
      if (eq == std::string::npos) {
        if (field == "all") {
          req["Count"] = -1;
          continue;
        }
        return make_error(Errc::InvalidArgument, "invalid field '{}' in '{}'", field, v);
      }
      std::string key = field.substr(0, eq), val = field.substr(eq + 1);
      if (key == "driver") {
        req["Driver"] = val;
      } else if (key == "count") {
        req["Count"] = BERTH_TRY(gpu_count(val));
      } else if (key == "device") {
        req["DeviceIDs"] = split(val, ',');
      } else if (key == "capabilities") {
        for (auto& c : split(val, ',')) caps.push_back(std::move(c));
      } else if (key == "options") {
        auto kv = val.find('=');
        req["Options"][val.substr(0, kv)] = kv == std::string::npos ? "" : val.substr(kv + 1);
      } else {
        return make_error(Errc::InvalidArgument, "unexpected key '{}' in '{}'", key, field);
      }
    }
  }
  if (req["Count"].get<int64_t>() != 0 && req["DeviceIDs"].is_array())
    return make_error(Errc::InvalidArgument,
                      "cannot set both Count and DeviceIDs on device request");
  // A GPU request always asks for the "gpu" capability, whatever else it names.
  if (std::find(caps.begin(), caps.end(), "gpu") == caps.end()) caps.push_back("gpu");
  req["Capabilities"] = Json::array({caps});
  return req;
}

void add_platform_flags(FlagSet& f) {
  f.add_list("annotation", 0,
             "Add an annotation to the container (passed through to the OCI runtime)", "map");
  f.add_string("gpus", 0, "", "GPU devices to add to the container ('all' to pass all GPUs)",
               "gpu-request");
  f.add_string("isolation", 0, "", "Container isolation technology");
  f.add_string("volume-driver", 0, "", "Optional volume driver for the container");
}

Result<void> add_platform_fields(const FlagSet& f, Json& hc) {
  Json annotations = Json::object();
  for (const auto& a : f.get_list("annotation")) {
    auto eq = a.find('=');
    annotations[a.substr(0, eq)] = eq == std::string::npos ? "" : a.substr(eq + 1);
  }
  if (!annotations.empty()) hc["Annotations"] = annotations;
  if (f.changed("gpus")) {
    auto req = parse_gpus(f.get_string("gpus"));
    if (!req) return flag_value_error("--gpus", f.get_string("gpus"), req.error().message);
    hc["DeviceRequests"] = Json::array({*req});
  }
  hc["Isolation"] = f.get_string("isolation");
  hc["VolumeDriver"] = f.get_string("volume-driver");
  return ok();
}

}  // namespace berth::cli
