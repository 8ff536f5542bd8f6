// cgroups/convert.h — pure translations between OCI values and cgroup files.
//
// Kept free of I/O so the unit tests pin the exact numbers the kernel gets.
// Depends on: base, oci.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "cgroups/manager.h"

namespace berth::cgroups {

// cpu.shares (v1, 2..262144) -> cpu.weight (v2, 1..10000), the linear map
// every OCI runtime uses so a spec means the same on both versions:
// 1 + ((shares - 2) * 9999) / 262142. 0 stays 0 ("unset"); out-of-range
// shares are clamped first (the kernel clamps v1 shares the same way).
uint64_t shares_to_weight(uint64_t shares);

// blkio.weight (v1, 10..1000) -> io.weight (v2, 1..10000), linear:
// 1 + ((weight - 10) * 9999) / 990. 0 stays 0; others are clamped.
uint64_t blkio_weight_to_io_weight(uint64_t weight);

// memory.swap.max for v2. OCI's swap is memory+swap (the v1 memsw meaning)
// while v2 limits swap alone, so the value is swap - limit.
//   swap unset and limit == -1  -> "max" (both unlimited, like v1)
//   swap unset otherwise        -> nullopt (leave the file alone)
//   swap == -1                  -> "max"
//   swap set, limit unset/-1    -> InvalidArgument (nothing to subtract from)
//   swap < limit                -> InvalidArgument
Result<std::optional<std::string>> v2_swap_max(std::optional<int64_t> limit,
                                               std::optional<int64_t> swap);

// Formats a byte/number limit where -1 (or any negative) means no limit:
// v1 files take "-1", v2 files take "max".
std::string v1_limit(int64_t v);
std::string v2_limit(int64_t v);

// The "quota period" line of v2 cpu.max; quota <= 0 means "max".
std::string cpu_max_line(std::optional<int64_t> quota, uint64_t period);
// Splits an existing cpu.max ("max 100000" / "50000 100000").
struct CpuMax {
  std::optional<int64_t> quota;  // nullopt = max
  uint64_t period = 100000;
};
Result<CpuMax> parse_cpu_max(std::string_view text);

// v1 freezer.state: THAWED / FREEZING / FROZEN.
Result<FreezerState> parse_v1_freezer_state(std::string_view text);
// v2: cgroup.freeze ("0"/"1") is what was asked; the "frozen" key of
// cgroup.events is what the kernel reached. Asked but not reached = Freezing.
Result<FreezerState> parse_v2_freezer_state(std::string_view freeze_file,
                                            std::string_view events_file);

// Validates a key of Resources.unified: a single file name in the cgroup
// directory ("memory.high"), never a path.
Result<void> check_unified_key(std::string_view key);

// Validates a hugetlb page size ("2MB", "1GB") before it is put in a file name.
Result<void> check_hugepage_size(std::string_view size);

}  // namespace berth::cgroups
