// cli/container_rows.h — docker's formatter contexts for `ps` and `stats` as
// JSON rows (field -> string) for cli/format.h, with docker's column titles,
// truncation rules and `stats` arithmetic (CPU %, memory without the page
// cache, block and network I/O sums).
// Depends on: base, oci, cli/units, cli/image_rows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/json.h"
#include "cli/template.h"

namespace berth::cli {

// --- ps ----------------------------------------------------------------------
inline constexpr const char* kPsTable =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
inline constexpr const char* kPsSizeTable =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
    "\t{{.Size}}";
Json ps_headers();
// One row per element of GET /containers/json, with only the fields in
// `fields` (all when nullopt).
Json ps_row(const Json& c, bool trunc, int64_t now_unix, const FieldSet& fields = std::nullopt);
// The members of each /containers/json element that ps_row reads for
// `fields` (for parse_json_rows); nullopt when it may read any.
std::optional<std::set<std::string>> ps_source_keys(const FieldSet& fields);
// docker's Ports column: "0.0.0.0:8080->80/tcp, 443/tcp" (ranges merged).
std::string ps_ports(const Json& ports);

// --- stats -------------------------------------------------------------------
struct StatsEntry {
  std::string container;  // as the user named it (or the ID)
  std::string id;
  std::string name;
  double cpu_percent = 0;
  double memory = 0, memory_limit = 0, memory_percent = 0;
  double net_rx = 0, net_tx = 0;
  double block_read = 0, block_write = 0;
  uint64_t pids = 0;
  bool error = false;  // shown as "--"
};
// Fills the numbers from one /containers/{id}/stats document (docker's
// calculateCPUPercentUnix against its precpu_stats, memory minus
// inactive_file (v2) / total_inactive_file (v1)).
void stats_from_json(const Json& s, StatsEntry& e);
inline constexpr const char* kStatsTable =
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}"
    "\t{{.PIDs}}";
Json stats_headers();
Json stats_row(const StatsEntry& e, bool trunc);

}  // namespace berth::cli
