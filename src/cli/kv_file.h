// cli/kv_file.h — docker's --env-file / --label-file reader (docker 28's
// rules and messages).
//
// Lines are split on '\n' (a trailing '\r' dropped); leading white space is
// trimmed; blank lines and lines starting with '#' are skipped. "KEY=VALUE"
// keeps VALUE verbatim (trailing spaces too); "KEY" alone becomes
// "KEY=<lookup(KEY)>" when lookup finds it and is dropped otherwise (label
// files pass no lookup, so a bare key is dropped, as docker does). A UTF-8
// BOM on the first line is ignored.
// Errors, each "invalid env file (<path>): ..." (docker says "env file" for
// label files too), except a file that cannot be opened ("open <path>: no
// such file or directory"):
//   variable '<k>' contains whitespaces
//   no variable name on line '<line>'
//   invalid utf8 bytes at line <n>: [<byte> <byte> ...]
//   read <path>: is a directory
// Depends on: base.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace berth::cli {

using KvLookup = std::function<std::optional<std::string>(const std::string&)>;

Result<std::vector<std::string>> read_kv_file(const std::string& path, const KvLookup& lookup);

// Go's utf8.Valid: well-formed UTF-8, no overlong forms, surrogates or
// code points past U+10FFFF.
bool valid_utf8(std::string_view s);

}  // namespace berth::cli
