// base/size.h — docker's human-readable byte sizes (go-units RAMInBytes).
//
// "<number>[ ][suffix]": the number is everything up to the last digit, '.'
// or space, read as a Go float ("1.5", "1e3"); the suffix, case-insensitive,
// is one of b, k m g t p (binary multiples), optionally followed by "b" or
// "ib" ("512m", "1.5GiB", "10 MB", "4k"). Errors carry go-units' messages,
// which docker prints after its own prefix:
//   no digit at all, or a negative number   invalid size: '<input>'
//   a malformed number                      strconv.ParseFloat: parsing "<n>": invalid syntax
//   an unknown suffix                       invalid suffix: '<suffix, lower case>'
// A value past int64 is "invalid size" too (go-units would wrap it).
// Depends on: base (Result).
#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace berth {

Result<int64_t> parse_ram_in_bytes(std::string_view s);

}  // namespace berth
