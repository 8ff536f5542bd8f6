// cli/units.h — docker's human-readable units (go-units semantics), so berth's
// tables print the same strings as docker's: "4.26MB", "2 days ago".
// Depends on: std only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace berth::cli {

// go-units HumanSizeWithPrecision: decimal units (B, kB, MB, GB, TB, PB, EB,
// ZB, YB), `precision` significant digits in %g form ("4.26MB", "1e+03B").
std::string human_size(double bytes, int precision);
// go-units HumanSize: precision 4 (docker system df, progress numbers).
inline std::string human_size(double bytes) { return human_size(bytes, 4); }

// go-units HumanDuration of `seconds` (a Go time.Duration in seconds):
// "Less than a second", "1 second", "About a minute", "About an hour",
// "3 hours", "2 days", "3 weeks", "4 months", "2 years".
std::string human_duration(double seconds);

// "2 days ago": human_duration(now - unix) + " ago", as docker's CreatedSince.
std::string time_ago(int64_t unix_seconds, int64_t now_unix_seconds);

// Go's time.Time.String() of a unix time in the local zone:
// "2024-05-01 10:00:00 +0000 UTC" (docker's CreatedAt columns).
std::string go_time_string(int64_t unix_seconds);
// Go's time.Time.String() of a time decoded from an API "...Z" timestamp
// (network CreatedAt): UTC whatever the local zone, the fraction's trailing
// zeros dropped: "2024-05-01 10:00:00.5 +0000 UTC".
std::string go_time_string_utc_ns(int64_t unix_ns);
// RFC 3339 in the local zone, seconds precision: "2024-05-01T10:00:00Z" or
// "...+02:00" (docker history -H=false).
std::string rfc3339_local(int64_t unix_seconds);
// Go's RFC3339NanoFixed layout in the local zone:
// "2024-05-01T10:00:00.000000000Z" (docker events lines).
std::string rfc3339_nano_fixed_local(int64_t unix_ns);

// docker's formatter.Ellipsis: at most `max` runes, the last replaced by "…".
std::string ellipsis(const std::string& s, size_t max);

// Number of UTF-8 code points (Go's utf8.RuneCountInString).
size_t rune_count(std::string_view s);

}  // namespace berth::cli

namespace berth::cli {
// go-units BytesSize: binary units with 4 significant digits ("7.763GiB").
std::string bytes_size(double bytes);

// docker's timetypes.GetTimestamp for --since/--until: unix seconds
// ("1700000000", "1700000000.5") pass through; a Go duration ("10m",
// "1h30m") is now minus it; RFC 3339 date-times and "2006-01-02" dates
// (local time when no zone is given) become "seconds.nanoseconds".
// InvalidArgument for anything else.
Result<std::string> docker_timestamp(std::string_view value, int64_t now_unix_ns);
}  // namespace berth::cli
