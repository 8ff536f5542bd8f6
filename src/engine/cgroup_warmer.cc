#include "engine/cgroup_warmer.h"

#include <unistd.h>

#include <chrono>

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

void CgroupWarmer::poke() {
  if (file_.empty() || queued_.exchange(true)) return;
  helper_.add([this] { write_once(); });
}

void CgroupWarmer::write_once() {
  queued_ = false;  // a poke from now on asks for another write
  // The whole thread group into the cgroup it is in: the kernel takes the
  // write lock (a pid of 0 would skip it) and moves nothing.
  auto t0 = std::chrono::steady_clock::now();
  auto r = write_file(file_, std::to_string(::getpid()), /*create=*/false);
  auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  // A slow write is the grace period this thread took off a start's path.
  if (r && us >= 1000) log_debug("cgroup warm-up write took {:.1f} ms", us / 1000.0);
  if (!r && !last_failed_) log_debug("cgroup warm-up write to {}: {}", file_, r.error().message);
  last_failed_ = !r;
  ++writes_;
}

}  // namespace berth::engine
