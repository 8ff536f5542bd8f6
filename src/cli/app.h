// cli/app.h — the `berth` command line: global flags, docker's verbs and
// their aliases, help, and docker's exit codes (0 ok; 1 for errors from the
// daemon, a bad argument count and other failures; 125 for flag errors; 64
// for a bad inspect template).
// Depends on: cli/*.
#pragma once

#include <string>
#include <vector>

namespace berth::cli {

class Context;

// Runs `berth ARGS...` (args without the program name) and returns the exit
// status. Output goes to stdout/stderr.
int run_app(const std::vector<std::string>& args);

}  // namespace berth::cli
