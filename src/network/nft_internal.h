// network/nft_internal.h — the libnftables runner behind apply_ruleset, for
// the module's tests (checking that nft's own error text comes back).
#pragma once

#include <string>

#include "base/result.h"

namespace berth::network {

// Runs `script` as one libnftables buffer (one transaction), serialised with
// apply_ruleset/remove_ruleset. Errors: "nftables: <nft's error output>",
// PermissionDenied when nft says "Operation not permitted", else Io.
Result<void> run_nft_script(const std::string& script);

}  // namespace berth::network
