// runtime/features.h — the "Features structure" of runtime-spec 1.1
// (features.md, features-linux.md) that `berth-runtime features` prints.
//
// The document describes what this runtime recognises, not what the host
// supports (the one exception, as in the spec, is seccomp.supportedFlags,
// which is probed on the running kernel and libseccomp).
// Depends on: base, oci, runtime/seccomp, runtime/capabilities.
#pragma once

#include "base/json.h"

namespace berth::runtime {

// Never fails; the keys are spelled as in the spec (ociVersionMin, ...).
Json features_json();

}  // namespace berth::runtime
