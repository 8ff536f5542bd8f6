// api/types/volumes.h — the volume answers and bodies of the Docker Engine
// API in docker's JSON spelling (GET /volumes, /volumes/{name}, POST
// /volumes/create, /volumes/prune, and system df's Volumes).
// Depends on: base.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace berth::api {

struct VolumeWire {
  std::string name;
  std::string driver = "local";
  std::string mountpoint;
  int64_t created_ns = 0;  // CreatedAt: RFC 3339, seconds, UTC
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> options;
  std::string scope = "local";
  // UsageData {Size, RefCount}; written only when usage is set (system df).
  bool usage = false;
  int64_t size = -1, ref_count = -1;
};
OrderedJson encode_volume(const VolumeWire& v);
// {"Volumes": [...], "Warnings": []}
OrderedJson encode_volume_list(const std::vector<VolumeWire>& vs);
// {"VolumesDeleted": [...], "SpaceReclaimed": n}
OrderedJson encode_volume_prune(const std::vector<std::string>& deleted, int64_t reclaimed);

// POST /volumes/create body (volume.CreateOptions); unknown keys ignored,
// wrong types InvalidArgument naming the field.
struct VolumeCreateBody {
  std::string name;
  std::string driver;
  std::map<std::string, std::string> driver_opts;
  std::map<std::string, std::string> labels;
};
Result<VolumeCreateBody> decode_volume_create(std::string_view body);

// RFC 3339 with seconds in UTC ("2024-05-01T12:00:00Z"), as docker's CreatedAt.
std::string format_rfc3339_seconds(int64_t unix_ns);

}  // namespace berth::api
