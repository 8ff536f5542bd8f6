#include "api/types/images.h"

#include "api/types/time.h"

namespace berth::api {
namespace {

OrderedJson string_list(const std::vector<std::string>& v) {
  OrderedJson a = OrderedJson::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

OrderedJson string_map(const std::map<std::string, std::string>& m) {
  OrderedJson o = OrderedJson::object();
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

// An image's config object (as stored in its blob) in the order of docker's
// container Config struct.
OrderedJson in_config_order(const Json& c) {
  return members_in_order(
      c, {"Hostname",     "Domainname",   "User",        "AttachStdin",     "AttachStdout",
          "AttachStderr", "ExposedPorts", "Tty",         "OpenStdin",       "StdinOnce",
          "Env",          "Cmd",          "Healthcheck", "ArgsEscaped",     "Image",
          "Volumes",      "WorkingDir",   "Entrypoint",  "NetworkDisabled", "MacAddress",
          "OnBuild",      "Labels",       "StopSignal",  "StopTimeout",     "Shell"});
}

}  // namespace

// Members in sorted order, as docker's swagger-generated Summary.
OrderedJson encode_image_summary(const ImageSummary& s, ApiVersion v) {
  bool legacy = v < ApiVersion{1, 44};
  // Before 1.44 docker marks a dangling image (no tag, no digest) with
  // placeholders in both lists, and sends null for an empty one otherwise.
  const bool dangling = s.repo_tags.empty() && s.repo_digests.empty();
  auto list = [&](const std::vector<std::string>& l, const char* placeholder) -> OrderedJson {
    if (!legacy) return string_list(l);
    if (dangling) return OrderedJson::array({placeholder});
    return l.empty() ? OrderedJson(nullptr) : string_list(l);
  };
  OrderedJson j = OrderedJson::object();
  j["Containers"] = s.containers;
  j["Created"] = s.created;
  j["Id"] = s.id;
  j["Labels"] = string_map(s.labels);
  j["ParentId"] = s.parent_id;
  j["RepoDigests"] = list(s.repo_digests, "<none>@<none>");
  j["RepoTags"] = list(s.repo_tags, "<none>:<none>");
  // shared-size came with 1.42; before it docker always sends -1.
  j["SharedSize"] = v < ApiVersion{1, 42} ? -1 : s.shared_size;
  j["Size"] = s.size;
  if (legacy) j["VirtualSize"] = s.size;
  return j;
}

OrderedJson encode_image_inspect(const ImageInspect& i, ApiVersion v) {
  OrderedJson j = OrderedJson::object();
  j["Id"] = i.id;
  j["RepoTags"] = string_list(i.repo_tags);
  j["RepoDigests"] = string_list(i.repo_digests);
  j["Parent"] = i.parent;
  j["Comment"] = i.comment;
  j["Created"] = i.created;
  // API 1.45 dropped these two, but they stay at every version: docker-compose v1 (Debian
  // 12's 1.29) negotiates the server's newest version and reads ContainerConfig.Volumes on
  // every recreate, so without it `up` after a change fails with KeyError 'ContainerConfig'
  // (as it does against dockerd 26+). Newer clients ignore the extra members. An image
  // without container_config (berth's builder, BuildKit, OCI images) gets its Config: the
  // classic builder's container_config was the last step's config, the same but for Cmd, and
  // its Volumes are what lets compose carry the image's anonymous volumes to the new
  // container instead of starting them empty.
  j["Container"] = i.container;
  j["ContainerConfig"] = i.container_config.is_object() ? in_config_order(i.container_config)
                         : i.config.is_object()         ? in_config_order(i.config)
                                                        : OrderedJson::object();
  j["DockerVersion"] = i.docker_version;
  j["Author"] = i.author;
  j["Config"] = i.config.is_object() ? in_config_order(i.config) : OrderedJson(nullptr);
  j["Architecture"] = i.architecture;
  if (!i.variant.empty()) j["Variant"] = i.variant;
  j["Os"] = i.os;
  if (!i.os_version.empty()) j["OsVersion"] = i.os_version;
  j["Size"] = i.size;
  if (v < ApiVersion{1, 44}) j["VirtualSize"] = i.size;
  j["GraphDriver"] = {{"Data", string_map(i.graph_driver_data)}, {"Name", i.graph_driver}};
  j["RootFS"] = {{"Type", "layers"}, {"Layers", string_list(i.layers)}};
  j["Metadata"] = {{"LastTagTime", format_rfc3339_nano(i.last_tag_time_ns)}};
  return j;
}

// Members in sorted order, as docker's swagger-generated HistoryResponseItem.
OrderedJson encode_history(const std::vector<HistoryItem>& items) {
  OrderedJson a = OrderedJson::array();
  for (const auto& h : items) {
    OrderedJson j = OrderedJson::object();
    j["Comment"] = h.comment;
    j["Created"] = h.created;
    j["CreatedBy"] = h.created_by;
    j["Id"] = h.id;
    j["Size"] = h.size;
    j["Tags"] = h.tags.empty() ? OrderedJson(nullptr) : string_list(h.tags);
    a.push_back(std::move(j));
  }
  return a;
}

OrderedJson encode_delete_items(const std::vector<DeleteItem>& items) {
  OrderedJson a = OrderedJson::array();
  for (const auto& d : items) {
    OrderedJson j = OrderedJson::object();
    if (!d.untagged.empty()) j["Untagged"] = d.untagged;
    if (!d.deleted.empty()) j["Deleted"] = d.deleted;
    a.push_back(std::move(j));
  }
  return a;
}

OrderedJson encode_prune_report(const std::vector<DeleteItem>& deleted, int64_t space_reclaimed) {
  OrderedJson j = OrderedJson::object();
  j["ImagesDeleted"] = deleted.empty() ? OrderedJson(nullptr) : encode_delete_items(deleted);
  j["SpaceReclaimed"] = space_reclaimed;
  return j;
}

OrderedJson encode_search_results(const std::vector<SearchResult>& rows) {
  OrderedJson a = OrderedJson::array();
  for (const auto& r : rows) {
    a.push_back({{"name", r.name},
                 {"description", r.description},
                 {"star_count", r.star_count},
                 {"is_official", r.is_official},
                 {"is_automated", r.is_automated}});
  }
  return a;
}

}  // namespace berth::api
