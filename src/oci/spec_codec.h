// oci/spec_codec.h — JSON codec and validation for oci::Spec and oci::State.
//
// parse_spec never throws. Errors are InvalidArgument and name the field by
// its JSON path, e.g. "config.json: process.args[1]: expected string, got number".
// Unknown fields are ignored (the spec allows extensions).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "oci/spec.h"

namespace berth::oci {

// Decodes config.json text. `what` prefixes errors (usually "config.json").
Result<Spec> parse_spec(std::string_view text, std::string_view what = "config.json");
Result<Spec> spec_from_json(const Json& j, std::string_view what = "config.json");
Json spec_to_json(const Spec& s);

// Semantic checks that need no filesystem: ociVersion is "1.MINOR.PATCH"
// (pre-release/build suffixes allowed); root and process present; root.path
// non-empty; process.args non-empty; process.cwd absolute; namespace types
// known and not repeated, paths absolute; mount destinations absolute;
// rlimit types known, not repeated, soft <= hard; hook paths absolute and
// timeouts > 0; uid/gid mappings present iff a new user namespace is
// requested; hostname/domainname only with a uts namespace; device, device
// rule, propagation, ioPriority, scheduler and personality values well formed.
// Capability names and seccomp actions/architectures/operators are checked
// only for shape here (non-empty); the runtime resolves them with
// libcap/libseccomp. Errors are InvalidArgument "config.json: <path>: ...".
Result<void> validate_spec(const Spec& s);

// runc's `spec` default: busybox-friendly "sh" process, terminal=true,
// the default mounts, masked/readonly paths, pid/network/ipc/uts/mount
// namespaces (and user with mappings when rootless).
Spec default_spec(bool rootless);

Json state_to_json(const State& s);
Result<State> parse_state(std::string_view text);

// Known names, shared with validation and `berth-runtime features`.
const std::vector<std::string>& known_namespaces();
const std::vector<std::string>& known_rlimits();
// Maps "RLIMIT_NOFILE" -> RLIMIT_NOFILE; -1 when unknown.
int rlimit_from_name(std::string_view name);

}  // namespace berth::oci
