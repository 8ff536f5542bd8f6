// engine/container_filters.h — docker's /containers/json filters.
//
// Keys: id (unanchored regex, so a prefix works), name (substring/regexp as docker: unanchored
// regex on the name without "/"), label (key or key=value), status (created, restarting, running,
// removing, paused, exited, dead), ancestor (image as given, its id or id prefix, or a reference
// resolving to the same id), exited (exit code; only exited containers), health (starting, healthy,
// unhealthy, none), before/since (a container name or id; by creation
// order), plus docker's network (a network the container is on, by name or
// id prefix, or its network mode), is-task (always false), volume (name,
// source or destination), publish and expose ("80", "80/udp", "8000-8100":
// a configured container port in HostConfig.PortBindings / Config.ExposedPorts).
// Errors, docker's wording: unknown key -> InvalidArgument "invalid filter
// 'x'"; a port value with ':' -> "filter for 'publish' should not contain
// ':': v", a bad port -> "error while looking up for publish v: ...";
// bad status -> "Invalid filter 'status=x'"; bad health ->
// "Unrecognised filter value for health: x"; bad exited -> "invalid filter
// 'exited=x'"; unknown before/since container -> NotFound "No such
// container: x" (from the resolver).
// Depends on: base, engine/containers.h.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/containers.h"

namespace berth::engine {

using FilterArgs = std::map<std::string, std::vector<std::string>>;

struct FilterResolvers {
  // A container name/id -> its summary (for before/since; the engine
  // answers NotFound "No such container: x").
  std::function<Result<ContainerSummary>(const std::string&)> container;
  // An image reference -> image id ("sha256:..."), nullopt when unknown
  // (then ancestor only matches the image string as given).
  std::function<std::optional<std::string>(const std::string&)> image_id;
  // Creation order for before/since (larger = newer). Empty: created * 1e9.
  std::function<int64_t(const ContainerSummary&)> order_key;
};

class ContainerFilter {
 public:
  // Validates and pre-resolves (regexes compiled, before/since looked up).
  static Result<ContainerFilter> parse(const FilterArgs& args, const FilterResolvers& r);

  bool matches(const ContainerSummary& c) const;
  bool empty() const { return args_.empty(); }
  // A status filter lists stopped containers without -a, as docker's does;
  // exited does not (`ps --filter exited=0` needs -a there too).
  bool implies_all() const;

 private:
  FilterArgs args_;
  std::vector<std::regex> name_res_, id_res_;
  std::vector<std::string> ancestor_ids_;  // resolved image ids, parallel to args_["ancestor"]
  std::function<int64_t(const ContainerSummary&)> order_key_;
  std::optional<int64_t> before_key_, since_key_;
  std::vector<std::string> publish_, expose_;  // expanded "port/proto" keys
};

// Only the keys and values, without resolving (api/server may call it early).
Result<void> validate_container_filters(const FilterArgs& args);

}  // namespace berth::engine
