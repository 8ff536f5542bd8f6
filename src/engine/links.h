// engine/links.h — docker's legacy links (--link NAME[:ALIAS]): the pure
// parts (see local_containers_links.cc for how a start uses them).
// Depends on: base.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace berth::engine {

// "name" -> (name, name); "name:alias"; "/name:/self/alias" (an inspected
// HostConfig sent back) -> (name, alias). InvalidArgument "bad format for
// links: v" (or "empty string specified for links").
Result<std::pair<std::string, std::string>> parse_link(const std::string& v);

// The variables docker puts in a linking container on the default bridge:
// ALIAS_PORT (the lowest exposed port, tcp first), per port ALIAS_PORT_N_PROTO
// with _ADDR, _PORT, _PROTO (a run of three or more consecutive ports as
// _START/_END variables instead), ALIAS_NAME=/self/alias, and ALIAS_ENV_K for
// the linked container's env except HOME and PATH. ALIAS is upper case with
// '-' as '_'. `exposed`: "80/tcp" keys; `link_name`: "/self/alias".
std::vector<std::string> link_env(const std::string& alias, const std::string& link_name,
                                  const std::string& ip, const std::vector<std::string>& exposed,
                                  const std::vector<std::string>& child_env);

}  // namespace berth::engine
