// base/clock.h — wall-clock timestamps in the formats berth writes.
#pragma once

#include <string>

namespace berth {

// Current UTC time, RFC 3339 with nanoseconds: "2026-11-29T16:53:49.123456789Z"
// (the form runc and docker use in state files and logs).
std::string now_rfc3339();

}  // namespace berth
