// engine/container_codec.h — the engine's own JSON for a container's
// persisted parts (the `config` and `state` columns of the containers table).
// The format is engine-private: C++ member names as keys, every field
// optional on decode (defaults for absent keys), so rows written by an older
// berth still load.
// Depends on: base, engine/container_types.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/container_types.h"

namespace berth::engine {

// What the `config` column holds: everything fixed at create (plus rename /
// update, which rewrite the row).
struct StoredConfig {
  std::string path;
  std::vector<std::string> args;
  std::string image_ref;  // as given at create
  std::string platform = "linux";
  std::string driver;
  ContainerConfig config;  // merged with the image
  HostConfig host_config;
  Json networking_config;
  // The rootfs mounts prepare_container_rootfs returned ([{type, source,
  // options}]), handed to the monitor at every start.
  Json rootfs_mounts = Json::array();
  // Volumes, binds and --mount tmpfs as resolved at create (mount_plan.h).
  std::vector<ContainerMount> mounts;
};

std::string encode_stored_config(const StoredConfig& c);
Result<StoredConfig> decode_stored_config(std::string_view text);
std::string encode_state(const ContainerState& s);
Result<ContainerState> decode_state(std::string_view text);

// For tests and for api-style round trips.
Json container_config_to_json(const ContainerConfig& c);
Result<ContainerConfig> container_config_from_json(const Json& j);
Json host_config_to_json(const HostConfig& h);
Result<HostConfig> host_config_from_json(const Json& j);

}  // namespace berth::engine
