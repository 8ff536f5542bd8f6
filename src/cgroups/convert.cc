#include "cgroups/convert.h"

#include <algorithm>
#include <cctype>

#include "base/strings.h"

namespace berth::cgroups {

uint64_t shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
  if (weight == 0) return 0;
  weight = std::clamp<uint64_t>(weight, 10, 1000);
  return 1 + ((weight - 10) * 9999) / 990;
}

Result<std::optional<std::string>> v2_swap_max(std::optional<int64_t> limit,
                                               std::optional<int64_t> swap) {
  if (!swap) {
    if (limit && *limit < 0) return std::optional<std::string>("max");
    return std::optional<std::string>();
  }
  if (*swap < 0) return std::optional<std::string>("max");
  if (!limit || *limit < 0)
    return make_error(Errc::InvalidArgument,
                      "memory.swap {} needs a memory.limit: on cgroup v2 swap is limited "
                      "separately (swap - limit)",
                      *swap);
  if (*swap < *limit)
    return make_error(Errc::InvalidArgument,
                      "memory.swap {} must be >= memory.limit {} (OCI swap is memory+swap)", *swap,
                      *limit);
  return std::optional<std::string>(std::to_string(*swap - *limit));
}

std::string v1_limit(int64_t v) { return v < 0 ? "-1" : std::to_string(v); }
std::string v2_limit(int64_t v) { return v < 0 ? "max" : std::to_string(v); }

std::string cpu_max_line(std::optional<int64_t> quota, uint64_t period) {
  std::string q = (!quota || *quota <= 0) ? "max" : std::to_string(*quota);
  return fmt::format("{} {}", q, period);
}

Result<CpuMax> parse_cpu_max(std::string_view text) {
  auto f = split(trim(text), ' ', /*skip_empty=*/true);
  CpuMax out;
  if (f.empty() || f.size() > 2) return make_error(Errc::Io, "cpu.max: unexpected {:?}", text);
  if (f[0] != "max") {
    auto q = parse_int(f[0]);
    if (!q) return make_error(Errc::Io, "cpu.max: bad quota in {:?}", text);
    out.quota = *q;
  }
  if (f.size() == 2) {
    auto p = parse_uint(f[1]);
    if (!p) return make_error(Errc::Io, "cpu.max: bad period in {:?}", text);
    out.period = *p;
  }
  return out;
}

Result<FreezerState> parse_v1_freezer_state(std::string_view text) {
  auto t = trim(text);
  if (t == "THAWED") return FreezerState::Thawed;
  if (t == "FROZEN") return FreezerState::Frozen;
  if (t == "FREEZING") return FreezerState::Freezing;
  return make_error(Errc::Io, "freezer.state: unexpected {:?}", t);
}

Result<FreezerState> parse_v2_freezer_state(std::string_view freeze_file,
                                            std::string_view events_file) {
  auto want = trim(freeze_file);
  if (want != "0" && want != "1")
    return make_error(Errc::Io, "cgroup.freeze: unexpected {:?}", want);
  std::optional<bool> frozen;
  for (auto& line : split(events_file, '\n', /*skip_empty=*/true)) {
    auto kv = split(trim(line), ' ', /*skip_empty=*/true);
    if (kv.size() == 2 && kv[0] == "frozen") frozen = kv[1] == "1";
  }
  if (!frozen) return make_error(Errc::Io, "cgroup.events has no \"frozen\" key");
  // Thaw asked but not reached: the tasks are still frozen.
  if (want == "0") return *frozen ? FreezerState::Frozen : FreezerState::Thawed;
  return *frozen ? FreezerState::Frozen : FreezerState::Freezing;
}

Result<void> check_unified_key(std::string_view key) {
  if (key.empty() || key == "." || key == ".." || key.find('/') != std::string_view::npos ||
      key.find("..") != std::string_view::npos || key.find('\0') != std::string_view::npos)
    return make_error(Errc::InvalidArgument,
                      "unified key {:?} must be a cgroup file name, not a path", key);
  if (key.find('.') == std::string_view::npos)
    return make_error(Errc::InvalidArgument,
                      "unified key {:?} is not a cgroup interface file (<controller>.<knob>)", key);
  return ok();
}

Result<void> check_hugepage_size(std::string_view size) {
  bool good = !size.empty() && size.size() < 16;
  for (char c : size) good = good && (std::isalnum(static_cast<unsigned char>(c)) != 0);
  if (!good)
    return make_error(Errc::InvalidArgument, "hugepageLimits pageSize {:?} is not like \"2MB\"",
                      size);
  return ok();
}

}  // namespace berth::cgroups
