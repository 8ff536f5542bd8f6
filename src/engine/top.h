// engine/top.h — docker top: runs the host's `ps` and keeps the rows of the
// container's processes.
//
// ps_args "" = "-ef"; split on spaces and passed to ps (no shell). As
// docker does, ps first runs with "-q <pids>" appended and, when the given
// options do not combine with -q, once more without it. Docker's checks and
// messages: args of the form "x=PID" other than "pid=PID" are refused
// (InvalidArgument `specifying "x=PID" is not allowed`); ps failing is
// Errc::Internal "ps: <first line of ps's stderr>" (docker answers 500);
// output without a PID column is Internal "Couldn't find PID field in ps
// output".
// Depends on: base, engine/containers.h.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/containers.h"

namespace berth::engine {

Result<void> validate_ps_args(std::string_view ps_args);

// Pure: the header line gives the titles; rows whose PID column is in
// `pids` are kept; the last column takes the rest of the line (COMMAND/CMD
// with spaces).
Result<TopResult> parse_ps_output(std::string_view output, const std::vector<pid_t>& pids);

// Runs ps (bounded: 10 s) and parses its output.
Result<TopResult> run_top(std::string_view ps_args, const std::vector<pid_t>& pids,
                          const std::string& ps_binary = "ps");

}  // namespace berth::engine
