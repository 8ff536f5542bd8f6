#include "engine/cgroup_warmer.h"

#include <unistd.h>

#include <chrono>
#include <system_error>

#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"

namespace berth::engine {

std::string own_procs_file(const cgroups::Layout& layout, std::string_view proc_cgroup) {
  // Lines: "hierarchy-id:controller,list:/path" (v2: "0::/path").
  std::string v2_path;
  for (const auto& line : split(std::string(proc_cgroup), '\n', /*skip_empty=*/true)) {
    auto a = line.find(':');
    auto b = a == std::string::npos ? std::string::npos : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (path.empty() || path[0] != '/') continue;
    if (controllers.empty()) {
      v2_path = path;
      continue;
    }
    if (layout.version != cgroups::Version::V1) continue;
    for (const auto& c : split(controllers, ',', /*skip_empty=*/true)) {
      auto it = layout.v1_roots.find(c);
      if (it == layout.v1_roots.end()) continue;
      return it->second + (path == "/" ? "" : path) + "/cgroup.procs";
    }
  }
  if (!v2_path.empty() && !layout.unified_root.empty())
    return layout.unified_root + (v2_path == "/" ? "" : v2_path) + "/cgroup.procs";
  return "";
}

CgroupWarmer::CgroupWarmer(std::string procs_file) : file_(std::move(procs_file)) {}

CgroupWarmer::~CgroupWarmer() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CgroupWarmer::poke() {
  if (file_.empty()) return;
  std::lock_guard lk(mu_);
  if (stop_) return;
  if (!thread_.joinable()) {
    try {
      thread_ = std::thread([this] { loop(); });
    } catch (const std::system_error&) {
      return;  // only a latency hint: nothing is lost without it
    }
  }
  pending_ = true;
  cv_.notify_all();
}

uint64_t CgroupWarmer::writes() const {
  std::lock_guard lk(mu_);
  return writes_;
}

bool CgroupWarmer::last_failed() const {
  std::lock_guard lk(mu_);
  return last_failed_;
}

void CgroupWarmer::wait_idle() {
  std::unique_lock lk(mu_);
  idle_cv_.wait(lk, [&] { return (!pending_ && !busy_) || stop_; });
}

void CgroupWarmer::loop() {
  const std::string pid = std::to_string(::getpid());
  std::unique_lock lk(mu_);
  while (true) {
    cv_.wait(lk, [&] { return stop_ || pending_; });
    if (stop_) break;
    pending_ = false;
    busy_ = true;
    lk.unlock();
    // The whole thread group into the cgroup it is in: the kernel takes the
    // write lock (a pid of 0 would skip it) and moves nothing.
    auto t0 = std::chrono::steady_clock::now();
    auto r = write_file(file_, pid, /*create=*/false);
    auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    // A slow write is the grace period this thread took off a start's path.
    if (r && us >= 1000) log_debug("cgroup warm-up write took {:.1f} ms", us / 1000.0);
    lk.lock();
    busy_ = false;
    ++writes_;
    if (!r && !last_failed_) log_debug("cgroup warm-up write to {}: {}", file_, r.error().message);
    last_failed_ = !r;
    if (!pending_) idle_cv_.notify_all();
  }
  idle_cv_.notify_all();
}

}  // namespace berth::engine
