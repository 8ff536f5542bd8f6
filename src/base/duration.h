// base/duration.h — Go's time.ParseDuration, which docker's flags, API
// parameters and Dockerfile instructions (HEALTHCHECK --interval) use.
// Depends on: std, fmt.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace berth {

// "1h30m", "250ms", "2h45m10.5s", "-1s", "0" in ns. InvalidArgument
// "invalid duration \"x\"" (naming the unit when it is unknown).
Result<int64_t> parse_go_duration(std::string_view s);

}  // namespace berth
