// snapshot/drivers.h — the two Snapshotter implementations (internal;
// callers use open_snapshotter()).
#pragma once

#include <memory>

#include "snapshot/store.h"

namespace berth::snapshot {

// Layers in overlay form, each in its own <key>/fs; mounted as one overlay.
class OverlaySnapshotter final : public SnapshotStore {
 public:
  static Result<std::unique_ptr<OverlaySnapshotter>> open(const std::string& root,
                                                          const SnapshotterOptions& opts);
  const char* name() const override { return "overlayfs"; }
  bool independent_layers() const override { return true; }
  Result<ApplyResult> apply_layer(const std::string& parent_key, ByteSource src) override;
  Result<std::vector<std::string>> layer_dirs(
      const std::vector<std::string>& keys_bottom_first) const override;
  Result<std::vector<Mount>> prepare_rw(const std::string& rw_key,
                                        const std::vector<std::string>& keys_bottom_first,
                                        Durability d = Durability::Durable) override;
  Result<std::string> changes_dir(const std::string& rw_key) const override;
  // Mounts a 1-layer overlay under root/tmp whose whiteout must hide a
  // lower file, then unmounts it: proves overlay works on this filesystem
  // with the privileges we have.
  Result<void> probe();
};

// Each snapshot is a full tree: parent copied, layer applied, whiteouts
// deleted.
class CopySnapshotter final : public SnapshotStore {
 public:
  static Result<std::unique_ptr<CopySnapshotter>> open(const std::string& root,
                                                       const SnapshotterOptions& opts);
  const char* name() const override { return "copy"; }
  Result<ApplyResult> apply_layer(const std::string& parent_key, ByteSource src) override;
  Result<std::vector<std::string>> layer_dirs(
      const std::vector<std::string>& keys_bottom_first) const override;
  Result<std::vector<Mount>> prepare_rw(const std::string& rw_key,
                                        const std::vector<std::string>& keys_bottom_first,
                                        Durability d = Durability::Durable) override;
};

}  // namespace berth::snapshot
