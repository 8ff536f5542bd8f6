// registry/endpoints.h — which base URLs serve a registry domain.
//
// origin_url: docker.io -> Options::hub_registry_url; otherwise
// "https://<domain>", or "http://<domain>" when the domain is insecure:
//   - listed in insecure_registries as "host:port" or "host" (exact,
//     case-insensitive), or
//   - its host is an IP literal inside a CIDR of insecure_registries, or
//   - its host is loopback (127.0.0.0/8, ::1, "localhost"), docker's default.
// Host names are not resolved for CIDR matching (no DNS in this decision).
// read_urls: the mirrors configured for the domain, in order, then the origin.
// Internal to registry/.
#pragma once

#include <string>
#include <vector>

#include "registry/client.h"

namespace berth::registry::detail {

struct Endpoint {
  std::string base;  // "https://host:port" (no trailing slash, may carry a path prefix)
  bool mirror = false;
};

bool is_insecure(const Options& o, const std::string& domain);
std::string origin_url(const Options& o, const std::string& domain);
std::vector<Endpoint> read_endpoints(const Options& o, const std::string& domain);

}  // namespace berth::registry::detail
