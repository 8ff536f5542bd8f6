#include "cgroups/manager.h"

#include "cgroups/fs.h"
#include "cgroups/v1_manager.h"
#include "cgroups/v2_manager.h"

namespace berth::cgroups {

Result<std::unique_ptr<Manager>> make_manager(const Layout& layout, const std::string& cgroups_path,
                                              const std::string& id) {
  auto path = BERTH_TRY_CTX(clean_cgroup_path(cgroups_path, id), "linux.cgroupsPath");
  if (layout.version == Version::V2) {
    if (layout.unified_root.empty())
      return make_error(Errc::FailedPrecondition, "cgroup v2 layout without a unified mount");
    return std::unique_ptr<Manager>(std::make_unique<V2Manager>(layout.unified_root, path));
  }
  if (layout.v1_roots.empty())
    return make_error(Errc::FailedPrecondition, "cgroup v1 layout without mounted hierarchies");
  return std::unique_ptr<Manager>(std::make_unique<V1Manager>(layout.v1_roots, path));
}

}  // namespace berth::cgroups
