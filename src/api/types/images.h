// api/types/images.h — image answers of the Docker Engine API, in docker's
// JSON spelling. The structs are wire-shaped (filled by api/server from the
// engine's image types); encode_* write what the requested API version
// expects (fields dropped or added across versions are noted per field).
// Depends on: base.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/types/version.h"
#include "base/json.h"

namespace berth::api {

// GET /images/json row (and system df's Images).
struct ImageSummary {
  std::string id;         // "sha256:..."
  std::string parent_id;  // "" (no local parents: images come from registries/tarballs)
  std::vector<std::string> repo_tags;
  std::vector<std::string> repo_digests;
  int64_t created = 0;  // unix seconds
  int64_t size = 0;
  int64_t shared_size = -1;  // -1: not computed
  std::map<std::string, std::string> labels;
  int64_t containers = -1;  // -1: not computed
};
// API < 1.44: VirtualSize = Size; untagged images show "<none>:<none>" and
// "<none>@<none>" as older daemons did.
OrderedJson encode_image_summary(const ImageSummary& s, ApiVersion v);

// GET /images/{name}/json
struct ImageInspect {
  std::string id;
  std::vector<std::string> repo_tags;
  std::vector<std::string> repo_digests;
  std::string parent;
  std::string comment;
  std::string created;  // RFC3339Nano, as in the config blob
  std::string container;
  Json container_config;  // null when absent (then written as Config), at every API version
  std::string docker_version;
  std::string author;
  Json config;  // the config blob's "config" object (null when absent)
  std::string architecture;
  std::string variant;  // omitted when empty
  std::string os;
  std::string os_version;  // omitted when empty
  int64_t size = 0;
  std::string graph_driver;
  std::map<std::string, std::string> graph_driver_data;
  std::vector<std::string> layers;  // RootFS.Layers (diff ids)
  int64_t last_tag_time_ns = 0;     // Metadata.LastTagTime (0: Go's zero time)
};
OrderedJson encode_image_inspect(const ImageInspect& i, ApiVersion v);

// GET /images/{name}/history
struct HistoryItem {
  std::string id;  // "sha256:..." or "<missing>"
  int64_t created = 0;
  std::string created_by;
  std::vector<std::string> tags;  // null on the wire when empty
  int64_t size = 0;
  std::string comment;
};
OrderedJson encode_history(const std::vector<HistoryItem>& items);

// DELETE /images/{name} lines and prune's ImagesDeleted.
struct DeleteItem {
  std::string untagged;
  std::string deleted;
};
OrderedJson encode_delete_items(const std::vector<DeleteItem>& items);
// POST /images/prune: {"ImagesDeleted": [...]|null, "SpaceReclaimed": n}
OrderedJson encode_prune_report(const std::vector<DeleteItem>& deleted, int64_t space_reclaimed);

// GET /images/search row.
struct SearchResult {
  std::string name;
  std::string description;
  int64_t star_count = 0;
  bool is_official = false;
  bool is_automated = false;
};
OrderedJson encode_search_results(const std::vector<SearchResult>& rows);

}  // namespace berth::api
