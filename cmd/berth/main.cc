// berth: the docker-compatible CLI. A thin main over cli::run_app, which talks
// only to the Engine API (berthd or dockerd).
#include <csignal>
#include <string>
#include <vector>

#include "cli/app.h"

int main(int argc, char** argv) {
  // A closed pipe (`berth images | head -1`) ends the program quietly, as Go's
  // runtime does for stdout.
  std::signal(SIGPIPE, SIG_DFL);
  std::vector<std::string> args(argv + 1, argv + argc);
  return berth::cli::run_app(args);
}
