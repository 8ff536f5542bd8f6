// api/types/time.h — the time formats of the Docker Engine API.
// Depends on: base.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/duration.h"
#include "base/result.h"

namespace berth::api {

// Go's RFC3339Nano as docker writes it: UTC, trailing zeros of the fraction
// dropped ("2024-05-01T10:00:00.5Z", "2024-05-01T10:00:00Z"). ns <= 0 gives
// Go's zero time "0001-01-01T00:00:00Z" (docker's "never").
std::string format_rfc3339_nano(int64_t unix_ns);

// docker's `since`/`until` values (events, prune, logs), to unix ns:
//   "1700000000", "1700000000.123456789"  unix seconds (fraction optional)
//   "10m", "1h30m", "45s"                 a Go duration before now_ns
//   "2024-05-01T10:00:00Z", "...+02:00", "...123Z", "2024-05-01"  RFC 3339 / date (UTC)
// InvalidArgument naming `what` (the parameter) otherwise.
Result<int64_t> parse_timestamp(std::string_view s, int64_t now_ns, std::string_view what);

// Go durations: base's parser (also used by the engine's builder).
using berth::parse_go_duration;

int64_t now_unix_ns();

}  // namespace berth::api
