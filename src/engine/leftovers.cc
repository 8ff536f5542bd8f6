// engine/leftovers.cc — reaping what a dead monitor's container left behind.
#include "engine/leftovers.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "base/file.h"
#include "base/strings.h"
#include "monitor/client.h"

namespace berth::engine {

std::vector<pid_t> monitors_of(const std::string& config_path) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    auto pid = parse_int(e->d_name);
    if (!pid || *pid <= 0) continue;
    auto cmdline = read_file(std::string("/proc/") + e->d_name + "/cmdline");
    if (cmdline && monitor::cmdline_is_monitor_of(*cmdline, config_path))
      out.push_back(static_cast<pid_t>(*pid));
  }
  ::closedir(d);
  return out;
}

Result<void> reap_container_leftovers(const cgroups::Layout& layout,
                                      const std::string& cgroups_path, const std::string& id,
                                      const std::string& runtime_state_dir) {
  auto cg = cgroups::make_manager(layout, cgroups_path, id);
  if (cg) {
    // A frozen cgroup holds SIGKILL pending: thaw first (errors only mean
    // there is no freezer state to undo).
    (void)(*cg)->thaw();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    Result<void> gone = (*cg)->destroy();
    while (!gone) {
      if (auto pids = (*cg)->pids()) {
        for (pid_t p : *pids) ::kill(p, SIGKILL);
      }
      if (std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      gone = (*cg)->destroy();
    }
    if (!gone) return gone.error().context("container " + id.substr(0, 12));
  }
  if (!runtime_state_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(runtime_state_dir, ec);
    if (ec) {
      return make_error(Errc::Io, "removing {}: {}", runtime_state_dir, ec.message());
    }
  }
  return {};
}

}  // namespace berth::engine
