// api/client/types.h — what the CLI reads from the Docker Engine API, decoded
// from docker's JSON spelling (decode.cc). Works against berthd and dockerd:
// unknown fields are ignored, missing ones keep their defaults.
// Depends on: base.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace berth::api::client {

struct Ping {
  std::string api_version;  // "API-Version" header ("" when absent)
  std::string os_type;
  std::string server;
};

struct ImageSummary {
  std::string id;
  std::string parent_id;
  std::vector<std::string> repo_tags;
  std::vector<std::string> repo_digests;
  int64_t created = 0;
  int64_t size = 0;
  int64_t shared_size = -1;
  int64_t virtual_size = -1;
  int64_t containers = -1;
  std::map<std::string, std::string> labels;
};

struct HistoryItem {
  std::string id;
  int64_t created = 0;
  std::string created_by;
  std::vector<std::string> tags;
  int64_t size = 0;
  std::string comment;
};

struct SearchResult {
  std::string name;
  std::string description;
  int64_t star_count = 0;
  bool is_official = false;
  bool is_automated = false;
};

struct DeleteItem {
  std::string untagged;
  std::string deleted;
};

struct PruneReport {
  std::vector<DeleteItem> deleted;
  int64_t space_reclaimed = 0;
};

struct DiskUsage {
  int64_t layers_size = 0;
  std::vector<ImageSummary> images;
  Json containers = Json::array();  // /containers/json rows, with SizeRw and SizeRootFs
  Json volumes = Json::array();
  Json build_cache = Json::array();
};

struct AuthResponse {
  std::string status;  // "Login Succeeded"
  std::string identity_token;
};

// One message of a JSON progress stream (pull, push, load, import).
struct JsonMessage {
  std::string id;
  std::string status;
  std::string stream;
  std::string progress;       // deprecated preformatted bar
  bool has_progress = false;  // progressDetail present (even "{}")
  int64_t current = 0;
  int64_t total = 0;
  int64_t start = 0;
  std::string units;
  bool hide_counts = false;
  std::optional<std::string> error;  // errorDetail.message / error
  int64_t error_code = 0;            // errorDetail.code (a failed RUN's exit status), 0 = none
  Json aux;                          // null when absent
  int64_t time_nano = 0;
  std::string from;
};

struct Event {
  std::string type;
  std::string action;
  std::string actor_id;
  std::map<std::string, std::string> attributes;
  std::string scope;
  int64_t time = 0;
  int64_t time_nano = 0;
  Json raw;  // the message as sent (for --format)
};

// Decoders: InvalidArgument naming the document and field on a type error.
Result<std::vector<ImageSummary>> decode_image_list(std::string_view body);
Result<ImageSummary> decode_image_summary(const Json& j);
Result<std::vector<HistoryItem>> decode_history(std::string_view body);
Result<std::vector<SearchResult>> decode_search(std::string_view body);
// berth's list-tags answer: ["1.0", ...], [{"Name"|"name"|"Tag"|"tag": ...}],
// or {"tags": [...]} (the registry's tags/list shape) are all accepted.
Result<std::vector<std::string>> decode_tag_list(std::string_view body);
Result<std::vector<DeleteItem>> decode_delete_items(const Json& j);
Result<PruneReport> decode_prune_report(std::string_view body);
Result<DiskUsage> decode_disk_usage(std::string_view body);
Result<AuthResponse> decode_auth_response(std::string_view body);
JsonMessage decode_json_message(const Json& j);
Event decode_event(const Json& j);
// docker's error body {"message": "..."}; the trimmed text when not JSON.
std::string decode_error_message(std::string_view body);

}  // namespace berth::api::client
