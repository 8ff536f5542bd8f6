// snapshot/open.cc — driver choice (recorded in root/.driver) and
// decompress_layer.
#include <sys/stat.h>

#include <cerrno>

#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"
#include "snapshot/drivers.h"
#include "snapshot/layer_reader.h"

namespace berth::snapshot {

namespace {

// The driver that made the snapshots under root: their on-disk form differs
// (overlay layers are diffs, copy snapshots full trees), so a root never
// switches driver while it holds snapshots.
constexpr const char* kDriverFile = "/.driver";

Result<std::unique_ptr<Snapshotter>> open_driver(const std::string& root, const std::string& d,
                                                 const SnapshotterOptions& opts) {
  if (d == "copy") {
    auto s = BERTH_TRY(CopySnapshotter::open(root, opts));
    return std::unique_ptr<Snapshotter>(std::move(s));
  }
  auto s = BERTH_TRY(OverlaySnapshotter::open(root, opts));
  auto p = s->probe();
  if (!p)
    return std::move(p).error().context(
        fmt::format("storage driver overlayfs is not usable on {}", root));
  return std::unique_ptr<Snapshotter>(std::move(s));
}

}  // namespace

Result<std::unique_ptr<Snapshotter>> open_snapshotter(const std::string& root,
                                                      const std::string& force,
                                                      const SnapshotterOptions& opts) {
  std::string want = force;
  if (want == "overlay2" || want == "overlay") want = "overlayfs";  // docker's names
  if (want == "vfs") want = "copy";
  if (!want.empty() && want != "overlayfs" && want != "copy")
    return make_error(Errc::InvalidArgument,
                      "unknown storage driver \"{}\" (supported: overlayfs, copy)", force);
  std::string recorded;
  if (auto f = read_file(root + kDriverFile)) {
    recorded = std::string(trim(*f));
  } else if (f.error().code != Errc::NotFound) {
    return f.error();
  }
  std::unique_ptr<Snapshotter> s;
  if (!recorded.empty() && (want.empty() || want == recorded)) {
    s = BERTH_TRY(open_driver(root, recorded, opts));
  } else if (!want.empty()) {
    s = BERTH_TRY(open_driver(root, want, opts));
    if (!recorded.empty() && !BERTH_TRY(s->list()).empty())
      return make_error(Errc::FailedPrecondition,
                        "storage driver {} requested but {} holds snapshots made by {}", want, root,
                        recorded);
  } else {
    auto ov = open_driver(root, "overlayfs", opts);
    if (ov) {
      s = std::move(*ov);
    } else {
      log_info("snapshots: {}; using the copy driver", ov.error().message);
      s = BERTH_TRY(open_driver(root, "copy", opts));
    }
  }
  if (recorded != s->name())
    BERTH_TRY(write_file_atomic(root + kDriverFile, std::string(s->name()) + "\n"));
  return s;
}

Result<Digest> decompress_layer(ByteSource src,
                                const std::function<Result<void>(std::string_view)>& sink) {
  return stream_uncompressed(std::move(src), sink);
}

}  // namespace berth::snapshot
