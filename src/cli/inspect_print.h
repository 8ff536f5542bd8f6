// cli/inspect_print.h — the output of `inspect` commands (image, container,
// system-wide): each object's raw JSON re-indented in the daemon's key order
// as one array, or --format applied to each; errors for missing objects on
// stderr after the output, as docker prints them.
// Depends on: base, cli/context, cli/format.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "cli/context.h"

namespace berth::cli {

// Raw inspect JSON of one name, or the error message to print for it.
// Errc::Unavailable (daemon unreachable) ends the command with that error.
using InspectFetch = std::function<Result<std::string>(const std::string& name)>;

// Exit status: 0, 1 when some name failed, 64 for a bad --format template.
Result<int> print_inspect(Context& ctx, const std::vector<std::string>& names,
                          const std::string& format, const InspectFetch& fetch);

}  // namespace berth::cli
