// api/types/system.h — /version, /info and /system/df answers, and the error
// body, in docker's JSON spelling.
// Depends on: base.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "api/types/containers.h"
#include "api/types/images.h"
#include "api/types/version.h"
#include "api/types/volumes.h"
#include "base/json.h"

namespace berth::api {

// docker's error body {"message": "..."}.
std::string error_body(std::string_view message);

struct VersionInfo {
  std::string version;  // berth's version, "0.1.0"
  std::string git_commit;
  std::string os = "linux";
  std::string arch;  // GOARCH spelling: "amd64", "arm64"
  std::string kernel_version;
  std::string build_time;
  bool experimental = false;
};
// ApiVersion / MinAPIVersion are the server's range (not the negotiated one),
// as dockerd reports them.
OrderedJson encode_version(const VersionInfo& v);

struct RegistryConfig {
  std::vector<std::string> insecure_registry_cidrs;         // CIDRs
  std::vector<std::string> insecure_hosts;                  // host[:port]
  std::map<std::string, std::vector<std::string>> mirrors;  // domain -> urls
};

struct SystemInfo {
  std::string id;
  std::string name;
  std::string operating_system;
  std::string os_version;
  std::string os_type = "linux";
  std::string architecture;  // uname -m spelling: "x86_64"
  std::string kernel_version;
  int ncpu = 0;
  int64_t mem_total = 0;
  std::string driver;
  std::string docker_root_dir;
  std::string cgroup_version;  // "1" | "2"
  std::string cgroup_driver = "cgroupfs";
  std::string server_version;
  std::string system_time;  // RFC3339Nano
  std::string http_proxy, https_proxy, no_proxy;
  int images = 0;
  int containers = 0, containers_running = 0, containers_paused = 0, containers_stopped = 0;
  bool debug = false;
  std::string logging_driver = "json-file";
  std::string default_runtime = "berth";
  std::map<std::string, std::string> runtimes = {{"berth", "berth-runtime"}};  // name -> path
  std::string index_server_address = "https://index.docker.io/v1/";
  RegistryConfig registry;
  std::vector<std::string> warnings;
  std::map<std::string, std::string> labels;
};
OrderedJson encode_info(const SystemInfo& i, ApiVersion v);

// GET /system/df
struct DiskUsage {
  int64_t layers_size = 0;
  std::vector<ImageSummary> images;
  std::vector<ContainerSummary> containers;  // with SizeRw / SizeRootFs
  std::vector<VolumeWire> volumes;           // with UsageData
  // What was asked (?type=, API 1.42); the others are sent as null, and
  // LayersSize as 0 without images, as docker does.
  bool with_images = true, with_containers = true, with_volumes = true, with_build_cache = true;
};
OrderedJson encode_disk_usage(const DiskUsage& d, ApiVersion v);

}  // namespace berth::api
