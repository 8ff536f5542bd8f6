#include "cgroups/devices.h"

#include <fmt/format.h>

namespace berth::cgroups {

Result<std::vector<DeviceRule>> normalize_device_rules(
    const std::vector<oci::DeviceCgroupRule>& rules) {
  std::vector<DeviceRule> out;
  for (size_t i = 0; i < rules.size(); ++i) {
    const auto& r = rules[i];
    DeviceRule d;
    d.allow = r.allow;
    if (r.type.empty() || r.type == "a") {
      d.type = 'a';
    } else if (r.type == "c" || r.type == "b") {
      d.type = r.type[0];
    } else {
      return make_error(Errc::InvalidArgument,
                        "linux.resources.devices[{}].type {:?}: want \"a\", \"c\" or \"b\"", i,
                        r.type);
    }
    auto number = [&](const std::optional<int64_t>& v, const char* field) -> Result<int64_t> {
      if (!v || *v == -1) return int64_t{-1};
      if (*v < 0 || *v > 0xffffffffLL)
        return make_error(Errc::InvalidArgument, "linux.resources.devices[{}].{} {} out of range",
                          i, field, *v);
      return *v;
    };
    d.major = BERTH_TRY(number(r.major, "major"));
    d.minor = BERTH_TRY(number(r.minor, "minor"));
    if (!r.access.empty()) {
      d.access = 0;
      for (char c : r.access) {
        switch (c) {
          case 'r':
            d.access |= kAccRead;
            break;
          case 'w':
            d.access |= kAccWrite;
            break;
          case 'm':
            d.access |= kAccMknod;
            break;
          default:
            return make_error(Errc::InvalidArgument,
                              "linux.resources.devices[{}].access {:?}: only r, w, m allowed", i,
                              r.access);
        }
      }
    }
    out.push_back(d);
  }
  return out;
}

std::string access_string(uint32_t access) {
  std::string s;
  if (access & kAccRead) s += 'r';
  if (access & kAccWrite) s += 'w';
  if (access & kAccMknod) s += 'm';
  return s;
}

std::vector<std::pair<std::string, std::string>> v1_device_writes(
    const std::vector<DeviceRule>& rules) {
  std::vector<std::pair<std::string, std::string>> out;
  auto num = [](int64_t v) { return v < 0 ? std::string("*") : std::to_string(v); };
  for (const auto& r : rules) {
    std::string file = r.allow ? "devices.allow" : "devices.deny";
    if (r.type == 'a' && r.major < 0 && r.minor < 0 && r.access == kAccAll) {
      out.emplace_back(file, "a");
      continue;
    }
    std::string tail = fmt::format("{}:{} {}", num(r.major), num(r.minor), access_string(r.access));
    if (r.type == 'a') {
      out.emplace_back(file, "c " + tail);
      out.emplace_back(file, "b " + tail);
    } else {
      out.emplace_back(file, fmt::format("{} {}", r.type, tail));
    }
  }
  return out;
}

bool device_access_allowed(const std::vector<DeviceRule>& rules, char type, int64_t major,
                           int64_t minor, uint32_t access) {
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    const auto& r = *it;
    if (r.type != 'a' && r.type != type) continue;
    if (r.major >= 0 && r.major != major) continue;
    if (r.minor >= 0 && r.minor != minor) continue;
    if (r.allow ? (access & ~r.access) != 0 : (access & r.access) == 0) continue;
    return r.allow;
  }
  return false;
}

}  // namespace berth::cgroups
