// cli/port_spec.h — docker's `-p/--publish` and `--expose` syntax, turned
// into the API's PortBindings and ExposedPorts.
//
// -p [ip:][hostPort:]containerPort[/proto]: ip may be IPv4 or [IPv6];
// containerPort may be a range "80-81", then a hostPort range must have the
// same length (pairs are bound one to one) or be absent; a hostPort range
// with a single containerPort is passed on as is (the daemon takes the first
// free port of it); proto tcp (default), udp or sctp. Errors are
// InvalidArgument with docker's wording ("invalid containerPort: x",
// "invalid hostPort: x", "invalid IP address: x", "invalid proto: x",
// "invalid ranges specified for container and host Ports").
// Depends on: base.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace berth::cli {

struct PublishedPort {
  std::string port;  // "80/tcp" (the PortBindings / ExposedPorts key)
  std::string host_ip;
  std::string host_port;  // "" = any, "8080", or "8000-8010"
};

Result<std::vector<PublishedPort>> parse_publish(const std::string& spec);

// --expose 80, 80/udp, 8000-8002 -> {"80/tcp"}, ... (docker's rules).
Result<std::vector<std::string>> parse_expose(const std::string& spec);

}  // namespace berth::cli
