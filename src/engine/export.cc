// export: docker export, a tar of the whole root without other mounts.
#include "engine/export.h"

#include "engine/archive_internal.h"

namespace berth::engine {

Result<void> export_root(int root_fd, const ByteSinkFn& sink) {
  archive_internal::TreeOptions o;
  o.skip_mounts = true;
  o.skip_pseudo_fs = true;
  return archive_internal::write_tree(root_fd, ".", "", o, sink);
}

}  // namespace berth::engine
