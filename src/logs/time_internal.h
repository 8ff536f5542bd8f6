// logs/time_internal.h — allocation-free time helpers shared by the writer
// (formats into a stack buffer per entry) and the reader (parses per line).
// Internal to the logs module.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace berth::logs {

// "2026-11-29T20:56:54.123456789Z" is 30 bytes.
inline constexpr size_t kMaxTimeLen = 32;

// Writes format_time(unix_ns) into out (>= kMaxTimeLen bytes), returns the length.
// fixed: all 9 fraction digits (docker's RFC3339NanoFixed) instead of trimmed.
size_t format_time_buf(int64_t unix_ns, char* out, bool fixed = false);

// RFC 3339 with optional fraction (1..9+ digits, extra digits ignored) and
// 'Z' or a numeric offset; false when malformed.
bool parse_time_fast(std::string_view s, int64_t& out);

}  // namespace berth::logs
